#include "cells.h"

#include <stdexcept>

#include "fastmath.h"

#define R __restrict

namespace recur {

int gateCount(CellKind kind) {
  switch (kind) {
    case CellKind::Tanh:
    case CellKind::Relu: return 1;
    case CellKind::Lstm: return 4;
    case CellKind::Gru: return 3;
    case CellKind::Ugrnn: return 2;
    default: throw std::invalid_argument("unknown cell kind");
  }
}

int savedBlocks(CellKind kind) {
  switch (kind) {
    case CellKind::Tanh:
    case CellKind::Relu: return 1;
    case CellKind::Lstm: return 5;
    case CellKind::Gru: return 4;
    case CellKind::Ugrnn: return 2;
    default: throw std::invalid_argument("unknown cell kind");
  }
}

namespace {

// --- forward ------------------------------------------------------------------------------
//
// H is the distance between gate blocks, n the number of units computed (H for a whole row,
// fewer for a range of units).

void elmanForward(bool relu, size_t n, const float* R gx, const float* R bih, const float* R gh, const float* R bhh, float* R hOut, float* R saved) {
  if (relu) {
    for (size_t j = 0; j < n; j++) {
      const float pre = (gx[j] + bih[j]) + (gh[j] + bhh[j]);
      const float h = pre > 0.0f ? pre : 0.0f;
      hOut[j] = h;
      saved[j] = h;
    }
  } else {
    for (size_t j = 0; j < n; j++) {
      const float h = fastTanh((gx[j] + bih[j]) + (gh[j] + bhh[j]));
      hOut[j] = h;
      saved[j] = h;
    }
  }
}

void lstmForward(size_t H, size_t n, const float* R gx, const float* R bih, const float* R gh, const float* R bhh, const float* R c, float* R hOut, float* R cOut,
                 float* R saved) {
  for (size_t j = 0; j < n; j++) {
    const float i = fastSigmoid((gx[j] + bih[j]) + (gh[j] + bhh[j]));
    const float f = fastSigmoid((gx[H + j] + bih[H + j]) + (gh[H + j] + bhh[H + j]));
    const float g = fastTanh((gx[2 * H + j] + bih[2 * H + j]) + (gh[2 * H + j] + bhh[2 * H + j]));
    const float o = fastSigmoid((gx[3 * H + j] + bih[3 * H + j]) + (gh[3 * H + j] + bhh[3 * H + j]));
    const float cNew = f * c[j] + i * g;
    const float tc = fastTanh(cNew);
    cOut[j] = cNew;
    hOut[j] = o * tc;
    saved[j] = i;
    saved[H + j] = f;
    saved[2 * H + j] = g;
    saved[3 * H + j] = o;
    saved[4 * H + j] = tc;
  }
}

void gruForward(size_t H, size_t n, const float* R gx, const float* R bih, const float* R gh, const float* R bhh, const float* R h, float* R hOut, float* R saved) {
  for (size_t j = 0; j < n; j++) {
    const float r = fastSigmoid((gx[j] + bih[j]) + (gh[j] + bhh[j]));
    const float z = fastSigmoid((gx[H + j] + bih[H + j]) + (gh[H + j] + bhh[H + j]));
    const float ghN = gh[2 * H + j] + bhh[2 * H + j];
    // Reset applied after the matmul (PyTorch's form).
    const float n = fastTanh((gx[2 * H + j] + bih[2 * H + j]) + r * ghN);
    hOut[j] = (1.0f - z) * n + z * h[j];
    saved[j] = r;
    saved[H + j] = z;
    saved[2 * H + j] = n;
    saved[3 * H + j] = ghN;
  }
}

void ugrnnForward(size_t H, size_t n, const float* R gx, const float* R bih, const float* R gh, const float* R bhh, const float* R h, float* R hOut, float* R saved) {
  for (size_t j = 0; j < n; j++) {
    const float g = fastSigmoid((gx[j] + bih[j]) + (gh[j] + bhh[j]));
    const float c = fastTanh((gx[H + j] + bih[H + j]) + (gh[H + j] + bhh[H + j]));
    hOut[j] = g * h[j] + (1.0f - g) * c;
    saved[j] = g;
    saved[H + j] = c;
  }
}

// --- backward -----------------------------------------------------------------------------

void elmanBackward(bool relu, size_t H, const float* R saved, const float* dhIn, const float* R dhAdd, float* R dgx, float* dhPrev) {
  for (size_t j = 0; j < H; j++) {
    const float h = saved[j];
    const float dh = dhIn[j] + dhAdd[j];
    // tanh' = 1 − tanh²; relu' = 1 where the output is positive (0 at the kink, like PyTorch).
    dgx[j] = relu ? (h > 0.0f ? dh : 0.0f) : dh * (1.0f - h * h);
    dhPrev[j] = 0.0f;
  }
}

void lstmBackward(size_t H, const float* R saved, const float* R c, const float* dhIn, const float* R dhAdd, const float* dcIn, float* R dgx, float* dhPrev,
                  float* dcPrev) {
  for (size_t j = 0; j < H; j++) {
    const float i = saved[j], f = saved[H + j], g = saved[2 * H + j], o = saved[3 * H + j], tc = saved[4 * H + j];
    const float dh = dhIn[j] + dhAdd[j];
    const float dcTotal = dcIn[j] + dh * o * (1.0f - tc * tc);
    dgx[j] = dcTotal * g * i * (1.0f - i);
    dgx[H + j] = dcTotal * c[j] * f * (1.0f - f);
    dgx[2 * H + j] = dcTotal * i * (1.0f - g * g);
    dgx[3 * H + j] = dh * tc * o * (1.0f - o);
    dhPrev[j] = 0.0f;
    dcPrev[j] = dcTotal * f;
  }
}

void gruBackward(size_t H, const float* R saved, const float* R h, const float* dhIn, const float* R dhAdd, float* R dgx, float* R dgh, float* dhPrev) {
  for (size_t j = 0; j < H; j++) {
    const float r = saved[j], z = saved[H + j], n = saved[2 * H + j], ghN = saved[3 * H + j];
    const float dh = dhIn[j] + dhAdd[j];
    const float dnPre = dh * (1.0f - z) * (1.0f - n * n);
    const float dzPre = dh * (h[j] - n) * z * (1.0f - z);
    const float drPre = dnPre * ghN * r * (1.0f - r);
    dgx[j] = drPre;
    dgh[j] = drPre;
    dgx[H + j] = dzPre;
    dgh[H + j] = dzPre;
    dgx[2 * H + j] = dnPre;
    dgh[2 * H + j] = dnPre * r;
    dhPrev[j] = dh * z;
  }
}

void ugrnnBackward(size_t H, const float* R saved, const float* R h, const float* dhIn, const float* R dhAdd, float* R dgx, float* dhPrev) {
  for (size_t j = 0; j < H; j++) {
    const float g = saved[j], c = saved[H + j];
    const float dh = dhIn[j] + dhAdd[j];
    dgx[j] = dh * (h[j] - c) * g * (1.0f - g);
    dgx[H + j] = dh * (1.0f - g) * (1.0f - c * c);
    dhPrev[j] = dh * g;
  }
}

}  // namespace

void cellForwardRange(CellKind kind, size_t H, size_t j0, size_t j1, const float* gx, const float* bih, const float* gh, const float* bhh, const float* h,
                      const float* c, float* hOut, float* cOut, float* saved) {
  // Every array is indexed block·H + j, so offsetting each by j0 selects the range.
  const size_t n = j1 - j0;
  gx += j0, bih += j0, gh += j0, bhh += j0, hOut += j0, saved += j0;
  if (h) h += j0;
  if (c) c += j0;
  if (cOut) cOut += j0;
  switch (kind) {
    case CellKind::Tanh: return elmanForward(false, n, gx, bih, gh, bhh, hOut, saved);
    case CellKind::Relu: return elmanForward(true, n, gx, bih, gh, bhh, hOut, saved);
    case CellKind::Lstm: return lstmForward(H, n, gx, bih, gh, bhh, c, hOut, cOut, saved);
    case CellKind::Gru: return gruForward(H, n, gx, bih, gh, bhh, h, hOut, saved);
    case CellKind::Ugrnn: return ugrnnForward(H, n, gx, bih, gh, bhh, h, hOut, saved);
    default: throw std::invalid_argument("unknown cell kind");
  }
}

void cellForwardRow(CellKind kind, size_t H, const float* gx, const float* bih, const float* gh, const float* bhh, const float* h, const float* c,
                    float* hOut, float* cOut, float* saved) {
  cellForwardRange(kind, H, 0, H, gx, bih, gh, bhh, h, c, hOut, cOut, saved);
}

void cellBackwardRow(CellKind kind, size_t H, const float* saved, const float* h, const float* c, const float* dhIn, const float* dhAdd, const float* dcIn,
                     float* dgx, float* dgh, float* dhPrev, float* dcPrev) {
  switch (kind) {
    case CellKind::Tanh: return elmanBackward(false, H, saved, dhIn, dhAdd, dgx, dhPrev);
    case CellKind::Relu: return elmanBackward(true, H, saved, dhIn, dhAdd, dgx, dhPrev);
    case CellKind::Lstm: return lstmBackward(H, saved, c, dhIn, dhAdd, dcIn, dgx, dhPrev, dcPrev);
    case CellKind::Gru: return gruBackward(H, saved, h, dhIn, dhAdd, dgx, dgh, dhPrev);
    case CellKind::Ugrnn: return ugrnnBackward(H, saved, h, dhIn, dhAdd, dgx, dhPrev);
    default: throw std::invalid_argument("unknown cell kind");
  }
}

}  // namespace recur
