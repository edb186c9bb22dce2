#include "native_backend.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <thread>
#include <vector>

#include "cells.h"
#include "elementwise.h"
#include "gemm.h"
#include "loss.h"
#include "movement.h"
#include "optimizers.h"
#include "sequence.h"
#ifdef RECUR_OPENMP
#include <omp.h>
#endif

namespace recur {

namespace {

// Marks the externals this addon made, so a foreign external is rejected instead of misread.
const napi_type_tag kBufferTag = {0x7265637572627566ULL, 0x6e61746976653031ULL};
constexpr size_t kMaxElements = static_cast<size_t>(1) << 31;  // gemm dimensions are int

[[noreturn]] void fail(Napi::Env env, const std::string& message) { throw Napi::Error::New(env, "recur native: " + message); }

size_t dim(const Napi::Value& v, const char* name, size_t max = kMaxElements) {
  if (!v.IsNumber()) fail(v.Env(), std::string(name) + " must be a number");
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= 0) || d != std::floor(d) || d > static_cast<double>(max)) fail(v.Env(), std::string(name) + " must be an integer in [0, " + std::to_string(max) + "]");
  return static_cast<size_t>(d);
}

double number(const Napi::Value& v, const char* name) {
  if (!v.IsNumber()) fail(v.Env(), std::string(name) + " must be a number");
  return v.As<Napi::Number>().DoubleValue();
}

bool flag(const Napi::Value& v) { return v.IsBoolean() ? v.As<Napi::Boolean>().Value() : false; }

std::vector<int64_t> dims(const Napi::Value& v, const char* name) {
  if (!v.IsArray()) fail(v.Env(), std::string(name) + " must be an array of integers");
  Napi::Array a = v.As<Napi::Array>();
  std::vector<int64_t> out(a.Length());
  for (uint32_t i = 0; i < a.Length(); i++) out[i] = static_cast<int64_t>(dim(a.Get(i), name));
  return out;
}

size_t product(const std::vector<int64_t>& shape, Napi::Env env) {
  size_t p = 1;
  for (int64_t d : shape) {
    p *= static_cast<size_t>(d);
    if (p > kMaxElements) fail(env, "shape too large");
  }
  return p;
}

size_t checkedProduct(Napi::Env env, std::initializer_list<size_t> factors) {
  size_t p = 1;
  for (size_t f : factors) {
    if (f != 0 && p > kMaxElements / f) fail(env, "sizes too large");
    p *= f;
  }
  return p;
}

std::vector<int32_t> int32s(const Napi::Value& v, const char* name) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_int32_array) fail(v.Env(), std::string(name) + " must be an Int32Array");
  Napi::Int32Array a = v.As<Napi::Int32Array>();
  return std::vector<int32_t>(a.Data(), a.Data() + a.ElementLength());
}

CellKind cellKind(const Napi::Value& v) {
  const size_t k = dim(v, "kind", static_cast<size_t>(CellKind::Count) - 1);
  return static_cast<CellKind>(k);
}

}  // namespace

// A pending read/sync: settled on the JS thread through the thread-safe function.
struct Signal {
  NativeBackend* owner;
  Napi::Promise::Deferred deferred;
  Napi::Reference<Napi::ArrayBuffer> target;  // read only
  float* dest = nullptr;
  size_t length = 0;
  std::string error;

  static void Deliver(Napi::Env env, Napi::Function, Signal* s) {
    if (env != nullptr) {
      Napi::HandleScope scope(env);
      if (!s->error.empty()) {
        s->deferred.Reject(Napi::Error::New(env, "recur native: a queued operation failed: " + s->error).Value());
      } else if (s->dest) {
        s->deferred.Resolve(Napi::Float32Array::New(env, s->length, s->target.Value(), 0));
      } else {
        s->deferred.Resolve(env.Undefined());
      }
      s->owner->Settled(env);
    }
    delete s;
  }
};

