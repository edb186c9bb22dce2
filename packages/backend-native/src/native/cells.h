// Fused recurrent cells, one batch row at a time (so the sequence kernels can step only the
// rows still inside their length). Semantics and the `saved` layout match the JS reference:
//
//   gx, gh, dgx, dgh: G·H values per row, gate blocks in PyTorch order.
//   saved: S·H values per row —  tanh/relu: h'   LSTM: i, f, g, o, tanh(c')
//                                GRU: r, z, n, gh_n (incl. b_hn)     UGRNN: g, c
//
// Biases are fused: the forward reads gx + b_ih + gh + b_hh (pass a zero vector for none;
// for GRU the n block's b_hh sits inside the reset product, as in PyTorch).
#pragma once
#include <cstddef>

namespace recur {

// Indices into @recur/core/backend's CELL_KINDS (checked at load time, see op_tables.cpp).
enum class CellKind : int { Tanh, Relu, Lstm, Gru, Ugrnn, Count };
inline constexpr const char* kCellKindNames[] = {"tanh", "relu", "lstm", "gru", "ugrnn"};
static_assert(sizeof(kCellKindNames) / sizeof(*kCellKindNames) == static_cast<size_t>(CellKind::Count));

int gateCount(CellKind kind);
int savedBlocks(CellKind kind);

void cellForwardRow(CellKind kind, size_t H, const float* gx, const float* bih, const float* gh, const float* bhh, const float* h, const float* c,
                    float* hOut, float* cOut, float* saved);

// The same for the hidden units [j0, j1) of the row only (pointers still address whole rows):
// threads can split one row's units between them.
void cellForwardRange(CellKind kind, size_t H, size_t j0, size_t j1, const float* gx, const float* bih, const float* gh, const float* bhh, const float* h,
                      const float* c, float* hOut, float* cOut, float* saved);

// dh = dhIn + dhAdd and dc = dcIn element-wise (pass zero vectors for none). Writes dgx, and
// for GRU also dgh (for the other kinds dgh equals dgx: the caller copies it when it needs two
// buffers), dhPrev (the element-wise part only) and, for LSTM, dcPrev. dhPrev may alias dhIn
// and dcPrev may alias dcIn (each element is read before it is written).
void cellBackwardRow(CellKind kind, size_t H, const float* saved, const float* h, const float* c, const float* dhIn, const float* dhAdd,
                     const float* dcIn, float* dgx, float* dgh, float* dhPrev, float* dcPrev);

}  // namespace recur
