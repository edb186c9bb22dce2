// How values come back to JS: `read` and `sync` return Promises settled on the JS thread,
// through the thread-safe function, once the queue has run up to them; `readBlocking` (the
// Backend's `blocking.read`) instead blocks the JS thread until the worker reaches it. Both copy
// at their place in the queue and report the first failure of the tasks before them, as the
// same typed error.
#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "args.h"
#include "native_backend.h"

namespace recur {

using namespace args;

// A pending read/sync: settled on the JS thread through the thread-safe function.
struct Signal {
  NativeBackend* owner;
  Napi::Promise::Deferred deferred;
  Napi::Reference<Napi::ArrayBuffer> target;  // read only
  float* dest = nullptr;
  size_t length = 0;
  TaskQueue::Failure failure;  // the first failure of the tasks before it, if any

  // Called by Node-API outside any Guarded method, so it must not throw: a failure to settle
  // (say, the JS heap cannot hold the error) rejects with that failure instead, and the
  // Promise is counted as settled either way.
  static void Deliver(Napi::Env env, Napi::Function, Signal* s) {
    std::unique_ptr<Signal> owned(s);
    if (env == nullptr) return;  // the environment is being torn down
    Napi::HandleScope scope(env);
    try {
      if (s->failure) {
        s->deferred.Reject(toJsError(env, s->failure.error, failedTask(s->failure.label)).Value());
      } else if (s->dest) {
        s->deferred.Resolve(Napi::Float32Array::New(env, s->length, s->target.Value(), 0));
      } else {
        s->deferred.Resolve(env.Undefined());
      }
    } catch (...) {
      try {
        s->deferred.Reject(toJsError(env, std::current_exception()).Value());
      } catch (...) {
        // Nothing left to report with; the Promise stays pending.
      }
    }
    s->owner->Settled(env);
  }

  // "a queued sequenceForward failed: " from the task's label, the C++ method's name.
  static std::string failedTask(const char* label) {
    std::string name = label && *label ? label : "operation";
    name[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(name[0])));
    return "a queued " + name + " failed: ";
  }
};


Napi::Value NativeBackend::Wait(Napi::Env env, StoragePtr source, size_t length) {
  if (destroyed_) destroyed(env);
  // Owned here until it is queued or handed to the thread-safe function: a throw frees it.
  std::unique_ptr<Signal> owned(new Signal{this, Napi::Promise::Deferred::New(env), {}, nullptr, 0, {}});
  Signal* signal = owned.get();
  if (source) {
    Napi::ArrayBuffer buffer = ReadTarget(env, std::max<size_t>(length, 1) * sizeof(float));
    signal->target = Napi::Persistent(buffer);
    signal->dest = static_cast<float*>(buffer.Data());
    signal->length = length;
  }
  Napi::Promise promise = signal->deferred.Promise();
  // Counted only once nothing can throw any more: a count for a Promise that never settles
  // would keep this object and the event loop alive for ever. (Deliver, which uncounts, runs
  // on this thread after this call has returned, whichever thread queues it.)
  auto hold = [this, env] {
    if (waiting_++ == 0) {
      Ref();           // keep this object alive until every Promise is settled
      tsfn_.Ref(env);  // and the event loop running
    }
  };
  if (queue_->idle()) {
    // Nothing queued: everything before this call has run, so copy now, but settle the
    // Promise from the event loop (a macrotask), never synchronously: a training loop whose
    // reads all complete at once must still let timers, I/O and GC finalizers run.
    if (source && signal->length) std::memcpy(signal->dest, source->data, signal->length * sizeof(float));
    signal->failure = queue_->takeFailure();
    hold();
    tsfn_.NonBlockingCall(owned.release(), Signal::Deliver);
    return promise;
  }
  TaskQueue* queue = queue_.get();
  Napi::ThreadSafeFunction tsfn = tsfn_;
  queue_->push([signal, source, queue, tsfn]() mutable {
    // Copy on the worker, at this point of the queue: later tasks may overwrite the buffer.
    if (source && signal->length) std::memcpy(signal->dest, source->data, signal->length * sizeof(float));
    signal->failure = queue->takeFailure();
    tsfn.NonBlockingCall(signal, Signal::Deliver);
  }, source ? "read" : "sync");
  owned.release();
  hold();
  return promise;
}

