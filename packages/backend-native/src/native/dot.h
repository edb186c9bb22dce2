// Dot products of matrix rows with one vector, the kernel of single-sequence steps: y[r] =
// W[r]·v for r in [0, rows), W row-major with K columns. Four rows share each load of v.
#pragma once
#include <cstddef>

namespace recur {

// Whether dotRows is vectorised for this build (AVX2 + FMA): without it, OpenBLAS's runtime-
// dispatched sgemv is faster, and callers use that instead.
#if defined(__AVX2__) && defined(__FMA__)
constexpr bool kVectorDot = true;
#else
constexpr bool kVectorDot = false;
#endif

void dotRows(const float* W, size_t K, const float* v, size_t rows, float* y);

}  // namespace recur
