#include "guard.h"

#include <cstring>
#include <new>
#include <stdexcept>
#include <system_error>

#include "memory.h"

namespace recur {
namespace {
struct ErrorClasses {
  Napi::FunctionReference outOfMemory, destroyed, backendError;
};
}  // namespace

Napi::Value SetErrorClasses(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsObject()) throw codedError(env, "setErrorClasses: expected an object of error classes", kInvalidArgumentCode);
  Napi::Object classes = info[0].As<Napi::Object>();
  const auto take = [&](const char* name) {
    Napi::Value value = classes.Get(name);
    if (!value.IsFunction()) throw codedError(env, std::string("setErrorClasses: ") + name + " must be a class", kInvalidArgumentCode);
    return Napi::Persistent(value.As<Napi::Function>());
  };
  env.SetInstanceData(new ErrorClasses{take("outOfMemory"), take("destroyed"), take("backendError")});
  return env.Undefined();
}

Napi::Error codedError(Napi::Env env, const std::string& message, const char* code) {
  const std::string text = "recur native: " + message;
  ErrorClasses* classes = env.GetInstanceData<ErrorClasses>();
  Napi::Error error;
  if (classes) {
    Napi::FunctionReference& type = std::strcmp(code, kOutOfMemoryCode) == 0 ? classes->outOfMemory
                                    : std::strcmp(code, kDestroyedCode) == 0 ? classes->destroyed
                                                                             : classes->backendError;
    error = Napi::Error(env, type.New({Napi::String::New(env, text)}));
  } else {
    error = Napi::Error::New(env, text);
  }
  error.Set("code", Napi::String::New(env, code));
  return error;
}

Napi::Error toJsError(Napi::Env env, const std::exception_ptr& failure, const std::string& context) {
  if (!failure) return codedError(env, context + "an unknown failure", kNativeErrorCode);
  // Rethrown to dispatch on its type: exception_ptr offers no other way to look inside.
  try {
    std::rethrow_exception(failure);
  } catch (const Napi::Error& e) {
    return e;
  } catch (const OutOfMemory& e) {
    Napi::Error error = codedError(env, context + e.what(), kOutOfMemoryCode);
    error.Set("bytes", Napi::Number::New(env, static_cast<double>(e.bytes())));
    return error;
  } catch (const std::bad_alloc& e) {
    // An allocation not made through memory.h (a small one, in a library): size unknown.
    return codedError(env, context + "out of memory (" + e.what() + ")", kOutOfMemoryCode);
  } catch (const std::length_error& e) {
    // A container asked for more elements than it can ever hold: an allocation that cannot be made.
    return codedError(env, context + "out of memory: a size past what the C++ library can allocate (" + e.what() + ")", kOutOfMemoryCode);
  } catch (const std::system_error& e) {
    return codedError(env, context + e.what() + " (" + e.code().category().name() + " error " + std::to_string(e.code().value()) + ")",
                      kNativeErrorCode);
  } catch (const std::exception& e) {
    return codedError(env, context + e.what(), kNativeErrorCode);
  } catch (...) {
    return codedError(env, context + "an exception that is not a std::exception", kNativeErrorCode);
  }
}

}  // namespace recur
