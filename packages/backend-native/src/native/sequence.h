// A whole single-direction recurrent layer, forward over all steps and backward through time.
//
// Forward: ONE gemm projects the inputs of every step, gx = x·W_ihᵀ [T·B, G·H]; then per step
// ONE product gh = h·W_hhᵀ (on W_hhᵀ packed once per call where usePackedSteps says so, see
// packed_gemm.h; else sgemm) and the fused gate kernel (which adds both biases). A batch row past
// its length is not stepped: it keeps its state and outputs zeros (packed sequences). With
// batch 1 (AVX2 builds) a step is instead split by hidden units over the backend's Team, each
// chunk computing its gate rows and its cells (and, for a one-step call, its share of gx).
//
// `saved` layout (identical to the JS reference, see cells.h for the per-row cell blocks):
//   cells [T, B, S·H] | hs [T + 1, B, H] (hs[0] = h0) | cs [T + 1, B, H] (LSTM only)
//
// Backward: per step (last to first) the fused cell backward writes dGates_t and the
// element-wise part of dh_prev, then ONE product adds dGh_t·W_hh into dh_prev (packed as above).
// After the loop, dx, dW_ih and dW_hh are each ONE gemm over all T·B rows (dGates and hs of
// every step are kept), and the bias gradients are column sums.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "cells.h"
#include "memory.h"

namespace recur {

class Team;

struct SequenceShape {
  CellKind kind;
  size_t steps, batch, inputSize, hidden;
};

size_t sequenceSavedLength(const SequenceShape& s);

// Scratch memory reused across calls (owned by one backend; used by one thread at a time: the
// JS thread runs a call inline only while the worker is idle). It grows through growScratch
// (memory.h): a failure throws OutOfMemory, which the task queue reports through read/sync.
struct Workspace {
  std::vector<float> gates, gh, dGh, zeros, wT;
  std::vector<float> unsaved;         // a step's activations and the state when nothing is saved
  std::vector<float> layerA, layerB;  // the outputs of the inner layers of a stack
  Team* team = nullptr;               // helpers for single-sequence steps (null: serial)
  float* zerosOf(size_t n) {
    // resize value-initialises the new elements and nothing ever writes here: all zeros.
    return growScratch(zeros, n, "a kernel's zeros");
  }
};

struct SequenceInputs {
  const float *x, *wIh, *wHh, *bIh, *bHh, *h0, *c0;  // bIh, bHh, h0, c0 may be null (zeros)
  const int32_t* lengths;                            // null: every row runs all steps
};

// `saved` may be null (inference): the activations then go to workspace scratch.
void sequenceForward(const SequenceShape& s, const SequenceInputs& in, float* output, float* hN, float* cN, float* saved, Workspace& ws, int threads);

struct LayerWeights {
  const float *wIh, *wHh, *bIh, *bHh;  // biases may be null
};

// `layers` sequenceForward calls, each layer's output the next one's input (inputSize is
// layer 0's; the others take hidden), nothing saved. h0, c0, hN, cN are [layers, B, H];
// h0, c0 may be null (zeros); output is the last layer's.
void sequenceStackForward(const SequenceShape& s, const float* x, const std::vector<LayerWeights>& layers, const float* h0, const float* c0,
                          const int32_t* lengths, float* output, float* hN, float* cN, Workspace& ws, int threads);

struct SequenceGrads {
  float *dx, *dWIh, *dWHh, *dBIh, *dBHh, *dh0, *dc0;  // dBIh, dBHh, dc0 may be null
};

void sequenceBackward(const SequenceShape& s, const SequenceInputs& in, const float* saved, const float* dOutput, const float* dhN, const float* dcN,
                      const SequenceGrads& out, Workspace& ws, int threads);

}  // namespace recur
