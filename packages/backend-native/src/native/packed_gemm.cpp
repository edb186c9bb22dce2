#include "packed_gemm.h"

#include <algorithm>

#include "team.h"
#include "vec8.h"

namespace recur {

void packColumns(const float* B, size_t K, size_t N, bool transB, float* packed) {
  const size_t panels = (N + kPanelWidth - 1) / kPanelWidth;
  for (size_t p = 0; p < panels; p++) {
    float* dst = packed + p * K * kPanelWidth;
    const size_t j0 = p * kPanelWidth, width = std::min(kPanelWidth, N - j0);
    for (size_t k = 0; k < K; k++) {
      float* row = dst + k * kPanelWidth;
      for (size_t j = 0; j < width; j++) row[j] = transB ? B[(j0 + j) * K + k] : B[k * N + j0 + j];
      for (size_t j = width; j < kPanelWidth; j++) row[j] = 0.0f;
    }
  }
}

#if defined(__AVX2__) && defined(__FMA__)
namespace {
// MR rows of C, one 16-column panel: 2·MR accumulators in registers over all of K.
template <int MR>
void microKernel(const float* A, size_t K, const float* panel, bool accumulate, float* C, size_t ldc, size_t width) {
  v8 c0[MR], c1[MR];
  for (int i = 0; i < MR; i++) c0[i] = c1[i] = v8{};
  for (size_t k = 0; k < K; k++) {
    const v8 b0 = load8(panel + k * kPanelWidth), b1 = load8(panel + k * kPanelWidth + 8);
#pragma GCC unroll 6
    for (int i = 0; i < MR; i++) {
      const float a = A[i * K + k];
      c0[i] += a * b0;
      c1[i] += a * b1;
    }
  }
  for (int i = 0; i < MR; i++) {
    float* c = C + i * ldc;
    if (width == kPanelWidth) {
      store8(c, accumulate ? load8(c) + c0[i] : c0[i]);
      store8(c + 8, accumulate ? load8(c + 8) + c1[i] : c1[i]);
    } else {
      float row[kPanelWidth];
      store8(row, c0[i]);
      store8(row + 8, c1[i]);
      for (size_t j = 0; j < width; j++) c[j] = accumulate ? c[j] + row[j] : row[j];
    }
  }
}

// MR rows at A/C, dispatched to the kernel instantiated for that height (1–6).
void rowBlock(size_t MR, const float* A, size_t K, const float* panel, bool accumulate, float* C, size_t ldc, size_t width) {
  switch (MR) {
    case 6: microKernel<6>(A, K, panel, accumulate, C, ldc, width); break;
    case 5: microKernel<5>(A, K, panel, accumulate, C, ldc, width); break;
    case 4: microKernel<4>(A, K, panel, accumulate, C, ldc, width); break;
    case 3: microKernel<3>(A, K, panel, accumulate, C, ldc, width); break;
    case 2: microKernel<2>(A, K, panel, accumulate, C, ldc, width); break;
    case 1: microKernel<1>(A, K, panel, accumulate, C, ldc, width); break;
    default: break;
  }
}

void panelRange(const float* A, size_t M, size_t K, const float* packed, size_t N, bool accumulate, float* C, size_t ldc, size_t p0, size_t p1) {
  // Blocks of 6 rows; a remainder of 1 or 2 joins the last full block and the two split 4 + 3
  // or 4 + 4, because a 1- or 2-row block reuses each loaded panel row for too few FMAs (a
  // batch of 32 is 6·4 + 4 + 4, not 6·5 + 2).
  const size_t rem = M % 6;
  const size_t tail = (rem == 1 || rem == 2) && M > 6 ? 6 + rem : rem;
  for (size_t p = p0; p < p1; p++) {
    const float* panel = packed + p * K * kPanelWidth;
    const size_t j0 = p * kPanelWidth, width = std::min(kPanelWidth, N - j0);
    size_t m = 0;
    for (; m + tail < M; m += 6) rowBlock(6, A + m * K, K, panel, accumulate, C + m * ldc + j0, ldc, width);
    if (tail > 6) {
      rowBlock(4, A + m * K, K, panel, accumulate, C + m * ldc + j0, ldc, width);
      m += 4;
    }
    rowBlock(M - m, A + m * K, K, panel, accumulate, C + m * ldc + j0, ldc, width);
  }
}
}  // namespace

void packedGemm(const float* A, size_t M, size_t K, const float* packed, size_t N, bool accumulate, float* C, size_t ldc, Team* team) {
  const size_t panels = (N + kPanelWidth - 1) / kPanelWidth;
  const size_t chunks = team ? std::min(panels, static_cast<size_t>(team->size())) : 1;
  const auto chunk = [&](size_t i) {
    panelRange(A, M, K, packed, N, accumulate, C, ldc, panels * i / chunks, panels * (i + 1) / chunks);
  };
  if (chunks > 1) team->run(chunks, chunk);
  else chunk(0);
}
#else
void packedGemm(const float* A, size_t M, size_t K, const float* packed, size_t N, bool accumulate, float* C, size_t ldc, Team*) {
  // Correct but slow; callers check kPackedGemm.
  for (size_t m = 0; m < M; m++)
    for (size_t j = 0; j < N; j++) {
      const float* panel = packed + (j / kPanelWidth) * K * kPanelWidth + j % kPanelWidth;
      float s = 0.0f;
      for (size_t k = 0; k < K; k++) s += A[m * K + k] * panel[k * kPanelWidth];
      C[m * ldc + j] = accumulate ? C[m * ldc + j] + s : s;
    }
}
#endif

}  // namespace recur