Napi::Function NativeBackend::Init(Napi::Env env) {
  return DefineClass(env, "NativeBackend",
                     {
                         InstanceMethod<&NativeBackend::Upload>("upload"),
                         InstanceMethod<&NativeBackend::Fill>("fill"),
                         InstanceMethod<&NativeBackend::Release>("release"),
                         InstanceMethod<&NativeBackend::Read>("read"),
                         InstanceMethod<&NativeBackend::Sync>("sync"),
                         InstanceMethod<&NativeBackend::Destroy>("destroy"),
                         InstanceAccessor<&NativeBackend::Threads>("threads"),
                         InstanceAccessor<&NativeBackend::Blas>("blas"),
                         InstanceMethod<&NativeBackend::Gemm>("gemm"),
                         InstanceMethod<&NativeBackend::Unary>("unary"),
                         InstanceMethod<&NativeBackend::Binary>("binary"),
                         InstanceMethod<&NativeBackend::SumTo>("sumTo"),
                         InstanceMethod<&NativeBackend::SumOfSquares>("sumOfSquares"),
                         InstanceMethod<&NativeBackend::Permute>("permute"),
                         InstanceMethod<&NativeBackend::Concat>("concat"),
                         InstanceMethod<&NativeBackend::Slice>("slice"),
                         InstanceMethod<&NativeBackend::GatherRows>("gatherRows"),
                         InstanceMethod<&NativeBackend::ScatterAddRows>("scatterAddRows"),
                         InstanceMethod<&NativeBackend::CellForward>("cellForward"),
                         InstanceMethod<&NativeBackend::CellBackward>("cellBackward"),
                         InstanceMethod<&NativeBackend::SoftmaxCrossEntropy>("softmaxCrossEntropy"),
                         InstanceMethod<&NativeBackend::OptimizerStep>("optimizerStep"),
                         InstanceMethod<&NativeBackend::SequenceForward>("sequenceForward"),
                         InstanceMethod<&NativeBackend::SequenceBackward>("sequenceBackward"),
                     });
}

NativeBackend::NativeBackend(const Napi::CallbackInfo& info) : Napi::ObjectWrap<NativeBackend>(info) {
  Napi::Env env = info.Env();
  env_ = env;
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  threads_ = info.Length() > 0 && info[0].IsNumber() ? static_cast<int>(dim(info[0], "threads", 1024)) : static_cast<int>(cores);
  if (threads_ < 1) threads_ = 1;
  blasSetThreads(threads_);
  tsfn_ = Napi::ThreadSafeFunction::New(env, Napi::Function::New(env, [](const Napi::CallbackInfo&) {}), "recur-native", 0, 1);
  tsfn_.Unref(env);  // only pending Promises keep the event loop alive
  queue_ = std::make_unique<TaskQueue>();
  const char* profile = std::getenv("RECUR_PROFILE");
  if (profile && profile[0] == '1') profile_ = std::make_shared<std::map<std::string, ProfileEntry>>();
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
  backend->Shutdown();
}

void NativeBackend::Shutdown() {
  if (queue_) queue_->stop();
  destroyed_ = true;
}

// --- helpers ------------------------------------------------------------------------------

Napi::Value NativeBackend::Wrap(Napi::Env env, const StoragePtr& storage) {
  auto* handle = new BufferHandle{storage, storage->length, true};
  const int64_t bytes = static_cast<int64_t>(storage->length * sizeof(float));
  Napi::MemoryManagement::AdjustExternalMemory(env, bytes);
  auto external = Napi::External<BufferHandle>::New(env, handle, [](Napi::Env env, BufferHandle* h) {
    if (h->accounted) Napi::MemoryManagement::AdjustExternalMemory(env, -static_cast<int64_t>(h->length * sizeof(float)));
    delete h;
  });
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
  if (destroyed_) fail(env, "the backend was destroyed");
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
    const bool ran = queue_->tryRunInline(task);
    if (threads_ > 1) blasSetThreads(threads_);
    if (ran) return;
  }
  queue_->push(std::move(task));
}

