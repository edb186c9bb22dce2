// NativeBackend: the one class exposed to JS. It owns a TaskQueue (one worker thread), the
// kernels' scratch memory and a thread-safe function that settles read/sync Promises
// (native_reads.cpp; the compute methods are in native_ops.cpp and native_fused.cpp).
//
// Buffers are Napi::External<BufferHandle> values, type-tagged so that no other external can
// be mistaken for one. Every compute method checks its arguments (cheaply: JS has validated
// them already), allocates its outputs at once, captures the storages it touches in a task
// and pushes it; it returns the output handles without waiting.
//
// Failures (guard.h): what fails during the call itself (a bad argument, an output that
// cannot be allocated) throws a JS error from that call; what fails in a queued task (kernel
// scratch) rejects the next read/sync. Nothing aborts the process.
#pragma once
#include <napi.h>

#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "guard.h"
#include "sequence.h"
#include "storage.h"
#include "task_queue.h"
#include "team.h"

namespace recur {

struct Signal;

class NativeBackend : public Napi::ObjectWrap<NativeBackend> {
 public:
  static Napi::Function Init(Napi::Env env);
  explicit NativeBackend(const Napi::CallbackInfo& info);
  ~NativeBackend() override;

 private:
  friend struct Signal;

  // Every method registered in Init runs through this: any C++ exception becomes a thrown JS
  // error (guard.h) instead of reaching Node-API, where node-addon-api would let anything but
  // a Napi::Error through to std::terminate.
  template <Napi::Value (NativeBackend::*Method)(const Napi::CallbackInfo&)>
  Napi::Value Guarded(const Napi::CallbackInfo& info) {
    try {
      return (this->*Method)(info);
    } catch (const Napi::Error&) {
      throw;  // already a JS error
    } catch (...) {
      throw toJsError(info.Env(), std::current_exception());
    }
  }
  // The constructor's body (the constructor guards it like Guarded).
  void Start(const Napi::CallbackInfo& info);

  // memory
  Napi::Value Upload(const Napi::CallbackInfo& info);
  Napi::Value Fill(const Napi::CallbackInfo& info);
  Napi::Value Release(const Napi::CallbackInfo& info);
  Napi::Value Read(const Napi::CallbackInfo& info);
  // Blocks the JS thread until the worker reaches the read (the Backend's `blocking.read`).
  Napi::Value ReadBlocking(const Napi::CallbackInfo& info);
  Napi::Value Sync(const Napi::CallbackInfo& info);
  Napi::Value Destroy(const Napi::CallbackInfo& info);
  Napi::Value Threads(const Napi::CallbackInfo& info);
  Napi::Value Blas(const Napi::CallbackInfo& info);
  // dense math
  Napi::Value Gemm(const Napi::CallbackInfo& info);
  Napi::Value Unary(const Napi::CallbackInfo& info);
  Napi::Value Binary(const Napi::CallbackInfo& info);
  Napi::Value SumTo(const Napi::CallbackInfo& info);
  Napi::Value SumOfSquares(const Napi::CallbackInfo& info);
  // data movement
  Napi::Value Permute(const Napi::CallbackInfo& info);
  Napi::Value Concat(const Napi::CallbackInfo& info);
  Napi::Value Slice(const Napi::CallbackInfo& info);
  Napi::Value GatherRows(const Napi::CallbackInfo& info);
  Napi::Value ScatterAddRows(const Napi::CallbackInfo& info);
  // fused kernels
  Napi::Value CellForward(const Napi::CallbackInfo& info);
  Napi::Value CellBackward(const Napi::CallbackInfo& info);
  Napi::Value SoftmaxCrossEntropy(const Napi::CallbackInfo& info);
  Napi::Value OptimizerStep(const Napi::CallbackInfo& info);
  Napi::Value SequenceForward(const Napi::CallbackInfo& info);
  Napi::Value SequenceBackward(const Napi::CallbackInfo& info);
  Napi::Value SequenceStackForward(const Napi::CallbackInfo& info);

  // helpers
  Napi::Value Wrap(Napi::Env env, const StoragePtr& storage);
  StoragePtr Take(const Napi::Value& value, const char* name, size_t length);
  StoragePtr TakeAny(const Napi::Value& value, const char* name);
  StoragePtr TakeOptional(const Napi::Value& value, const char* name, size_t length);
  // Runs `task` at once on the JS thread when it is small (`work` multiply-adds or element
  // visits below kInlineWork) and the queue is idle; otherwise queues it for the worker.
  // `label` (the calling method's name) keys the optional profile (RECUR_PROFILE=1).
  void Enqueue(Napi::Env env, TaskQueue::Task task, size_t work = SIZE_MAX, const char* label = __builtin_FUNCTION());
  Napi::Value Wait(Napi::Env env, StoragePtr source, size_t length);
  // A new ArrayBuffer of `bytes` for read; throws OutOfMemory when it cannot be had.
  static Napi::ArrayBuffer ReadTarget(Napi::Env env, size_t bytes);
  void Settled(Napi::Env env);
  void Shutdown();
  static void CleanupHook(void* self);

  std::unique_ptr<TaskQueue> queue_;
  std::unique_ptr<Team> team_;
  Workspace ws_;
  int threads_ = 1;
  Napi::ThreadSafeFunction tsfn_;
  size_t waiting_ = 0;
  bool destroyed_ = false;
  bool tsfnReleased_ = false;
  bool envClosing_ = false;
  napi_env env_ = nullptr;
  // RECUR_PROFILE=1: seconds and calls per method, summed on whichever thread ran the task
  // (never two at once), printed to stderr by destroy().
  struct ProfileEntry {
    double seconds = 0;
    size_t calls = 0;
  };
  std::shared_ptr<std::map<std::string, ProfileEntry>> profile_;
  void PrintProfile();
};

}  // namespace recur