Napi::ArrayBuffer NativeBackend::ReadTarget(Napi::Env env, size_t bytes) {
  // Small reads (a token's logits, a loss) take V8's own allocation: an external ArrayBuffer
  // costs a finalizer per read, and the reads of single-token generation took about twice as
  // long that way (47 vs 21 ms of CPU profile per 20,000 reads of 65 floats). A V8 allocation
  // of a few kilobytes failing would mean the process is already out of memory.
  constexpr size_t kSmallRead = 64 * 1024;
  if (bytes <= kSmallRead) return Napi::ArrayBuffer::New(env, bytes);
  // napi_create_arraybuffer cannot fail softly: V8 ends the process when it cannot allocate
  // ("FATAL ERROR: v8::ArrayBuffer::New Allocation failed"). So allocate here, checked, and
  // hand the memory to an external ArrayBuffer, whose finalizer frees it.
  void* data = std::malloc(bytes);
  if (data == nullptr) throw OutOfMemory(bytes, "the copy of a buffer read back");
  napi_value result;
  const napi_status status =
      napi_create_external_arraybuffer(env, data, bytes, [](napi_env, void* d, void*) { std::free(d); }, nullptr, &result);
  if (status == napi_ok) return Napi::ArrayBuffer(env, result);
  // Node refuses before taking the memory, except with a generic failure, after which the
  // finalizer may still run: leak rather than risk a double free there.
  if (status != napi_generic_failure) std::free(data);
  // Runtimes with V8's sandbox (Electron) refuse external memory: V8 must allocate, unchecked.
  if (status == napi_no_external_buffers_allowed) return Napi::ArrayBuffer::New(env, bytes);
  throw Napi::Error::New(env);
}

void NativeBackend::Settled(Napi::Env env) {
  if (--waiting_ == 0) {
    if (!tsfnReleased_) tsfn_.Unref(env);
    if (destroyed_ && !tsfnReleased_ && !envClosing_) {
      tsfn_.Release();
      tsfnReleased_ = true;
    }
    Unref();
  }
}

Napi::Value NativeBackend::Read(const Napi::CallbackInfo& info) {
  StoragePtr s = TakeAny(info[0], "buffer");
  return Wait(info.Env(), s, s->length);
}

Napi::Value NativeBackend::Sync(const Napi::CallbackInfo& info) { return Wait(info.Env(), nullptr, 0); }

Napi::Value NativeBackend::ReadBlocking(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  StoragePtr source = TakeAny(info[0], "buffer");
  if (destroyed_) destroyed(env);
  const size_t length = source->length;
  Napi::ArrayBuffer target = ReadTarget(env, std::max<size_t>(length, 1) * sizeof(float));
  float* dest = static_cast<float*>(target.Data());
  // The copy is made where an async read's would be: inline when the queue is idle, else by the
  // worker at this point of the queue while this thread waits (`target`, a local handle, keeps
  // the ArrayBuffer alive, and no GC can run on this thread meanwhile).
  TaskQueue::Failure failure;
  TaskQueue* queue = queue_.get();
  auto copy = [&failure, source, dest, length, queue] {
    if (length) std::memcpy(dest, source->data, length * sizeof(float));
    failure = queue->takeFailure();
  };
  if (queue_->idle()) copy();
  else queue_->pushAndWait(copy, "read");
  if (failure) throw toJsError(env, failure.error, Signal::failedTask(failure.label));
  return Napi::Float32Array::New(env, length, target, 0);
}

}  // namespace recur