Napi::Value NativeBackend::Wait(Napi::Env env, StoragePtr source, size_t length) {
  if (destroyed_) fail(env, "the backend was destroyed");
  auto* signal = new Signal{this, Napi::Promise::Deferred::New(env), {}, nullptr, 0, {}};
  if (source) {
    Napi::ArrayBuffer buffer = Napi::ArrayBuffer::New(env, std::max<size_t>(length, 1) * sizeof(float));
    signal->target = Napi::Persistent(buffer);
    signal->dest = static_cast<float*>(buffer.Data());
    signal->length = length;
  }
  Napi::Promise promise = signal->deferred.Promise();
  if (waiting_++ == 0) {
    Ref();             // keep this object alive until every Promise is settled
    tsfn_.Ref(env);    // and the event loop running
  }
  if (queue_->idle()) {
    // Nothing queued: everything before this call has run, so copy now, but settle the
    // Promise from the event loop (a macrotask), never synchronously: a training loop whose
    // reads all complete at once must still let timers, I/O and GC finalizers run.
    if (source && signal->length) std::memcpy(signal->dest, source->data, signal->length * sizeof(float));
    signal->error = queue_->takeError();
    tsfn_.NonBlockingCall(signal, Signal::Deliver);
    return promise;
  }
  TaskQueue* queue = queue_.get();
  Napi::ThreadSafeFunction tsfn = tsfn_;
  queue_->push([signal, source, queue, tsfn]() mutable {
    // Copy on the worker, at this point of the queue: later tasks may overwrite the buffer.
    if (source && signal->length) std::memcpy(signal->dest, source->data, signal->length * sizeof(float));
    signal->error = queue->takeError();
    tsfn.NonBlockingCall(signal, Signal::Deliver);
  });
  return promise;
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

Napi::Value NativeBackend::Read(const Napi::CallbackInfo& info) {
  StoragePtr s = TakeAny(info[0], "buffer");
  return Wait(info.Env(), s, s->length);
}

Napi::Value NativeBackend::Sync(const Napi::CallbackInfo& info) { return Wait(info.Env(), nullptr, 0); }

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

// --- dense math ---------------------------------------------------------------------------

Napi::Value NativeBackend::Gemm(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const size_t m = dim(info[3], "m"), n = dim(info[4], "n"), k = dim(info[5], "k");
  const bool transA = flag(info[6]), transB = flag(info[7]);
  const float alpha = static_cast<float>(number(info[8], "alpha"));
  const float beta = static_cast<float>(number(info[9], "beta"));
  StoragePtr a = Take(info[0], "a", checkedProduct(env, {m, k}));
  StoragePtr b = Take(info[1], "b", checkedProduct(env, {k, n}));
  StoragePtr out = TakeOptional(info[2], "out", checkedProduct(env, {m, n}));
  const bool accumulate = out != nullptr;
  Napi::Value result = accumulate ? info[2] : Napi::Value();
  if (!out) {
    out = makeStorage(m * n);
    result = Wrap(env, out);
  }
  Enqueue(env, [a, b, out, m, n, k, transA, transB, alpha, beta, accumulate] {
    gemm(transA, transB, static_cast<int>(m), static_cast<int>(n), static_cast<int>(k), alpha, a->data, b->data, accumulate ? beta : 0.0f, out->data);
  }, m * n * (k + 1));
  return result;
}

Napi::Value NativeBackend::Unary(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const auto op = static_cast<UnaryOp>(dim(info[0], "op", static_cast<size_t>(UnaryOp::Count) - 1));
  StoragePtr x = TakeAny(info[1], "x");
  StoragePtr out = TakeOptional(info[2], "out", x->length);
  const double param = number(info[3], "param"), param2 = number(info[4], "param2");
  Napi::Value result = out ? info[2] : Napi::Value();
  if (!out) {
    out = makeStorage(x->length);
    result = Wrap(env, out);
  }
  Enqueue(env, [op, x, out, param, param2] { unary(op, x->data, out->data, x->length, param, param2); }, x->length * 4);
  return result;
}

Napi::Value NativeBackend::Binary(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const auto op = static_cast<BinaryOp>(dim(info[0], "op", static_cast<size_t>(BinaryOp::Count) - 1));
  StoragePtr a = TakeAny(info[1], "a");
  std::vector<int64_t> aStrides = dims(info[2], "aStrides");
  StoragePtr b = TakeAny(info[3], "b");
  std::vector<int64_t> bStrides = dims(info[4], "bStrides");
  std::vector<int64_t> shape = dims(info[5], "outShape");
  if (aStrides.size() != shape.size() || bStrides.size() != shape.size()) fail(env, "binary: strides and shape must have the same rank");
  const size_t size = product(shape, env);
  if (size > 0) {
    // The last element each operand reaches must lie inside it.
    size_t aMax = 0, bMax = 0;
    for (size_t d = 0; d < shape.size(); d++) {
      aMax += static_cast<size_t>(aStrides[d]) * static_cast<size_t>(shape[d] - 1);
      bMax += static_cast<size_t>(bStrides[d]) * static_cast<size_t>(shape[d] - 1);
    }
    if (aMax >= a->length || bMax >= b->length) fail(env, "binary: strides reach outside an operand");
  }
  StoragePtr out = makeStorage(size);
  Napi::Value result = Wrap(env, out);
  Enqueue(env, [op, a, b, out, aStrides, bStrides, shape] { binary(op, a->data, aStrides, b->data, bStrides, shape, out->data); }, size * 2);
  return result;
}

Napi::Value NativeBackend::SumTo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::vector<int64_t> inShape = dims(info[1], "inShape"), outShape = dims(info[2], "outShape");
  if (inShape.size() != outShape.size()) fail(env, "sumTo: ranks differ");
  for (size_t d = 0; d < inShape.size(); d++)
    if (outShape[d] != inShape[d] && outShape[d] != 1) fail(env, "sumTo: each output dimension must equal the input's or be 1");
  StoragePtr x = Take(info[0], "x", product(inShape, env));
  StoragePtr out = makeStorage(product(outShape, env));
  Napi::Value result = Wrap(env, out);
  Enqueue(env, [x, out, inShape, outShape] { sumTo(x->data, inShape, outShape, out->data); }, x->length * 2);
  return result;
}

