#include "native_backend.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "args.h"
#include "gemm.h"
#include "parallel.h"

namespace recur {

using namespace args;

namespace {
// Marks the externals this addon made, so a foreign external is rejected instead of misread.
const napi_type_tag kBufferTag = {0x7265637572627566ULL, 0x6e61746976653031ULL};
}  // namespace

Napi::Function NativeBackend::Init(Napi::Env env) {
  return DefineClass(env, "NativeBackend",
                     {
                         InstanceMethod<&NativeBackend::Guarded<&NativeBackend::Upload>>("upload"),
                         InstanceMethod<&NativeBackend::Guarded<&NativeBackend::Fill>>("fill"),
                         InstanceMethod<&NativeBackend::Guarded<&NativeBackend::Release>>("release"),
                         InstanceMethod<&NativeBackend::Guarded<&NativeBackend::Read>>("read"),
                         InstanceMethod<&NativeBackend::Guarded<&NativeBackend::ReadBlocking>>("readBlocking"),
                         InstanceMethod<&NativeBackend::Guarded<&NativeBackend::Sync>>("sync"),
                         InstanceMethod<&NativeBackend::Guarded<&NativeBackend::Destroy>>("destroy"),
                         InstanceAccessor<&NativeBackend::Guarded<&NativeBackend::Threads>>("threads"),
                         InstanceAccessor<&NativeBackend::Guarded<&NativeBackend::Blas>>("blas"),
                         InstanceMethod<&NativeBackend::Guarded<&NativeBackend::Gemm>>("gemm"),
                         InstanceMethod<&NativeBackend::Guarded<&NativeBackend::Unary>>("unary"),
                         InstanceMethod<&NativeBackend::Guarded<&NativeBackend::Binary>>("binary"),
                         InstanceMethod<&NativeBackend::Guarded<&NativeBackend::SumTo>>("sumTo"),
                         InstanceMethod<&NativeBackend::Guarded<&NativeBackend::SumOfSquares>>("sumOfSquares"),
                         InstanceMethod<&NativeBackend::Guarded<&NativeBackend::Permute>>("permute"),
                         InstanceMethod<&NativeBackend::Guarded<&NativeBackend::Concat>>("concat"),
                         InstanceMethod<&NativeBackend::Guarded<&NativeBackend::Slice>>("slice"),
                         InstanceMethod<&NativeBackend::Guarded<&NativeBackend::GatherRows>>("gatherRows"),
                         InstanceMethod<&NativeBackend::Guarded<&NativeBackend::ScatterAddRows>>("scatterAddRows"),
                         InstanceMethod<&NativeBackend::Guarded<&NativeBackend::CellForward>>("cellForward"),
                         InstanceMethod<&NativeBackend::Guarded<&NativeBackend::CellBackward>>("cellBackward"),
                         InstanceMethod<&NativeBackend::Guarded<&NativeBackend::SoftmaxCrossEntropy>>("softmaxCrossEntropy"),
                         InstanceMethod<&NativeBackend::Guarded<&NativeBackend::OptimizerStep>>("optimizerStep"),
                         InstanceMethod<&NativeBackend::Guarded<&NativeBackend::SequenceForward>>("sequenceForward"),
                         InstanceMethod<&NativeBackend::Guarded<&NativeBackend::SequenceBackward>>("sequenceBackward"),
                         InstanceMethod<&NativeBackend::Guarded<&NativeBackend::SequenceStackForward>>("sequenceStackForward"),
                     });
}

NativeBackend::NativeBackend(const Napi::CallbackInfo& info) : Napi::ObjectWrap<NativeBackend>(info) {
  // Guarded as the methods are (the constructor cannot be a Guarded instantiation). If Start
  // throws, the members built so far are destroyed (the queue and team join their threads)
  // and node-addon-api undoes the wrapping.
  try {
    Start(info);
  } catch (const Napi::Error&) {
    throw;
  } catch (...) {
    throw toJsError(info.Env(), std::current_exception());
  }
}

void NativeBackend::Start(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  env_ = env;
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  threads_ = info.Length() > 0 && info[0].IsNumber() ? static_cast<int>(dim(info[0], "threads", 1024)) : static_cast<int>(cores);
  if (threads_ < 1) threads_ = 1;
  // Our threads first: they are what may fail to start (std::system_error, a JS error then),
  // and their owners clean up by themselves, whereas a thread-safe function made before would
  // have to be released. Before OpenBLAS's too: it starts its threads when asked for more, and
  // when it cannot, it raises SIGINT and ends the process, which nothing here can catch.
  queue_ = std::make_unique<TaskQueue>();
  team_ = std::make_unique<Team>(kernelThreadsEnabled() ? threads_ - 1 : 0);
  ws_.team = team_.get();
  blasSetThreads(threads_);
  const char* profile = std::getenv("RECUR_PROFILE");
  if (profile && profile[0] == '1') profile_ = std::make_shared<std::map<std::string, ProfileEntry>>();
  tsfn_ = Napi::ThreadSafeFunction::New(env, Napi::Function::New(env, [](const Napi::CallbackInfo&) {}), "recur-native", 0, 1);
  tsfn_.Unref(env);  // only pending Promises keep the event loop alive
  napi_add_env_cleanup_hook(env, &NativeBackend::CleanupHook, this);
}

NativeBackend::~NativeBackend() {
  if (!envClosing_) {
    napi_remove_env_cleanup_hook(env_, &NativeBackend::CleanupHook, this);
    Shutdown();
    if (!tsfnReleased_) {
      tsfn_.Release();
      tsfnReleased_ = true;
    }
  }
}

void NativeBackend::CleanupHook(void* self) {
  auto* backend = static_cast<NativeBackend*>(self);
  backend->envClosing_ = true;
  // A plain C callback of Node's: nothing may escape it (joining threads does not throw in
  // practice, but a throw here would terminate the process).
  try {
    backend->Shutdown();
  } catch (...) {
  }
}

void NativeBackend::Shutdown() {
  if (queue_) queue_->stop();
  // After the queue: its last tasks may still use the helpers.
  ws_.team = nullptr;
  team_.reset();
  destroyed_ = true;
}

// --- helpers ------------------------------------------------------------------------------

Napi::Value NativeBackend::Wrap(Napi::Env env, const StoragePtr& storage) {
  // Owned here until the External (whose finalizer deletes it) exists: a throw in between frees it.
  auto handle = std::make_unique<BufferHandle>(BufferHandle{storage, storage->length, true});
  auto external = Napi::External<BufferHandle>::New(env, handle.get(), [](Napi::Env env, BufferHandle* h) {
    if (h->accounted) Napi::MemoryManagement::AdjustExternalMemory(env, -static_cast<int64_t>(h->length * sizeof(float)));
    delete h;
  });
  handle.release();
  Napi::MemoryManagement::AdjustExternalMemory(env, static_cast<int64_t>(storage->length * sizeof(float)));
  napi_type_tag_object(env, external, &kBufferTag);
  return external;
}

StoragePtr NativeBackend::TakeAny(const Napi::Value& value, const char* name) {
  Napi::Env env = value.Env();
  bool tagged = false;
  if (value.IsExternal()) napi_check_object_type_tag(env, value, &kBufferTag, &tagged);
  if (!tagged) fail(env, std::string(name) + " is not a buffer of the native backend");
  BufferHandle* h = value.As<Napi::External<BufferHandle>>().Data();
  if (!h->storage) fail(env, std::string(name) + " was disposed");
  return h->storage;
}

StoragePtr NativeBackend::Take(const Napi::Value& value, const char* name, size_t length) {
  StoragePtr s = TakeAny(value, name);
  if (s->length != length) {
    fail(value.Env(), std::string(name) + " has " + std::to_string(s->length) + " elements, expected " + std::to_string(length));
  }
  return s;
}

StoragePtr NativeBackend::TakeOptional(const Napi::Value& value, const char* name, size_t length) {
  if (value.IsUndefined() || value.IsNull()) return nullptr;
  return Take(value, name, length);
}

// Below this much work a task costs less than handing it to the worker thread (tens of µs
// on a busy machine): single-sequence inference then never leaves the JS thread.
constexpr size_t kInlineWork = static_cast<size_t>(1) << 20;

void NativeBackend::Enqueue(Napi::Env env, TaskQueue::Task task, size_t work, const char* label) {
  if (destroyed_) destroyed(env);
  if (profile_) {
    auto profile = profile_;
    std::string name(label);
    task = [task = std::move(task), profile, name] {
      const auto t0 = std::chrono::steady_clock::now();
      task();
      auto& entry = (*profile)[name];
      entry.seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      entry.calls++;
    };
  }
  if (work <= kInlineWork && queue_->idle()) {
    // Small work runs single-threaded: waking BLAS threads costs more than it saves here.
    if (threads_ > 1) blasSetThreads(1);
    const bool ran = queue_->tryRunInline(task, label);
    if (threads_ > 1) blasSetThreads(threads_);
    if (ran) return;
  }
  queue_->push(std::move(task), label);
}

// --- memory -------------------------------------------------------------------------------

Napi::Value NativeBackend::Upload(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) fail(env, "upload: expected a Float32Array");
  Napi::Float32Array data = info[0].As<Napi::Float32Array>();
  if (data.ElementLength() > kMaxElements) fail(env, "upload: too many elements");
  StoragePtr s = makeStorage(data.ElementLength());
  if (s->length) std::memcpy(s->data, data.Data(), s->length * sizeof(float));  // a new buffer: no queued work can touch it
  return Wrap(env, s);
}

