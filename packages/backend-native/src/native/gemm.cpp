#include "gemm.h"

#include <cstring>

extern "C" {
void sgemm_(const char* transa, const char* transb, const int* m, const int* n, const int* k, const float* alpha, const float* a,
            const int* lda, const float* b, const int* ldb, const float* beta, float* c, const int* ldc);
// OpenBLAS extensions; weak so that any other BLAS still links.
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
    return std::string("OpenBLAS ") + (config ? config : "");
  }
  return "BLAS (sgemm_)";
}

}  // namespace recur