Napi::Value NativeBackend::SumOfSquares(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsArray()) fail(env, "sumOfSquares: expected an array of buffers");
  Napi::Array list = info[0].As<Napi::Array>();
  std::vector<StoragePtr> xs;
  for (uint32_t i = 0; i < list.Length(); i++) xs.push_back(TakeAny(list.Get(i), "buffers[i]"));
  StoragePtr out = makeStorage(1);
  Napi::Value result = Wrap(env, out);
  Enqueue(env, [xs, out] {
    double total = 0;
    for (const auto& x : xs) total += sumOfSquares(x->data, x->length);
    out->data[0] = static_cast<float>(total);
  }, [&xs] { size_t n = 0; for (const auto& x : xs) n += x->length; return n; }());
  return result;
}

// --- data movement ------------------------------------------------------------------------

Napi::Value NativeBackend::Permute(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::vector<int64_t> shape = dims(info[1], "shape"), perm = dims(info[2], "perm");
  if (perm.size() != shape.size()) fail(env, "permute: perm must have the rank of shape");
  std::vector<bool> seen(shape.size(), false);
  for (int64_t p : perm) {
    if (p >= static_cast<int64_t>(shape.size()) || seen[p]) fail(env, "permute: perm must be a permutation of the axes");
    seen[p] = true;
  }
  StoragePtr x = Take(info[0], "x", product(shape, env));
  StoragePtr out = makeStorage(x->length);
  Napi::Value result = Wrap(env, out);
  Enqueue(env, [x, out, shape, perm] { permute(x->data, shape, perm, out->data); }, x->length * 2);
  return result;
}

Napi::Value NativeBackend::Concat(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsArray() || !info[1].IsArray()) fail(env, "concat: expected arrays of buffers and shapes");
  Napi::Array list = info[0].As<Napi::Array>(), shapeList = info[1].As<Napi::Array>();
  const size_t axis = dim(info[2], "axis");
  if (list.Length() == 0 || list.Length() != shapeList.Length()) fail(env, "concat: need one shape per buffer, at least one");
  std::vector<std::vector<int64_t>> shapes;
  std::vector<StoragePtr> xs;
  size_t total = 0;
  for (uint32_t i = 0; i < list.Length(); i++) {
    shapes.push_back(dims(shapeList.Get(i), "shapes[i]"));
    const auto& s = shapes.back();
    if (axis >= s.size() || s.size() != shapes[0].size()) fail(env, "concat: axis out of range or ranks differ");
    for (size_t d = 0; d < s.size(); d++)
      if (d != axis && s[d] != shapes[0][d]) fail(env, "concat: shapes differ off the axis");
    xs.push_back(Take(list.Get(i), "xs[i]", product(s, env)));
    total += xs.back()->length;
  }
  if (total > kMaxElements) fail(env, "concat: too large");
  StoragePtr out = makeStorage(total);
  Napi::Value result = Wrap(env, out);
  Enqueue(env, [xs, shapes, axis, out] {
    std::vector<const float*> data;
    for (const auto& x : xs) data.push_back(x->data);
    concat(data, shapes, axis, out->data);
  }, total);
  return result;
}

