// The per-step products of a recurrent layer with a few batch rows against a weight matrix
// that stays the same for all T steps: gh = h·W_hhᵀ forward, dh += dG·W_hh backward.
//
// OpenBLAS packs its B operand again on every call, which for [32×256]·[256×1024] costs as
// much as the product (measured 56–68 GFLOP/s on 2 cores). Here the weights are packed once per
// layer call, in panels of 16 columns ([⌈N/16⌉][K][16], zero-padded), and every step runs a
// 6×16 register-blocked kernel over them: 100–130 GFLOP/s on the same shape and cores. Each
// panel is one thread's for the whole call, so it stays in that core's L2 across steps.
#pragma once
#include <cstddef>

#include "dot.h"

namespace recur {

class Team;

// Whether the packed kernels exist in this build (AVX2 + FMA, as dot.h).
constexpr bool kPackedGemm = kVectorDot;

constexpr size_t kPanelWidth = 16;

// Floats of a packed K×N operand.
inline size_t packedLength(size_t K, size_t N) { return (N + kPanelWidth - 1) / kPanelWidth * kPanelWidth * K; }

// Packs op(B) [K, N] into `packed` (packedLength(K, N) floats): B is [K, N] row-major, or
// [N, K] when transB.
void packColumns(const float* B, size_t K, size_t N, bool transB, float* packed);

// C [M, N] (row stride ldc) = A [M, K]·op(B) (+ C when accumulate), op(B) packed by packColumns.
// The panels are split into `team` chunks (one per thread; serial without a team).
void packedGemm(const float* A, size_t M, size_t K, const float* packed, size_t N, bool accumulate, float* C, size_t ldc, Team* team);

}  // namespace recur
