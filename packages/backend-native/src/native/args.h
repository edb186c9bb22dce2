// Reading Node-API arguments in the NativeBackend bindings: every size, index and op code is
// checked here again (JS has validated it already) and a bad one throws a JS Error, never
// aborts. Shared by the binding files native_backend.cpp, native_ops.cpp and native_fused.cpp.
#pragma once
#include <napi.h>

#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include "cells.h"
#include "guard.h"

namespace recur {
namespace args {

constexpr size_t kMaxElements = static_cast<size_t>(1) << 31;  // gemm dimensions are int

[[noreturn]] inline void fail(Napi::Env env, const std::string& message) { throw codedError(env, message, kInvalidArgumentCode); }

[[noreturn]] inline void destroyed(Napi::Env env) { throw codedError(env, "the backend was destroyed", kDestroyedCode); }

inline size_t dim(const Napi::Value& v, const char* name, size_t max = kMaxElements) {
  if (!v.IsNumber()) fail(v.Env(), std::string(name) + " must be a number");
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= 0) || d != std::floor(d) || d > static_cast<double>(max)) fail(v.Env(), std::string(name) + " must be an integer in [0, " + std::to_string(max) + "]");
  return static_cast<size_t>(d);
}

inline double number(const Napi::Value& v, const char* name) {
  if (!v.IsNumber()) fail(v.Env(), std::string(name) + " must be a number");
  return v.As<Napi::Number>().DoubleValue();
}

inline bool flag(const Napi::Value& v) { return v.IsBoolean() ? v.As<Napi::Boolean>().Value() : false; }

inline std::vector<int64_t> dims(const Napi::Value& v, const char* name) {
  if (!v.IsArray()) fail(v.Env(), std::string(name) + " must be an array of integers");
  Napi::Array a = v.As<Napi::Array>();
  std::vector<int64_t> out(a.Length());
  for (uint32_t i = 0; i < a.Length(); i++) out[i] = static_cast<int64_t>(dim(a.Get(i), name));
  return out;
}

inline size_t product(const std::vector<int64_t>& shape, Napi::Env env) {
  size_t p = 1;
  for (int64_t d : shape) {
    p *= static_cast<size_t>(d);
    if (p > kMaxElements) fail(env, "shape too large");
  }
  return p;
}

inline size_t checkedProduct(Napi::Env env, std::initializer_list<size_t> factors) {
  size_t p = 1;
  for (size_t f : factors) {
    if (f != 0 && p > kMaxElements / f) fail(env, "sizes too large");
    p *= f;
  }
  return p;
}

inline std::vector<int32_t> int32s(const Napi::Value& v, const char* name) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_int32_array) fail(v.Env(), std::string(name) + " must be an Int32Array");
  Napi::Int32Array a = v.As<Napi::Int32Array>();
  return std::vector<int32_t>(a.Data(), a.Data() + a.ElementLength());
}

inline CellKind cellKind(const Napi::Value& v) {
  const size_t k = dim(v, "kind", static_cast<size_t>(CellKind::Count) - 1);
  return static_cast<CellKind>(k);
}

}  // namespace args
}  // namespace recur