Napi::Value NativeBackend::Slice(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::vector<int64_t> shape = dims(info[1], "shape");
  const size_t axis = dim(info[2], "axis");
  const size_t start = dim(info[3], "start"), length = dim(info[4], "length");
  if (axis >= shape.size() || start + length > static_cast<size_t>(shape[axis])) fail(env, "slice: range outside the axis");
  StoragePtr x = Take(info[0], "x", product(shape, env));
  std::vector<int64_t> outShape = shape;
  outShape[axis] = static_cast<int64_t>(length);
  StoragePtr out = makeStorage(product(outShape, env));
  Napi::Value result = Wrap(env, out);
  Enqueue(env, [x, out, shape, axis, start, length] { slice(x->data, shape, axis, static_cast<int64_t>(start), static_cast<int64_t>(length), out->data); }, out->length);
  return result;
}

Napi::Value NativeBackend::GatherRows(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  StoragePtr x = TakeAny(info[0], "x");
  const size_t width = dim(info[1], "width");
  std::vector<int32_t> index = int32s(info[2], "index");
  const size_t rows = width ? x->length / width : 0;
  if (width && x->length % width) fail(env, "gatherRows: length is not a multiple of width");
  for (int32_t i : index)
    if (i < 0 || static_cast<size_t>(i) >= rows) fail(env, "gatherRows: index out of range");
  StoragePtr out = makeStorage(checkedProduct(env, {index.size(), width}));
  Napi::Value result = Wrap(env, out);
  Enqueue(env, [x, out, width, index] { gatherRows(x->data, width, index.data(), index.size(), out->data); }, out->length);
  return result;
}

Napi::Value NativeBackend::ScatterAddRows(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const size_t width = dim(info[1], "width");
  std::vector<int32_t> index = int32s(info[2], "index");
  const size_t rows = dim(info[3], "rows");
  StoragePtr g = Take(info[0], "g", checkedProduct(env, {index.size(), width}));
  for (int32_t i : index)
    if (i < 0 || static_cast<size_t>(i) >= rows) fail(env, "scatterAddRows: index out of range");
  StoragePtr out = makeStorage(checkedProduct(env, {rows, width}));
  Napi::Value result = Wrap(env, out);
  Enqueue(env, [g, out, width, index, rows] { scatterAddRows(g->data, width, index.data(), index.size(), rows, out->data); }, out->length + g->length);
  return result;
}

// --- fused kernels ------------------------------------------------------------------------

Napi::Value NativeBackend::CellForward(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const CellKind kind = cellKind(info[0]);
  const size_t B = dim(info[1], "batch"), H = dim(info[2], "hidden");
  const size_t G = gateCount(kind), S = savedBlocks(kind);
  const bool lstm = kind == CellKind::Lstm;
  StoragePtr gx = Take(info[3], "gx", checkedProduct(env, {B, G, H}));
  StoragePtr gh = Take(info[4], "gh", B * G * H);
  StoragePtr h = Take(info[5], "h", B * H);
  StoragePtr c = lstm ? TakeOptional(info[6], "c", B * H) : nullptr;
  StoragePtr hOut = makeStorage(B * H);
  StoragePtr cOut = lstm ? makeStorage(B * H) : nullptr;
  StoragePtr saved = makeStorage(checkedProduct(env, {B, S, H}));
  Napi::Array result = Napi::Array::New(env, 3);
  result.Set(0u, Wrap(env, hOut));
  result.Set(1u, lstm ? Wrap(env, cOut) : env.Null());
  result.Set(2u, Wrap(env, saved));
  Workspace* ws = &ws_;
  Enqueue(env, [=] {
    const float* zeros = ws->zerosOf(std::max(G * H, H));
    for (size_t b = 0; b < B; b++) {
      cellForwardRow(kind, H, gx->data + b * G * H, zeros, gh->data + b * G * H, zeros, h->data + b * H, lstm ? (c ? c->data + b * H : zeros) : nullptr,
                     hOut->data + b * H, lstm ? cOut->data + b * H : nullptr, saved->data + b * S * H);
    }
  }, B * G * H * 8);
  return result;
}

