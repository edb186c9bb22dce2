// Turning C++ failures into JS errors: the addon never lets an exception reach Node (which
// would std::terminate the process) and never aborts on bad input.
//
// Every JS-callable method of NativeBackend runs inside NativeBackend::Guarded, which catches
// everything and throws the JS error made here; failures of queued tasks are caught by the
// TaskQueue and made into the same errors when read/sync settles. The errors are instances of
// @recur/core's typed error classes, which TypeScript registers once when the addon loads
// (`setErrorClasses`; until then, and if that fails, plain Errors): made here, they need no
// JavaScript wrapper around every engine call, which cost about 5 µs per generated token on the
// single-sequence inference path. Each also carries a `code`:
//   RECUR_OUT_OF_MEMORY      an allocation failed; `bytes` is the size asked for, where known
//   RECUR_INVALID_ARGUMENT   an argument that TypeScript's validation should have refused
//   RECUR_BACKEND_DESTROYED  a call after destroy()
//   RECUR_NATIVE_ERROR       any other C++ exception (thread start failure, ...)
#pragma once
#include <napi.h>

#include <exception>
#include <string>

namespace recur {

constexpr const char* kOutOfMemoryCode = "RECUR_OUT_OF_MEMORY";
constexpr const char* kInvalidArgumentCode = "RECUR_INVALID_ARGUMENT";
constexpr const char* kDestroyedCode = "RECUR_BACKEND_DESTROYED";
constexpr const char* kNativeErrorCode = "RECUR_NATIVE_ERROR";

// Registers the error classes (an object { outOfMemory, destroyed, backendError } of
// constructors taking a message) used by codedError from then on, for this environment.
Napi::Value SetErrorClasses(const Napi::CallbackInfo& info);

// An error with message "recur native: <message>" and the given code: an OutOfMemoryError,
// BackendDestroyedError or BackendError (by code) once the classes are registered.
Napi::Error codedError(Napi::Env env, const std::string& message, const char* code);

// The JS error for `failure` (a std::exception_ptr from a catch block or the task queue).
// A Napi::Error (already a JS error) is returned as it is; `context` prefixes the message of
// the others ("a queued sequenceForward failed: "). May itself throw when even a small
// allocation fails; the node-addon-api backstop (see CMakeLists.txt) then still makes that a
// plain JS Error.
Napi::Error toJsError(Napi::Env env, const std::exception_ptr& failure, const std::string& context = std::string());

}  // namespace recur
