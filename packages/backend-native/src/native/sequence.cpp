#include "sequence.h"

#include <algorithm>
#include <cstring>

#include "dot.h"
#include "elementwise.h"
#include "gemm.h"
#include "packed_gemm.h"
#include "parallel.h"
#include "team.h"

namespace recur {

size_t sequenceSavedLength(const SequenceShape& s) {
  const size_t states = (s.steps + 1) * s.batch * s.hidden;
  return s.steps * s.batch * savedBlocks(s.kind) * s.hidden + (s.kind == CellKind::Lstm ? 2 : 1) * states;
}

namespace {
inline bool active(const int32_t* lengths, size_t t, size_t b) { return lengths == nullptr || static_cast<int64_t>(t) < lengths[b]; }

// out [cols, rows] = inᵀ for in [rows, cols], in 32×32 tiles.
void transpose(const float* in, size_t rows, size_t cols, float* out) {
  constexpr size_t tile = 32;
  for (size_t r0 = 0; r0 < rows; r0 += tile) {
    const size_t r1 = std::min(rows, r0 + tile);
    for (size_t c0 = 0; c0 < cols; c0 += tile) {
      const size_t c1 = std::min(cols, c0 + tile);
      for (size_t r = r0; r < r1; r++)
        for (size_t c = c0; c < c1; c++) out[c * rows + r] = in[r * cols + c];
    }
  }
}

// Whether a layer's per-step products run on W_hh packed once per call (packed_gemm.h): with
// AVX2, several batch rows, and weights of at least 512 KiB. Below that size OpenBLAS's own
// per-call packing is cheap and it kept up or won (measured on 2 cores, T 64, B 32: Elman 256
// and GRU 128 were 5–20% slower packed; LSTM 256, GRU 256, Elman 512 and LSTM 512 10–30% faster).
inline bool usePackedSteps(size_t T, size_t B, size_t GH, size_t H) { return kPackedGemm && B > 1 && T >= 2 && GH * H >= (size_t{1} << 17); }

// The batch rows of one step's cell kernels. Where the step's product ran on the Team (packed
// kernels), so do they: OpenMP's threads would fight the Team's still-spinning helpers for the
// same cores.
template <typename F>
void stepRows(bool onTeam, Team* team, int threads, size_t B, size_t workPerRow, F&& body) {
  if (onTeam && team && B > 1 && B * workPerRow >= kParallelGrain) team->run(B, body);
  else parallelRows(threads, B, workPerRow, body);
}

// One step of a single sequence (batch 1). x is null when gx already holds the input
// projection; otherwise singleStep computes it too.
struct StepRow {
  const float *x, *wIh;
  float* gx;
  const float *wHh, *h;
  float* gh;
  const float *bIh, *bHh, *c;
  float *hOut, *cOut, *cells, *out;
};

// Hidden units per chunk of singleStep: small enough to balance two or more threads, large
// enough (16 rows of each gate block) to keep the four-row dot kernel busy.
constexpr size_t kStepUnits = 16;
// Multiply-adds below which splitting a step costs more than it saves.
constexpr size_t kStepTeamWork = static_cast<size_t>(1) << 15;

// Split by hidden units: each chunk computes its rows of every gate block, gh = W_hh·h (and
// gx = W_ih·x), then the cell for its units, so the chunks need no barrier between the
// products and the cell. Every step streams all the weights from memory (megabytes, no
// longer in L2), which several cores do at several times one core's rate.
void singleStep(CellKind kind, size_t H, size_t I, const StepRow& r, Team* team) {
  const size_t G = gateCount(kind);
  const size_t chunks = (H + kStepUnits - 1) / kStepUnits;
  auto body = [&](size_t chunk) {
    const size_t j0 = chunk * kStepUnits, j1 = std::min(H, j0 + kStepUnits);
    for (size_t g = 0; g < G; g++) {
      const size_t r0 = g * H + j0;
      if (r.x) dotRows(r.wIh + r0 * I, I, r.x, j1 - j0, r.gx + r0);
      dotRows(r.wHh + r0 * H, H, r.h, j1 - j0, r.gh + r0);
    }
    cellForwardRange(kind, H, j0, j1, r.gx, r.bIh, r.gh, r.bHh, r.h, r.c, r.hOut, r.cOut, r.cells);
    std::memcpy(r.out + j0, r.hOut + j0, sizeof(float) * (j1 - j0));
  };
  if (team && G * H * (H + (r.x ? I : 0)) >= kStepTeamWork) {
    team->run(chunks, body);
  } else {
    for (size_t chunk = 0; chunk < chunks; chunk++) body(chunk);
  }
}
}  // namespace

void sequenceForward(const SequenceShape& s, const SequenceInputs& in, float* output, float* hN, float* cN, float* saved, Workspace& ws, int threads) {
  const size_t T = s.steps, B = s.batch, I = s.inputSize, H = s.hidden;
  const size_t GH = gateCount(s.kind) * H, SH = savedBlocks(s.kind) * H;
  const bool lstm = s.kind == CellKind::Lstm;
  // Unsaved (inference), one step's activations are overwritten by the next and the states
  // alternate between two slots: the scratch does not grow with T.
  const bool keep = saved != nullptr;
  float* scratch = keep ? nullptr : growScratch(ws.unsaved, B * SH + 4 * B * H, "a sequence's unsaved activations (kernel scratch)");
  float* cells = keep ? saved : scratch;
  float* hs = keep ? saved + T * B * SH : scratch + B * SH;
  float* cs = lstm ? hs + (keep ? T + 1 : 2) * B * H : nullptr;
  auto slot = [keep](size_t t) { return keep ? t : t & 1; };
  if (in.h0) std::memcpy(hs, in.h0, sizeof(float) * B * H);
  else std::memset(hs, 0, sizeof(float) * B * H);
  if (lstm) {
    if (in.c0) std::memcpy(cs, in.c0, sizeof(float) * B * H);
    else std::memset(cs, 0, sizeof(float) * B * H);
  }
  const float* zeros = ws.zerosOf(GH);
  const float* bIh = in.bIh ? in.bIh : zeros;
  const float* bHh = in.bHh ? in.bHh : zeros;

  // A single sequence steps through matrix-vector products (singleStep); with one step, the
  // input projection joins them there.
  const bool single = B == 1 && kVectorDot;
  const bool fuseInput = single && T == 1;
  // Otherwise the input projection of all T steps is one gemm (biases are added in the gate kernel).
  float* gx = growScratch(ws.gates, T * B * GH, "a sequence's gates (kernel scratch)");
  if (!fuseInput) gemm(false, true, static_cast<int>(T * B), static_cast<int>(GH), static_cast<int>(I), 1.0f, in.x, in.wIh, 0.0f, gx);
  float* gh = growScratch(ws.gh, B * GH, "a step's hidden-state products (kernel scratch)");
  // The per-step product h·W_hhᵀ has few rows (the batch). With AVX2 it runs on W_hhᵀ packed
  // once per call (packed_gemm.h). Otherwise OpenBLAS runs it markedly faster (measured 55 → 85
  // GFLOP/s for [32×256]·[256×1024]) with W_hhᵀ stored as a plain [H, G·H] matrix than through
  // its transposed-operand path, so transpose once per call when the loop is long enough to
  // repay the copy. A single row (inference) uses the dot kernels of singleStep instead.
  const bool packed = usePackedSteps(T, B, GH, H);
  const bool pretranspose = !packed && B > 1 && T >= 4;
  const float* whhT = nullptr;
  if (packed) {
    float* w = growScratch(ws.wT, packedLength(H, GH), "the packed recurrent weights (kernel scratch)");
    packColumns(in.wHh, H, GH, true, w);
    whhT = w;
  } else if (pretranspose) {
    float* w = growScratch(ws.wT, GH * H, "the transposed recurrent weights (kernel scratch)");
    transpose(in.wHh, GH, H, w);
    whhT = w;
  }

  for (size_t t = 0; t < T; t++) {
    const float* h = hs + slot(t) * B * H;
    float* hOut = hs + slot(t + 1) * B * H;
    const float* c = lstm ? cs + slot(t) * B * H : nullptr;
    float* cOut = lstm ? cs + slot(t + 1) * B * H : nullptr;
    float* stepCells = keep ? cells + t * B * SH : cells;
    if (single && active(in.lengths, t, 0)) {
      const StepRow row{fuseInput ? in.x : nullptr, in.wIh, gx + t * GH, in.wHh, h, gh, bIh, bHh, c, hOut, cOut, stepCells, output + t * H};
      singleStep(s.kind, H, I, row, ws.team);
      continue;
    }
    if (packed) packedGemm(h, B, H, whhT, GH, false, gh, GH, ws.team);
    else if (pretranspose) gemm(false, false, static_cast<int>(B), static_cast<int>(GH), static_cast<int>(H), 1.0f, h, whhT, 0.0f, gh);
    else gemm(false, true, static_cast<int>(B), static_cast<int>(GH), static_cast<int>(H), 1.0f, h, in.wHh, 0.0f, gh);
    float* out = output + t * B * H;
    stepRows(packed, ws.team, threads, B, GH, [&](size_t b) {
      if (active(in.lengths, t, b)) {
        cellForwardRow(s.kind, H, gx + (t * B + b) * GH, bIh, gh + b * GH, bHh, h + b * H, lstm ? c + b * H : nullptr, hOut + b * H,
                       lstm ? cOut + b * H : nullptr, stepCells + b * SH);
        std::memcpy(out + b * H, hOut + b * H, sizeof(float) * H);
      } else {
        // Finished: carry the state unchanged; the output row is zero.
        std::memcpy(hOut + b * H, h + b * H, sizeof(float) * H);
        if (lstm) std::memcpy(cOut + b * H, c + b * H, sizeof(float) * H);
        std::memset(out + b * H, 0, sizeof(float) * H);
      }
    });
  }
  std::memcpy(hN, hs + slot(T) * B * H, sizeof(float) * B * H);
  if (lstm && cN) std::memcpy(cN, cs + slot(T) * B * H, sizeof(float) * B * H);
}

void sequenceStackForward(const SequenceShape& s, const float* x, const std::vector<LayerWeights>& layers, const float* h0, const float* c0,
                          const int32_t* lengths, float* output, float* hN, float* cN, Workspace& ws, int threads) {
  const size_t T = s.steps, B = s.batch, H = s.hidden, L = layers.size();
  const bool lstm = s.kind == CellKind::Lstm;
  const float* input = x;
  for (size_t l = 0; l < L; l++) {
    // Inner layers write alternately into two workspace buffers: layer l reads l − 1's.
    float* out = l + 1 == L ? output : growScratch(l % 2 ? ws.layerB : ws.layerA, T * B * H, "an inner layer's output (kernel scratch)");
    SequenceShape shape{s.kind, T, B, l == 0 ? s.inputSize : H, H};
    const LayerWeights& w = layers[l];
    SequenceInputs in{input, w.wIh, w.wHh, w.bIh, w.bHh, h0 ? h0 + l * B * H : nullptr, lstm && c0 ? c0 + l * B * H : nullptr, lengths};
    sequenceForward(shape, in, out, hN + l * B * H, lstm ? cN + l * B * H : nullptr, nullptr, ws, threads);
    input = out;
  }
}

void sequenceBackward(const SequenceShape& s, const SequenceInputs& in, const float* saved, const float* dOutput, const float* dhN, const float* dcN,
                      const SequenceGrads& out, Workspace& ws, int threads) {
  const size_t T = s.steps, B = s.batch, I = s.inputSize, H = s.hidden;
  const size_t GH = gateCount(s.kind) * H, SH = savedBlocks(s.kind) * H;
  const bool lstm = s.kind == CellKind::Lstm;
  const bool gru = s.kind == CellKind::Gru;
  const float* cells = saved;
  const float* hs = saved + T * B * SH;
  const float* cs = lstm ? hs + (T + 1) * B * H : nullptr;

  // Gate gradients of every step. Only GRU has different gx- and gh-side gradients.
  float* dGx = growScratch(ws.gates, T * B * GH, "a sequence's gate gradients (kernel scratch)");
  float* dGh = gru ? growScratch(ws.dGh, T * B * GH, "a sequence's recurrent gate gradients (kernel scratch)") : dGx;
  const float* zeros = ws.zerosOf(H);

  // The gradient on the state after the current step, carried backwards in the output
  // buffers themselves (dh0, dc0 hold the final answer when the loop ends).
  float* dh = out.dh0;
  std::memcpy(dh, dhN, sizeof(float) * B * H);
  float* dc = lstm ? out.dc0 : nullptr;
  if (lstm) {
    if (dcN) std::memcpy(dc, dcN, sizeof(float) * B * H);
    else std::memset(dc, 0, sizeof(float) * B * H);
  }

  // dh_prev += dGh_t·W_hh runs on W_hh packed once per call where the packed kernel exists (see
  // sequenceForward).
  const bool packed = usePackedSteps(T, B, GH, H);
  float* whhPacked = packed ? growScratch(ws.wT, packedLength(GH, H), "the packed recurrent weights (kernel scratch)") : nullptr;
  if (packed) packColumns(in.wHh, GH, H, false, whhPacked);

  for (size_t t = T; t-- > 0;) {
    const float* dOut = dOutput + t * B * H;
    stepRows(packed, ws.team, threads, B, GH, [&](size_t b) {
      float* dgx = dGx + (t * B + b) * GH;
      float* dgh = dGh + (t * B + b) * GH;
      if (!active(in.lengths, t, b)) {
        // A finished row passes dh, dc straight through and contributes no gate gradient.
        std::memset(dgx, 0, sizeof(float) * GH);
        if (gru) std::memset(dgh, 0, sizeof(float) * GH);
        return;
      }
      cellBackwardRow(s.kind, H, cells + (t * B + b) * SH, hs + (t * B + b) * H, lstm ? cs + (t * B + b) * H : nullptr, dh + b * H, dOut + b * H,
                      lstm ? dc + b * H : zeros, dgx, dgh, dh + b * H, lstm ? dc + b * H : nullptr);
    });
    // The path through gh = h·W_hhᵀ: dh_prev += dGh_t·W_hh (rows of finished sequences add 0).
    if (packed) packedGemm(dGh + t * B * GH, B, GH, whhPacked, H, true, dh, H, ws.team);
    else gemm(false, false, static_cast<int>(B), static_cast<int>(H), static_cast<int>(GH), 1.0f, dGh + t * B * GH, in.wHh, 1.0f, dh);
  }

  const int TB = static_cast<int>(T * B), G = static_cast<int>(GH);
  gemm(false, false, TB, static_cast<int>(I), G, 1.0f, dGx, in.wIh, 0.0f, out.dx);
  gemm(true, false, G, static_cast<int>(I), TB, 1.0f, dGx, in.x, 0.0f, out.dWIh);
  gemm(true, false, G, static_cast<int>(H), TB, 1.0f, dGh, hs, 0.0f, out.dWHh);
  if (out.dBIh) sumColumns(dGx, T * B, GH, out.dBIh);
  if (out.dBHh) sumColumns(dGh, T * B, GH, out.dBHh);
}

}  // namespace recur