Napi::Value NativeBackend::CellBackward(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const CellKind kind = cellKind(info[0]);
  const size_t B = dim(info[1], "batch"), H = dim(info[2], "hidden");
  const size_t G = gateCount(kind), S = savedBlocks(kind);
  const bool lstm = kind == CellKind::Lstm, gru = kind == CellKind::Gru;
  StoragePtr saved = Take(info[3], "saved", checkedProduct(env, {B, S, H}));
  StoragePtr h = Take(info[4], "h", B * H);
  StoragePtr c = lstm ? TakeOptional(info[5], "c", B * H) : nullptr;
  StoragePtr dh = Take(info[6], "dh", B * H);
  StoragePtr dc = lstm ? TakeOptional(info[7], "dc", B * H) : nullptr;
  StoragePtr dgx = makeStorage(B * G * H), dgh = makeStorage(B * G * H), dhPrev = makeStorage(B * H);
  StoragePtr dcPrev = lstm ? makeStorage(B * H) : nullptr;
  Napi::Array result = Napi::Array::New(env, 4);
  result.Set(0u, Wrap(env, dgx));
  result.Set(1u, Wrap(env, dgh));
  result.Set(2u, Wrap(env, dhPrev));
  result.Set(3u, lstm ? Wrap(env, dcPrev) : env.Null());
  Workspace* ws = &ws_;
  Enqueue(env, [=] {
    const float* zeros = ws->zerosOf(std::max(G * H, H));
    for (size_t b = 0; b < B; b++) {
      const size_t gate = b * G * H, state = b * H;
      cellBackwardRow(kind, H, saved->data + b * S * H, h->data + state, lstm ? (c ? c->data + state : zeros) : nullptr, dh->data + state, zeros,
                      dc ? dc->data + state : zeros, dgx->data + gate, dgh->data + gate, dhPrev->data + state, lstm ? dcPrev->data + state : nullptr);
      if (!gru) std::memcpy(dgh->data + gate, dgx->data + gate, sizeof(float) * G * H);
    }
  }, B * G * H * 8);
  return result;
}

Napi::Value NativeBackend::SoftmaxCrossEntropy(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const size_t rows = dim(info[0], "rows"), classes = dim(info[1], "classes");
  StoragePtr logits = Take(info[2], "logits", checkedProduct(env, {rows, classes}));
  std::vector<int32_t> targets = int32s(info[3], "targets");
  const double ignoreD = number(info[4], "ignoreIndex");
  const double count = number(info[5], "count");
  if (targets.size() != rows) fail(env, "softmaxCrossEntropy: one target per row");
  if (!(count > 0)) fail(env, "softmaxCrossEntropy: count must be positive");
  // An ignore index outside int32 can match no target.
  const bool ignoreUsable = ignoreD == std::floor(ignoreD) && ignoreD >= INT32_MIN && ignoreD <= INT32_MAX;
  const int32_t ignore = ignoreUsable ? static_cast<int32_t>(ignoreD) : INT32_MIN;
  for (int32_t t : targets)
    if (!(ignoreUsable && t == ignore) && (t < 0 || static_cast<size_t>(t) >= classes)) fail(env, "softmaxCrossEntropy: target out of range");
  if (!ignoreUsable)
    for (int32_t t : targets)
      if (t == INT32_MIN) fail(env, "softmaxCrossEntropy: target out of range");
  StoragePtr loss = makeStorage(1), dLogits = makeStorage(rows * classes);
  Napi::Array result = Napi::Array::New(env, 2);
  result.Set(0u, Wrap(env, loss));
  result.Set(1u, Wrap(env, dLogits));
  const int threads = threads_;
  Enqueue(env, [=] {
    loss->data[0] = static_cast<float>(softmaxCrossEntropy(rows, classes, logits->data, targets.data(), ignore, count, dLogits->data, threads));
  }, rows * classes * 16);
  return result;
}

