// Module entry point: exports the NativeBackend class and build facts.
#include <napi.h>

#include "guard.h"
#include "native_backend.h"
#include "op_tables.h"
#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace {
// Bytes the C/C++ heap has handed out (in use), for memory tests; -1 where unknown.
Napi::Value MallocInUse(const Napi::CallbackInfo& info) {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
  struct mallinfo2 m = mallinfo2();
  return Napi::Number::New(info.Env(), static_cast<double>(m.uordblks + m.hblkhd));
#else
  return Napi::Number::New(info.Env(), -1);
#endif
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("NativeBackend", recur::NativeBackend::Init(env));
  exports.Set("mallocInUse", Napi::Function::New(env, MallocInUse, "mallocInUse"));
  exports.Set("tables", recur::OpTables(env));
  exports.Set("setErrorClasses", Napi::Function::New(env, recur::SetErrorClasses, "setErrorClasses"));
#ifdef RECUR_OPENMP
  exports.Set("openmp", Napi::Boolean::New(env, true));
#else
  exports.Set("openmp", Napi::Boolean::New(env, false));
#endif
#if defined(__AVX2__) && defined(__FMA__)
  exports.Set("simd", Napi::String::New(env, "avx2+fma"));
#else
  exports.Set("simd", Napi::String::New(env, "baseline"));
#endif
#if defined(__SANITIZE_ADDRESS__)
  exports.Set("sanitized", Napi::Boolean::New(env, true));
#else
  exports.Set("sanitized", Napi::Boolean::New(env, false));
#endif
  return exports;
}
}  // namespace

NODE_API_MODULE(recur_native, Init)
