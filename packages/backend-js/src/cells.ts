/**
 * Fused recurrent cells, one batch row at a time, on plain typed arrays.
 *
 * Layouts (row-major, one row per batch element):
 * - `gx`, `gh`, `dgx`, `dgh`: `[batch, G·H]`, gate blocks in PyTorch order (see `CellKind`).
 * - `h`, `c`, `hOut`, `cOut`, `dh`, `dc`, `dhPrev`, `dcPrev`: `[batch, H]`.
 * - `saved`: `[batch, S·H]` with S = `SAVED_BLOCKS[kind]`, blocks:
 *     tanh, relu: h'                LSTM: i, f, g, o, tanh(c')
 *     GRU: r, z, n, gh_n            UGRNN: g, c
 *   i.e. the activated gates, plus what the backward cannot rebuild from them: tanh(c') for
 *   LSTM and the hidden-side n pre-activation `gh_n` (which the reset gate multiplied) for GRU.
 *
 * The backward of every kind is the chain rule written out by hand. It only needs `saved` and
 * the forward's inputs `h` (and `c`), never the pre-activations. Working per row lets the
 * fused sequence kernel step only the batch rows that are still inside their length.
 */
import type { CellKind, FloatArray } from '@recur/core/backend';
import { GATE_COUNT, SAVED_BLOCKS } from '@recur/core/backend';
import { sigmoid } from './dense.js';

export interface CellForwardArrays {
  gx: FloatArray;
  gh: FloatArray;
  h: FloatArray;
  /** LSTM only. */
  c?: FloatArray;
  hOut: FloatArray;
  /** LSTM only. */
  cOut?: FloatArray;
  saved: FloatArray;
}

export interface CellBackwardArrays {
  saved: FloatArray;
  h: FloatArray;
  c?: FloatArray;
  /** Gradients wrt the new state h' (and c'). */
  dh: FloatArray;
  dc?: FloatArray;
  dgx: FloatArray;
  dgh: FloatArray;
  /** Gradient reaching the previous h element-wise (not through gh). */
  dhPrev: FloatArray;
  /** LSTM only: gradient reaching the previous c. */
  dcPrev?: FloatArray;
}

/** Offsets of batch row `row` in the gate, state and saved arrays. */
function offsets(kind: CellKind, hidden: number, row: number) {
  return { gate: row * GATE_COUNT[kind] * hidden, state: row * hidden, saved: row * SAVED_BLOCKS[kind] * hidden };
}

// --- Elman (tanh / relu): h' = act(gx + gh) ------------------------------------------------

function elmanForward(kind: 'tanh' | 'relu', H: number, a: CellForwardArrays, row: number): void {
  const o = offsets(kind, H, row);
  for (let j = 0; j < H; j++) {
    const pre = a.gx[o.gate + j] + a.gh[o.gate + j];
    const h = kind === 'tanh' ? Math.tanh(pre) : pre > 0 ? pre : 0;
    a.hOut[o.state + j] = h;
    a.saved[o.saved + j] = h;
  }
}

function elmanBackward(kind: 'tanh' | 'relu', H: number, a: CellBackwardArrays, row: number): void {
  const o = offsets(kind, H, row);
  for (let j = 0; j < H; j++) {
    const h = a.saved[o.saved + j];
    const dh = a.dh[o.state + j];
    // tanh' = 1 − tanh²; relu' = 1 where the output is positive (0 at the kink, like PyTorch).
    const dPre = kind === 'tanh' ? dh * (1 - h * h) : h > 0 ? dh : 0;
    a.dgx[o.gate + j] = dPre;
    a.dgh[o.gate + j] = dPre;
    a.dhPrev[o.state + j] = 0;
  }
}

// --- LSTM: blocks i, f, g, o; c' = f⊙c + i⊙g, h' = o⊙tanh(c') -------------------------------

function lstmForward(H: number, a: CellForwardArrays, row: number): void {
  const o = offsets('lstm', H, row);
  const c = a.c as FloatArray;
  const cOut = a.cOut as FloatArray;
  for (let j = 0; j < H; j++) {
    const at = o.gate + j; // element j of block 0; block b is at + b·H
    const i = sigmoid(a.gx[at] + a.gh[at]);
    const f = sigmoid(a.gx[at + H] + a.gh[at + H]);
    const g = Math.tanh(a.gx[at + 2 * H] + a.gh[at + 2 * H]);
    const out = sigmoid(a.gx[at + 3 * H] + a.gh[at + 3 * H]);
    const cNew = f * c[o.state + j] + i * g;
    const tc = Math.tanh(cNew);
    cOut[o.state + j] = cNew;
    a.hOut[o.state + j] = out * tc;
    a.saved[o.saved + j] = i;
    a.saved[o.saved + H + j] = f;
    a.saved[o.saved + 2 * H + j] = g;
    a.saved[o.saved + 3 * H + j] = out;
    a.saved[o.saved + 4 * H + j] = tc;
  }
}

