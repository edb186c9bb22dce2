// Element-wise kernels, reductions and small helpers. Generic element-wise ops compute in
// double and round once on store, exactly like the JS reference backend.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace recur {

// The op codes are indices into @recur/core/backend's UNARY_OPS and BINARY_OPS; the names below
// are reported to TypeScript (op_tables.cpp), which refuses to load an addon whose order differs.
enum class UnaryOp : int { Copy, Neg, Exp, Log, Tanh, Sigmoid, Relu, Step, Sqrt, Square, Abs, Reciprocal, Scale, Clamp, Count };
enum class BinaryOp : int { Add, Sub, Mul, Div, Count };
inline constexpr const char* kUnaryOpNames[] = {"copy", "neg", "exp", "log", "tanh", "sigmoid", "relu", "step", "sqrt", "square", "abs", "reciprocal", "scale", "clamp"};
inline constexpr const char* kBinaryOpNames[] = {"add", "sub", "mul", "div"};
static_assert(sizeof(kUnaryOpNames) / sizeof(*kUnaryOpNames) == static_cast<size_t>(UnaryOp::Count));
static_assert(sizeof(kBinaryOpNames) / sizeof(*kBinaryOpNames) == static_cast<size_t>(BinaryOp::Count));

void unary(UnaryOp op, const float* x, float* out, size_t n, double param, double param2);
void binary(BinaryOp op, const float* a, const std::vector<int64_t>& aStrides, const float* b, const std::vector<int64_t>& bStrides,
            const std::vector<int64_t>& shape, float* out);
void sumTo(const float* x, const std::vector<int64_t>& inShape, const std::vector<int64_t>& outShape, float* out);
double sumOfSquares(const float* x, size_t n);
// out[j] = Σ_r m[r, j], accumulated in double.
void sumColumns(const float* m, size_t rows, size_t cols, float* out);

// Walks every multi-index of `shape` in row-major order, calling visit(i, aOffset, bOffset).
template <typename F>
inline void forEachStrided(const std::vector<int64_t>& shape, const std::vector<int64_t>& aStrides, const std::vector<int64_t>& bStrides, F&& visit) {
  const size_t rank = shape.size();
  int64_t size = 1;
  for (int64_t d : shape) size *= d;
  if (size <= 0) return;
  std::vector<int64_t> index(rank, 0);
  int64_t a = 0, b = 0;
  // The last axis runs as an inner loop with fixed steps.
  const int64_t inner = rank ? shape[rank - 1] : 1;
  const int64_t aStep = rank ? aStrides[rank - 1] : 0;
  const int64_t bStep = rank ? bStrides[rank - 1] : 0;
  for (int64_t i = 0; i < size; i += inner) {
    int64_t ai = a, bi = b;
    for (int64_t j = 0; j < inner; j++, ai += aStep, bi += bStep) visit(i + j, ai, bi);
    for (int64_t d = static_cast<int64_t>(rank) - 2; d >= 0; d--) {
      index[d]++;
      a += aStrides[d];
      b += bStrides[d];
      if (index[d] < shape[d]) break;
      a -= aStrides[d] * shape[d];
      b -= bStrides[d] * shape[d];
      index[d] = 0;
    }
  }
}

}  // namespace recur