Napi::Value NativeBackend::OptimizerStep(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const size_t kind = dim(info[0], "kind", 2);
  if (!info[1].IsTypedArray() || info[1].As<Napi::TypedArray>().TypedArrayType() != napi_float64_array) fail(env, "optimizerStep: hyper-parameters must be a Float64Array");
  Napi::Float64Array hp = info[1].As<Napi::Float64Array>();
  std::vector<double> p(hp.Data(), hp.Data() + hp.ElementLength());
  if (p.size() < 8) fail(env, "optimizerStep: expected 8 hyper-parameters");
  StoragePtr param = TakeAny(info[2], "param");
  StoragePtr grad = Take(info[3], "grad", param->length);
  if (!info[4].IsArray()) fail(env, "optimizerStep: state must be an array of buffers");
  Napi::Array stateList = info[4].As<Napi::Array>();
  const size_t needed = kind == 0 ? 1 : 3;
  if (stateList.Length() < needed) fail(env, "optimizerStep: too few state buffers");
  std::vector<StoragePtr> state;
  for (uint32_t i = 0; i < stateList.Length(); i++) state.push_back(Take(stateList.Get(i), "state[i]", param->length));
  const size_t n = param->length;
  if (kind == 0) {
    SgdParams u{p[0], p[1], p[2], p[3], p[4] != 0, p[5] != 0};
    Enqueue(env, [=] { sgdStep(u, param->data, grad->data, state[0]->data, n); }, n * 4);
  } else if (kind == 1) {
    AdamParams u{p[0], p[1], p[2], p[3], p[4], p[5] != 0, p[6] != 0, p[7]};
    Enqueue(env, [=] { adamStep(u, param->data, grad->data, state[0]->data, state[1]->data, state[2]->data, n); }, n * 8);
  } else {
    RmspropParams u{p[0], p[1], p[2], p[3], p[4], p[5] != 0};
    Enqueue(env, [=] { rmspropStep(u, param->data, grad->data, state[0]->data, state[1]->data, state[2]->data, n); }, n * 8);
  }
  return env.Undefined();
}

namespace {
struct SeqArgs {
  SequenceShape shape;
  StoragePtr x, wIh, wHh, bIh, bHh, h0, c0;
  std::shared_ptr<std::vector<int32_t>> lengths;
};
}  // namespace

static SeqArgs sequenceArgs(NativeBackend* self, const Napi::CallbackInfo& info,
                            const std::function<StoragePtr(const Napi::Value&, const char*, size_t)>& take,
                            const std::function<StoragePtr(const Napi::Value&, const char*, size_t)>& takeOptional) {
  Napi::Env env = info.Env();
  SeqArgs a;
  a.shape.kind = cellKind(info[0]);
  a.shape.steps = dim(info[1], "steps");
  a.shape.batch = dim(info[2], "batch");
  a.shape.inputSize = dim(info[3], "inputSize");
  a.shape.hidden = dim(info[4], "hidden");
  const size_t T = a.shape.steps, B = a.shape.batch, I = a.shape.inputSize, H = a.shape.hidden;
  const size_t GH = checkedProduct(env, {static_cast<size_t>(gateCount(a.shape.kind)), H});
  checkedProduct(env, {T + 1, B, static_cast<size_t>(savedBlocks(a.shape.kind) + 2), H});
  checkedProduct(env, {T, B, GH});
  a.x = take(info[5], "x", checkedProduct(env, {T, B, I}));
  a.wIh = take(info[6], "wIh", checkedProduct(env, {GH, I}));
  a.wHh = take(info[7], "wHh", checkedProduct(env, {GH, H}));
  a.bIh = takeOptional(info[8], "bIh", GH);
  a.bHh = takeOptional(info[9], "bHh", GH);
  a.h0 = take(info[10], "h0", B * H);
  a.c0 = a.shape.kind == CellKind::Lstm ? takeOptional(info[11], "c0", B * H) : nullptr;
  if (!info[12].IsUndefined() && !info[12].IsNull()) {
    a.lengths = std::make_shared<std::vector<int32_t>>(int32s(info[12], "lengths"));
    if (a.lengths->size() != B) fail(env, "lengths must have one entry per batch row");
    for (int32_t l : *a.lengths)
      if (l < 0 || static_cast<size_t>(l) > T) fail(env, "lengths must lie in [0, steps]");
  }
  return a;
}

