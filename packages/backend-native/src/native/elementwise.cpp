#include "elementwise.h"

#include <cmath>
#include <stdexcept>

#include "memory.h"

namespace recur {

namespace {
inline double sigmoidD(double x) {
  if (x >= 0) return 1.0 / (1.0 + std::exp(-x));
  const double e = std::exp(x);
  return e / (1.0 + e);
}

template <typename F>
inline void mapInto(const float* x, float* out, size_t n, F f) {
  for (size_t i = 0; i < n; i++) out[i] = static_cast<float>(f(static_cast<double>(x[i])));
}
}  // namespace

void unary(UnaryOp op, const float* x, float* out, size_t n, double param, double param2) {
  switch (op) {
    case UnaryOp::Copy:
      if (out != x) for (size_t i = 0; i < n; i++) out[i] = x[i];
      return;
    case UnaryOp::Neg: return mapInto(x, out, n, [](double v) { return -v; });
    case UnaryOp::Exp: return mapInto(x, out, n, [](double v) { return std::exp(v); });
    case UnaryOp::Log: return mapInto(x, out, n, [](double v) { return std::log(v); });
    case UnaryOp::Tanh: return mapInto(x, out, n, [](double v) { return std::tanh(v); });
    case UnaryOp::Sigmoid: return mapInto(x, out, n, sigmoidD);
    case UnaryOp::Relu: return mapInto(x, out, n, [](double v) { return v > 0 ? v : 0.0; });
    case UnaryOp::Step: return mapInto(x, out, n, [](double v) { return v > 0 ? 1.0 : 0.0; });
    case UnaryOp::Sqrt: return mapInto(x, out, n, [](double v) { return std::sqrt(v); });
    case UnaryOp::Square: return mapInto(x, out, n, [](double v) { return v * v; });
    case UnaryOp::Abs: return mapInto(x, out, n, [](double v) { return std::fabs(v); });
    case UnaryOp::Reciprocal: return mapInto(x, out, n, [](double v) { return 1.0 / v; });
    case UnaryOp::Scale: return mapInto(x, out, n, [param](double v) { return v * param; });
    case UnaryOp::Clamp:
      // NaN stays NaN (Math.min(Math.max(NaN, lo), hi) in the reference).
      return mapInto(x, out, n, [param, param2](double v) {
        if (v < param) v = param;
        if (v > param2) v = param2;
        return v;
      });
    default: throw std::invalid_argument("unary: unknown op");
  }
}

void binary(BinaryOp op, const float* a, const std::vector<int64_t>& aStrides, const float* b, const std::vector<int64_t>& bStrides,
            const std::vector<int64_t>& shape, float* out) {
  switch (op) {
    case BinaryOp::Add:
      return forEachStrided(shape, aStrides, bStrides, [&](int64_t i, int64_t ai, int64_t bi) { out[i] = static_cast<float>(static_cast<double>(a[ai]) + b[bi]); });
    case BinaryOp::Sub:
      return forEachStrided(shape, aStrides, bStrides, [&](int64_t i, int64_t ai, int64_t bi) { out[i] = static_cast<float>(static_cast<double>(a[ai]) - b[bi]); });
    case BinaryOp::Mul:
      return forEachStrided(shape, aStrides, bStrides, [&](int64_t i, int64_t ai, int64_t bi) { out[i] = static_cast<float>(static_cast<double>(a[ai]) * b[bi]); });
    case BinaryOp::Div:
      return forEachStrided(shape, aStrides, bStrides, [&](int64_t i, int64_t ai, int64_t bi) { out[i] = static_cast<float>(static_cast<double>(a[ai]) / b[bi]); });
    default: throw std::invalid_argument("binary: unknown op");
  }
}

void sumTo(const float* x, const std::vector<int64_t>& inShape, const std::vector<int64_t>& outShape, float* out) {
  const size_t rank = inShape.size();
  std::vector<int64_t> inStrides(rank), outStrides(rank);
  int64_t s = 1, o = 1, outSize = 1;
  for (int64_t d = static_cast<int64_t>(rank) - 1; d >= 0; d--) {
    inStrides[d] = s;
    s *= inShape[d];
    outStrides[d] = (outShape[d] == 1 && inShape[d] != 1) ? 0 : o;
    o *= outShape[d];
  }
  for (int64_t d : outShape) outSize *= d;
  std::vector<double> sums = scratchVector(static_cast<size_t>(outSize), 0.0, "sumTo's accumulators (kernel scratch)");
  forEachStrided(inShape, inStrides, outStrides, [&](int64_t, int64_t xi, int64_t oi) { sums[oi] += x[xi]; });
  for (int64_t i = 0; i < outSize; i++) out[i] = static_cast<float>(sums[i]);
}

double sumOfSquares(const float* x, size_t n) {
  // Four double accumulators: vectorisable, and exact enough for a gradient norm.
  double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    s0 += static_cast<double>(x[i]) * x[i];
    s1 += static_cast<double>(x[i + 1]) * x[i + 1];
    s2 += static_cast<double>(x[i + 2]) * x[i + 2];
    s3 += static_cast<double>(x[i + 3]) * x[i + 3];
  }
  for (; i < n; i++) s0 += static_cast<double>(x[i]) * x[i];
  return (s0 + s1) + (s2 + s3);
}

void sumColumns(const float* m, size_t rows, size_t cols, float* out) {
  std::vector<double> sums = scratchVector(cols, 0.0, "a column sum's accumulators (kernel scratch)");
  for (size_t r = 0; r < rows; r++) {
    const float* row = m + r * cols;
    for (size_t j = 0; j < cols; j++) sums[j] += row[j];
  }
  for (size_t j = 0; j < cols; j++) out[j] = static_cast<float>(sums[j]);
}

}  // namespace recur