Napi::Value NativeBackend::Fill(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const size_t n = dim(info[0], "length");
  const float value = static_cast<float>(number(info[1], "value"));
  StoragePtr s = makeStorage(n);
  if (value == 0.0f && !std::signbit(value)) std::memset(s->data, 0, n * sizeof(float));
  else std::fill(s->data, s->data + n, value);
  return Wrap(env, s);
}

Napi::Value NativeBackend::Release(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  bool tagged = false;
  if (info[0].IsExternal()) napi_check_object_type_tag(env, info[0], &kBufferTag, &tagged);
  if (!tagged) fail(env, "release: not a buffer of the native backend");
  BufferHandle* h = info[0].As<Napi::External<BufferHandle>>().Data();
  if (h->accounted) {
    Napi::MemoryManagement::AdjustExternalMemory(env, -static_cast<int64_t>(h->length * sizeof(float)));
    h->accounted = false;
  }
  h->storage.reset();  // queued tasks hold their own references
  return env.Undefined();
}

void NativeBackend::PrintProfile() {
  if (!profile_) return;
  double total = 0;
  for (const auto& [name, e] : *profile_) total += e.seconds;
  std::fprintf(stderr, "recur native profile (task time by method):\n");
  for (const auto& [name, e] : *profile_) {
    std::fprintf(stderr, "  %-22s %9.1f ms %6.1f%% %8zu calls\n", name.c_str(), e.seconds * 1e3, total > 0 ? 100 * e.seconds / total : 0.0, e.calls);
  }
}

Napi::Value NativeBackend::Destroy(const Napi::CallbackInfo& info) {
  if (!destroyed_) {
    Shutdown();  // runs what is queued (settling pending Promises) and joins the worker
    PrintProfile();
    if (waiting_ == 0 && !tsfnReleased_) {
      tsfn_.Release();
      tsfnReleased_ = true;
    }
  }
  return info.Env().Undefined();
}

Napi::Value NativeBackend::Threads(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), threads_); }

Napi::Value NativeBackend::Blas(const Napi::CallbackInfo& info) {
#ifdef RECUR_OPENMP
  return Napi::String::New(info.Env(), blasDescription() + ", OpenMP");
#else
  return Napi::String::New(info.Env(), blasDescription());
#endif
}

}  // namespace recur