function lstmBackward(H: number, a: CellBackwardArrays, row: number): void {
  const o = offsets('lstm', H, row);
  const c = a.c as FloatArray;
  for (let j = 0; j < H; j++) {
    const i = a.saved[o.saved + j];
    const f = a.saved[o.saved + H + j];
    const g = a.saved[o.saved + 2 * H + j];
    const out = a.saved[o.saved + 3 * H + j];
    const tc = a.saved[o.saved + 4 * H + j];
    const dh = a.dh[o.state + j];
    // Total gradient on c': directly from the caller plus through h' = o⊙tanh(c').
    const dcTotal = (a.dc ? a.dc[o.state + j] : 0) + dh * out * (1 - tc * tc);
    // Each gate's gradient times the derivative of its activation (σ' = σ(1 − σ), tanh' = 1 − tanh²).
    const diPre = dcTotal * g * i * (1 - i);
    const dfPre = dcTotal * c[o.state + j] * f * (1 - f);
    const dgPre = dcTotal * i * (1 - g * g);
    const doPre = dh * tc * out * (1 - out);
    const at = o.gate + j;
    a.dgx[at] = diPre;
    a.dgh[at] = diPre;
    a.dgx[at + H] = dfPre;
    a.dgh[at + H] = dfPre;
    a.dgx[at + 2 * H] = dgPre;
    a.dgh[at + 2 * H] = dgPre;
    a.dgx[at + 3 * H] = doPre;
    a.dgh[at + 3 * H] = doPre;
    a.dhPrev[o.state + j] = 0;
    (a.dcPrev as FloatArray)[o.state + j] = dcTotal * f;
  }
}

// --- GRU: blocks r, z, n; n = tanh(gx_n + r⊙gh_n), h' = (1 − z)⊙n + z⊙h ------------------------

function gruForward(H: number, a: CellForwardArrays, row: number): void {
  const o = offsets('gru', H, row);
  for (let j = 0; j < H; j++) {
    const r = sigmoid(a.gx[o.gate + j] + a.gh[o.gate + j]);
    const z = sigmoid(a.gx[o.gate + H + j] + a.gh[o.gate + H + j]);
    const ghN = a.gh[o.gate + 2 * H + j];
    // The reset gate scales the hidden-side product after the matmul (PyTorch's form).
    const n = Math.tanh(a.gx[o.gate + 2 * H + j] + r * ghN);
    a.hOut[o.state + j] = (1 - z) * n + z * a.h[o.state + j];
    a.saved[o.saved + j] = r;
    a.saved[o.saved + H + j] = z;
    a.saved[o.saved + 2 * H + j] = n;
    a.saved[o.saved + 3 * H + j] = ghN;
  }
}

function gruBackward(H: number, a: CellBackwardArrays, row: number): void {
  const o = offsets('gru', H, row);
  for (let j = 0; j < H; j++) {
    const r = a.saved[o.saved + j];
    const z = a.saved[o.saved + H + j];
    const n = a.saved[o.saved + 2 * H + j];
    const ghN = a.saved[o.saved + 3 * H + j];
    const dh = a.dh[o.state + j];
    const dnPre = dh * (1 - z) * (1 - n * n); // through n = tanh(·)
    const dzPre = dh * (a.h[o.state + j] - n) * z * (1 - z);
    const drPre = dnPre * ghN * r * (1 - r);
    a.dgx[o.gate + j] = drPre;
    a.dgh[o.gate + j] = drPre;
    a.dgx[o.gate + H + j] = dzPre;
    a.dgh[o.gate + H + j] = dzPre;
    // The n block differs between the sides: gh_n entered multiplied by r.
    a.dgx[o.gate + 2 * H + j] = dnPre;
    a.dgh[o.gate + 2 * H + j] = dnPre * r;
    a.dhPrev[o.state + j] = dh * z;
  }
}

// --- UGRNN: blocks g, c; h' = g⊙h + (1 − g)⊙c --------------------------------------------------

function ugrnnForward(H: number, a: CellForwardArrays, row: number): void {
  const o = offsets('ugrnn', H, row);
  for (let j = 0; j < H; j++) {
    const g = sigmoid(a.gx[o.gate + j] + a.gh[o.gate + j]);
    const c = Math.tanh(a.gx[o.gate + H + j] + a.gh[o.gate + H + j]);
    a.hOut[o.state + j] = g * a.h[o.state + j] + (1 - g) * c;
    a.saved[o.saved + j] = g;
    a.saved[o.saved + H + j] = c;
  }
}

function ugrnnBackward(H: number, a: CellBackwardArrays, row: number): void {
  const o = offsets('ugrnn', H, row);
  for (let j = 0; j < H; j++) {
    const g = a.saved[o.saved + j];
    const c = a.saved[o.saved + H + j];
    const dh = a.dh[o.state + j];
    const dgPre = dh * (a.h[o.state + j] - c) * g * (1 - g);
    const dcPre = dh * (1 - g) * (1 - c * c);
    a.dgx[o.gate + j] = dgPre;
    a.dgh[o.gate + j] = dgPre;
    a.dgx[o.gate + H + j] = dcPre;
    a.dgh[o.gate + H + j] = dcPre;
    a.dhPrev[o.state + j] = dh * g;
  }
}

// --- dispatch --------------------------------------------------------------------------------

/** Forward of batch row `row`: writes that row of `hOut` (and `cOut`) and `saved`. */
export function cellForwardRow(kind: CellKind, hidden: number, arrays: CellForwardArrays, row: number): void {
  switch (kind) {
    case 'tanh':
    case 'relu':
      elmanForward(kind, hidden, arrays, row);
      break;
    case 'lstm':
      lstmForward(hidden, arrays, row);
      break;
    case 'gru':
      gruForward(hidden, arrays, row);
      break;
    case 'ugrnn':
      ugrnnForward(hidden, arrays, row);
      break;
  }
}

/** Backward of batch row `row`: writes that row of `dgx`, `dgh`, `dhPrev` (and `dcPrev`). */
export function cellBackwardRow(kind: CellKind, hidden: number, arrays: CellBackwardArrays, row: number): void {
  switch (kind) {
    case 'tanh':
    case 'relu':
      elmanBackward(kind, hidden, arrays, row);
      break;
    case 'lstm':
      lstmBackward(hidden, arrays, row);
      break;
    case 'gru':
      gruBackward(hidden, arrays, row);
      break;
    case 'ugrnn':
      ugrnnBackward(hidden, arrays, row);
      break;
  }
}
