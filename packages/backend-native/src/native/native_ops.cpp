// NativeBackend bindings of the dense math and data movement methods: check, allocate the
// output, enqueue the kernel (elementwise.h, gemm.h, movement.h).
#include "native_backend.h"

#include <cmath>
#include <cstring>
#include <vector>

#include "args.h"
#include "elementwise.h"
#include "gemm.h"
#include "movement.h"

namespace recur {

using namespace args;

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

}  // namespace recur
