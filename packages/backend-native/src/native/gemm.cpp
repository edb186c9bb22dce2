#include "gemm.h"

#include <cstring>

extern "C" {
void sgemm_(const char* transa, const char* transb, const int* m, const int* n, const int* k, const float* alpha, const float* a,
            const int* lda, const float* b, const int* ldb, const float* beta, float* c, const int* ldc);
// OpenBLAS extensions; weak so that any other BLAS still links.
void sgemv_(const char* trans, const int* m, const int* n, const float* alpha, const float* a, const int* lda, const float* x, const int* incx,
            const float* beta, float* y, const int* incy);
void openblas_set_num_threads(int) __attribute__((weak));
char* openblas_get_config(void) __attribute__((weak));
}

namespace recur {

void gemm(bool transA, bool transB, int m, int n, int k, float alpha, const float* a, const float* b, float beta, float* c) {
  if (m <= 0 || n <= 0) return;
  if (k <= 0 || alpha == 0.0f) {
    // No product: C = beta·C (and C is not read when beta is 0).
    const size_t size = static_cast<size_t>(m) * n;
    if (beta == 0.0f) std::memset(c, 0, size * sizeof(float));
    else if (beta != 1.0f)
      for (size_t i = 0; i < size; i++) c[i] *= beta;
    return;
  }
  if (m == 1 || n == 1) {
    // A matrix-vector product (single-sequence inference, batch-1 steps): sgemv, which does
    // not pack the matrix the way sgemm does. beta 0 must not read C: zero it first.
    if (beta == 0.0f) std::memset(c, 0, static_cast<size_t>(m) * n * sizeof(float));
    const int one = 1;
    const float b0 = beta == 0.0f ? 0.0f : beta;
    if (m == 1) {
      // c[j] = Σ_p a[p]·op(B)[p, j]; a is contiguous whether or not it is stored transposed.
      if (transB) {
        const char t = 'T';  // B [n, k] row-major = column-major k×n
        sgemv_(&t, &k, &n, &alpha, b, &k, a, &one, &b0, c, &one);
      } else {
        const char t = 'N';  // B [k, n] row-major = column-major n×k
        sgemv_(&t, &n, &k, &alpha, b, &n, a, &one, &b0, c, &one);
      }
    } else {
      // c[i] = Σ_p op(A)[i, p]·b[p]; b is contiguous either way.
      if (transA) {
        const char t = 'N';  // A [k, m] row-major = column-major m×k
        sgemv_(&t, &m, &k, &alpha, a, &m, b, &one, &b0, c, &one);
      } else {
        const char t = 'T';  // A [m, k] row-major = column-major k×m
        sgemv_(&t, &k, &m, &alpha, a, &k, b, &one, &b0, c, &one);
      }
    }
    return;
  }
  // Row-major C = op(A)·op(B) is column-major Cᵀ = op(B)ᵀ·op(A)ᵀ: swap the operands.
  const char ta = transB ? 'T' : 'N';
  const char tb = transA ? 'T' : 'N';
  const int lda = transB ? k : n;  // leading dimension of B as stored
  const int ldb = transA ? m : k;  // of A as stored
  const int ldc = n;
  sgemm_(&ta, &tb, &n, &m, &k, &alpha, b, &lda, a, &ldb, &beta, c, &ldc);
}

void blasSetThreads(int threads) {
  if (openblas_set_num_threads) openblas_set_num_threads(threads);
}

std::string blasDescription() {
  if (openblas_get_config) {
    const char* config = openblas_get_config();
    return config ? std::string(config) : std::string("OpenBLAS");
  }
  return "BLAS (sgemm_)";
}

}  // namespace recur
