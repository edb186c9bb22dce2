#include "dot.h"

#include "vec8.h"

namespace recur {

#if defined(__AVX2__) && defined(__FMA__)
namespace {
inline float sum8(v8 a) {
  float s = 0.0f;
  for (int l = 0; l < 8; l++) s += a[l];
  return s;
}
}  // namespace

void dotRows(const float* W, size_t K, const float* v, size_t rows, float* y) {
  const size_t K8 = K & ~static_cast<size_t>(7);
  size_t r = 0;
  for (; r + 4 <= rows; r += 4) {
    const float* w0 = W + r * K;
    const float *w1 = w0 + K, *w2 = w1 + K, *w3 = w2 + K;
    v8 a0 = {}, a1 = {}, a2 = {}, a3 = {};
    for (size_t p = 0; p < K8; p += 8) {
      const v8 x = load8(v + p);
      a0 += load8(w0 + p) * x;
      a1 += load8(w1 + p) * x;
      a2 += load8(w2 + p) * x;
      a3 += load8(w3 + p) * x;
    }
    float s0 = sum8(a0), s1 = sum8(a1), s2 = sum8(a2), s3 = sum8(a3);
    for (size_t p = K8; p < K; p++) {
      s0 += w0[p] * v[p];
      s1 += w1[p] * v[p];
      s2 += w2[p] * v[p];
      s3 += w3[p] * v[p];
    }
    y[r] = s0;
    y[r + 1] = s1;
    y[r + 2] = s2;
    y[r + 3] = s3;
  }
  for (; r < rows; r++) {
    const float* w = W + r * K;
    float s = 0.0f;
    for (size_t p = 0; p < K; p++) s += w[p] * v[p];
    y[r] = s;
  }
}
#else
// Correct but slow; callers check kVectorDot and use sgemv instead.
void dotRows(const float* W, size_t K, const float* v, size_t rows, float* y) {
  for (size_t r = 0; r < rows; r++) {
    float s = 0.0f;
    for (size_t p = 0; p < K; p++) s += W[r * K + p] * v[p];
    y[r] = s;
  }
}
#endif

}  // namespace recur