Napi::Value NativeBackend::SequenceForward(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto take = [this](const Napi::Value& v, const char* n, size_t l) { return Take(v, n, l); };
  auto takeOptional = [this](const Napi::Value& v, const char* n, size_t l) { return TakeOptional(v, n, l); };
  SeqArgs a = sequenceArgs(this, info, take, takeOptional);
  const size_t T = a.shape.steps, B = a.shape.batch, H = a.shape.hidden;
  const bool lstm = a.shape.kind == CellKind::Lstm;
  StoragePtr output = makeStorage(T * B * H), hN = makeStorage(B * H);
  StoragePtr cN = lstm ? makeStorage(B * H) : nullptr;
  StoragePtr saved = makeStorage(sequenceSavedLength(a.shape));
  Napi::Array result = Napi::Array::New(env, 4);
  result.Set(0u, Wrap(env, output));
  result.Set(1u, Wrap(env, hN));
  result.Set(2u, lstm ? Wrap(env, cN) : env.Null());
  result.Set(3u, Wrap(env, saved));
  Workspace* ws = &ws_;
  const int threads = threads_;
  Enqueue(env, [a, output, hN, cN, saved, ws, threads] {
    SequenceInputs in{a.x->data, a.wIh->data, a.wHh->data, a.bIh ? a.bIh->data : nullptr, a.bHh ? a.bHh->data : nullptr, a.h0->data,
                      a.c0 ? a.c0->data : nullptr, a.lengths ? a.lengths->data() : nullptr};
    sequenceForward(a.shape, in, output->data, hN->data, cN ? cN->data : nullptr, saved->data, *ws, threads);
  }, T * B * gateCount(a.shape.kind) * H * (a.shape.inputSize + H + 8));
  return result;
}

Napi::Value NativeBackend::SequenceBackward(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto take = [this](const Napi::Value& v, const char* n, size_t l) { return Take(v, n, l); };
  auto takeOptional = [this](const Napi::Value& v, const char* n, size_t l) { return TakeOptional(v, n, l); };
  SeqArgs a = sequenceArgs(this, info, take, takeOptional);
  const size_t T = a.shape.steps, B = a.shape.batch, I = a.shape.inputSize, H = a.shape.hidden;
  const size_t GH = gateCount(a.shape.kind) * H;
  const bool lstm = a.shape.kind == CellKind::Lstm;
  StoragePtr saved = Take(info[13], "saved", sequenceSavedLength(a.shape));
  StoragePtr dOutput = Take(info[14], "dOutput", T * B * H);
  StoragePtr dhN = Take(info[15], "dhN", B * H);
  StoragePtr dcN = lstm ? TakeOptional(info[16], "dcN", B * H) : nullptr;
  StoragePtr dx = makeStorage(T * B * I), dWIh = makeStorage(GH * I), dWHh = makeStorage(GH * H);
  StoragePtr dBIh = a.bIh ? makeStorage(GH) : nullptr, dBHh = a.bHh ? makeStorage(GH) : nullptr;
  StoragePtr dh0 = makeStorage(B * H), dc0 = lstm ? makeStorage(B * H) : nullptr;
  Napi::Array result = Napi::Array::New(env, 7);
  result.Set(0u, Wrap(env, dx));
  result.Set(1u, Wrap(env, dWIh));
  result.Set(2u, Wrap(env, dWHh));
  result.Set(3u, dBIh ? Wrap(env, dBIh) : env.Null());
  result.Set(4u, dBHh ? Wrap(env, dBHh) : env.Null());
  result.Set(5u, Wrap(env, dh0));
  result.Set(6u, dc0 ? Wrap(env, dc0) : env.Null());
  Workspace* ws = &ws_;
  const int threads = threads_;
  Enqueue(env, [=] {
    SequenceInputs in{a.x->data, a.wIh->data, a.wHh->data, a.bIh ? a.bIh->data : nullptr, a.bHh ? a.bHh->data : nullptr, a.h0->data,
                      a.c0 ? a.c0->data : nullptr, a.lengths ? a.lengths->data() : nullptr};
    SequenceGrads out{dx->data, dWIh->data, dWHh->data, dBIh ? dBIh->data : nullptr, dBHh ? dBHh->data : nullptr, dh0->data, dc0 ? dc0->data : nullptr};
    sequenceBackward(a.shape, in, saved->data, dOutput->data, dhN->data, dcN ? dcN->data : nullptr, out, *ws, threads);
  }, 2 * T * B * GH * (I + H + 8));
  return result;
}

}  // namespace recur
