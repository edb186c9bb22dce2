// NativeBackend bindings of the fused kernels: cells, softmax cross-entropy, optimizer
// updates and whole sequences (cells.h, loss.h, optimizers.h, sequence.h).
#include "native_backend.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "args.h"
#include <functional>
#include <memory>

#include "cells.h"
#include "loss.h"
#include "optimizers.h"
#include "sequence.h"

namespace recur {

using namespace args;

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
  if (stateList.Length() != static_cast<uint32_t>(kOptimizerStateCount[kind])) fail(env, "optimizerStep: wrong number of state buffers");
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
  // false: inference, no backward will read the activations (an empty `saved` is returned).
  const bool save = !info[13].IsBoolean() || info[13].As<Napi::Boolean>().Value();
  StoragePtr output = makeStorage(T * B * H), hN = makeStorage(B * H);
  StoragePtr cN = lstm ? makeStorage(B * H) : nullptr;
  StoragePtr saved = makeStorage(save ? sequenceSavedLength(a.shape) : 0);
  Napi::Array result = Napi::Array::New(env, 4);
  result.Set(0u, Wrap(env, output));
  result.Set(1u, Wrap(env, hN));
  result.Set(2u, lstm ? Wrap(env, cN) : env.Null());
  result.Set(3u, Wrap(env, saved));
  Workspace* ws = &ws_;
  const int threads = threads_;
  Enqueue(env, [a, output, hN, cN, saved, save, ws, threads] {
    SequenceInputs in{a.x->data, a.wIh->data, a.wHh->data, a.bIh ? a.bIh->data : nullptr, a.bHh ? a.bHh->data : nullptr, a.h0->data,
                      a.c0 ? a.c0->data : nullptr, a.lengths ? a.lengths->data() : nullptr};
    sequenceForward(a.shape, in, output->data, hN->data, cN ? cN->data : nullptr, save ? saved->data : nullptr, *ws, threads);
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

Napi::Value NativeBackend::SequenceStackForward(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  SequenceShape shape;
  shape.kind = cellKind(info[0]);
  shape.steps = dim(info[1], "steps");
  shape.batch = dim(info[2], "batch");
  shape.inputSize = dim(info[3], "inputSize");
  shape.hidden = dim(info[4], "hidden");
  const size_t T = shape.steps, B = shape.batch, I = shape.inputSize, H = shape.hidden;
  const bool lstm = shape.kind == CellKind::Lstm;
  const size_t GH = checkedProduct(env, {static_cast<size_t>(gateCount(shape.kind)), H});
  checkedProduct(env, {T, B, GH});
  StoragePtr x = Take(info[5], "x", checkedProduct(env, {T, B, I}));
  if (!info[6].IsArray()) fail(env, "sequenceStackForward: weights must be an array of buffers");
  Napi::Array list = info[6].As<Napi::Array>();
  const size_t L = list.Length() / 4;
  if (L == 0 || list.Length() != 4 * L) fail(env, "sequenceStackForward: weights must hold wIh, wHh, bIh, bHh for at least one layer");
  const size_t states = checkedProduct(env, {L, B, H});
  std::vector<StoragePtr> weights;  // 4 per layer, null where a bias is absent
  for (size_t l = 0; l < L; l++) {
    const uint32_t at = static_cast<uint32_t>(4 * l);
    weights.push_back(Take(list.Get(at), "wIh", checkedProduct(env, {GH, l == 0 ? I : H})));
    weights.push_back(Take(list.Get(at + 1), "wHh", checkedProduct(env, {GH, H})));
    weights.push_back(TakeOptional(list.Get(at + 2), "bIh", GH));
    weights.push_back(TakeOptional(list.Get(at + 3), "bHh", GH));
  }
  StoragePtr h0 = TakeOptional(info[7], "h0", states);
  StoragePtr c0 = lstm ? TakeOptional(info[8], "c0", states) : nullptr;
  std::shared_ptr<std::vector<int32_t>> lengths;
  if (!info[9].IsUndefined() && !info[9].IsNull()) {
    lengths = std::make_shared<std::vector<int32_t>>(int32s(info[9], "lengths"));
    if (lengths->size() != B) fail(env, "lengths must have one entry per batch row");
    for (int32_t n : *lengths)
      if (n < 0 || static_cast<size_t>(n) > T) fail(env, "lengths must lie in [0, steps]");
  }
  StoragePtr output = makeStorage(T * B * H), hN = makeStorage(states);
  StoragePtr cN = lstm ? makeStorage(states) : nullptr;
  Napi::Array result = Napi::Array::New(env, 3);
  result.Set(0u, Wrap(env, output));
  result.Set(1u, Wrap(env, hN));
  result.Set(2u, lstm ? Wrap(env, cN) : env.Null());
  Workspace* ws = &ws_;
  const int threads = threads_;
  const size_t work = T * B * GH * (I + (2 * L - 1) * H + 8 * L);
  Enqueue(env, [shape, x, weights, h0, c0, lengths, output, hN, cN, ws, threads] {
    std::vector<LayerWeights> layers;
    for (size_t i = 0; i < weights.size(); i += 4) {
      auto data = [](const StoragePtr& p) -> const float* { return p ? p->data : nullptr; };
      layers.push_back({data(weights[i]), data(weights[i + 1]), data(weights[i + 2]), data(weights[i + 3])});
    }
    sequenceStackForward(shape, x->data, layers, h0 ? h0->data : nullptr, c0 ? c0->data : nullptr, lengths ? lengths->data() : nullptr, output->data,
                         hN->data, cN ? cN->data : nullptr, *ws, threads);
  }, work);
  return result;
}

}  // namespace recur
