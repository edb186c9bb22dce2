// A whole single-direction recurrent layer, forward over all steps and backward through time.
//
// Forward: ONE gemm projects the inputs of every step, gx = x·W_ihᵀ [T·B, G·H]; then per step
// ONE gemm gh = h·W_hhᵀ and the fused gate kernel (which adds both biases). A batch row past
// its length is not stepped: it keeps its state and outputs zeros (packed sequences).
//
// `saved` layout (identical to the JS reference, see cells.h for the per-row cell blocks):
//   cells [T, B, S·H] | hs [T + 1, B, H] (hs[0] = h0) | cs [T + 1, B, H] (LSTM only)
//
// Backward: per step (last to first) the fused cell backward writes dGates_t and the
// element-wise part of dh_prev, then ONE gemm adds dGh_t·W_hh into dh_prev. After the loop,
// dx, dW_ih and dW_hh are each ONE gemm over all T·B rows (dGates and hs of every step are
// kept), and the bias gradients are column sums.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "cells.h"

namespace recur {

struct SequenceShape {
  CellKind kind;
  size_t steps, batch, inputSize, hidden;
};

size_t sequenceSavedLength(const SequenceShape& s);

// Scratch memory reused across calls (owned by one backend; used only by its worker thread).
struct Workspace {
  std::vector<float> gates, gh, dGh, zeros, wT;
  float* zerosOf(size_t n) {
    if (zeros.size() < n) zeros.assign(n, 0.0f);
    return zeros.data();
  }
};

struct SequenceInputs {
  const float *x, *wIh, *wHh, *bIh, *bHh, *h0, *c0;  // bIh, bHh, c0 may be null
  const int32_t* lengths;                            // null: every row runs all steps
};

void sequenceForward(const SequenceShape& s, const SequenceInputs& in, float* output, float* hN, float* cN, float* saved, Workspace& ws, int threads);

struct SequenceGrads {
  float *dx, *dWIh, *dWHh, *dBIh, *dBHh, *dh0, *dc0;  // dBIh, dBHh, dc0 may be null
};

void sequenceBackward(const SequenceShape& s, const SequenceInputs& in, const float* saved, const float* dOutput, const float* dhN, const float* dcN,
                      const SequenceGrads& out, Workspace& ws, int threads);

}  // namespace recur
