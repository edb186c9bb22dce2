// Row-major GEMM on top of the BLAS Fortran interface (sgemm_): C = alpha·op(A)·op(B) + beta·C.
#pragma once
#include <string>

namespace recur {

// A is [m, k] (or [k, m] when transA), B is [k, n] (or [n, k] when transB), C is [m, n].
// With beta == 0, C is never read (BLAS convention), so NaN there cannot leak in.
void gemm(bool transA, bool transB, int m, int n, int k, float alpha, const float* a, const float* b, float beta, float* c);

// OpenBLAS thread control where the linked BLAS is OpenBLAS (weak symbols; no-ops otherwise).
void blasSetThreads(int threads);
std::string blasDescription();

}  // namespace recur
