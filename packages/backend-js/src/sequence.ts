/**
 * The fused single-direction layer (`fusedSequence`): forward over all steps and backward
 * through time, built from this backend's own gemm and per-row cell kernels.
 *
 * Forward: one gemm projects the inputs of every step, `gx = x·W_ihᵀ + b_ih` `[T·B, G·H]`;
 * then per step `gh = h·W_hhᵀ + b_hh` and the cell. A batch row past its length is not
 * stepped: it keeps its state (h, c) and outputs zeros.
 *
 * `saved` packs, in order:
 *   cells   `[T, B, S·H]`     each step's cell activations (layout in cells.ts)
 *   hs      `[T + 1, B, H]`   the hidden states, hs[0] = h0, hs[t + 1] = state after step t
 *   cs      `[T + 1, B, H]`   the same for the LSTM cell state (LSTM only)
 * `hs[0..T)` is at once every step's previous state and the right operand of the one dW_hh gemm.
 *
 * Backward: per step (last to first) the cell backward gives dGx_t and dGh_t; the gradient on
 * the previous h is the cell's direct part plus dGh_t·W_hh. The weight gradients are then
 * single gemms over all steps: dW_ih = dGxᵀ·x, dW_hh = dGhᵀ·hs[0..T), biases column sums.
 */
import type { CellKind, FloatArray } from '@recur/core/backend';
import { GATE_COUNT, SAVED_BLOCKS } from '@recur/core/backend';
import type { ArrayMaker } from './buffer.js';
import { cellBackwardRow, cellForwardRow } from './cells.js';
import { addRowVector, gemm, sumColumns } from './dense.js';

export interface SequenceArrays {
  kind: CellKind;
  steps: number;
  batch: number;
  inputSize: number;
  hidden: number;
  x: FloatArray;
  wIh: FloatArray;
  wHh: FloatArray;
  bIh?: FloatArray;
  bHh?: FloatArray;
  h0: FloatArray;
  c0?: FloatArray;
  lengths?: Int32Array;
}

export interface SequenceGradArrays {
  dOutput: FloatArray;
  dhN: FloatArray;
  dcN?: FloatArray;
}

/** Views of the parts of a `saved` array (see the file comment). */
function savedParts(a: SequenceArrays, saved: FloatArray) {
  const { steps: T, batch: B, hidden: H } = a;
  const cellsLength = T * B * SAVED_BLOCKS[a.kind] * H;
  const statesLength = (T + 1) * B * H;
  return {
    cells: saved.subarray(0, cellsLength),
    hs: saved.subarray(cellsLength, cellsLength + statesLength),
    cs: a.kind === 'lstm' ? saved.subarray(cellsLength + statesLength, cellsLength + 2 * statesLength) : undefined,
  };
}

function savedLength(a: SequenceArrays): number {
  const states = (a.steps + 1) * a.batch * a.hidden;
  return a.steps * a.batch * SAVED_BLOCKS[a.kind] * a.hidden + (a.kind === 'lstm' ? 2 : 1) * states;
}

/** Whether batch row `b` is still inside its sequence at step `t`. */
function active(a: SequenceArrays, t: number, b: number): boolean {
  return a.lengths === undefined || t < a.lengths[b];
}

/** Step `t`'s slice of an array laid out `[T or T + 1, ...]` with `width` elements per step. */
function step(array: FloatArray, t: number, width: number): FloatArray {
  return array.subarray(t * width, (t + 1) * width);
}

/** Copies row `row` (of `width` elements) from one matrix to another. */
function copyRow(from: FloatArray, to: FloatArray, row: number, width: number): void {
  to.set(from.subarray(row * width, (row + 1) * width), row * width);
}

/** `out = x·Wᵀ (+ bias)` for `x` `[rows, inner]`, `W` `[cols, inner]`: a linear layer. */
function project(
  x: FloatArray,
  w: FloatArray,
  bias: FloatArray | undefined,
  rows: number,
  cols: number,
  inner: number,
  out: FloatArray,
): void {
  gemm(x, w, out, { m: rows, n: cols, k: inner, transB: true }, false);
  if (bias) addRowVector(out, rows, cols, bias);
}

export function sequenceForward(a: SequenceArrays, make: ArrayMaker) {
  const { kind, steps: T, batch: B, inputSize: I, hidden: H } = a;
  const GH = GATE_COUNT[kind] * H;
  const SH = SAVED_BLOCKS[kind] * H;
  const saved = make(savedLength(a));
  const { cells, hs, cs } = savedParts(a, saved);
  hs.set(a.h0);
  if (cs && a.c0) cs.set(a.c0); // a missing c0 stays zero

  const gxAll = make(T * B * GH);
  project(a.x, a.wIh, a.bIh, T * B, GH, I, gxAll);
  const gh = make(B * GH);
  const output = make(T * B * H);
  for (let t = 0; t < T; t++) {
    const h = step(hs, t, B * H);
    const hOut = step(hs, t + 1, B * H);
    const c = cs && step(cs, t, B * H);
    const cOut = cs && step(cs, t + 1, B * H);
    project(h, a.wHh, a.bHh, B, GH, H, gh);
    const arrays = { gx: step(gxAll, t, B * GH), gh, h, c, hOut, cOut, saved: step(cells, t, B * SH) };
    const out = step(output, t, B * H);
    for (let b = 0; b < B; b++) {
      if (active(a, t, b)) {
        cellForwardRow(kind, H, arrays, b);
        copyRow(hOut, out, b, H);
      } else {
        // Finished: carry the state unchanged; the output row stays zero.
        copyRow(h, hOut, b, H);
        if (c && cOut) copyRow(c, cOut, b, H);
      }
    }
  }
  return {
    output,
    hN: step(hs, T, B * H).slice(),
    cN: cs ? step(cs, T, B * H).slice() : undefined,
    saved,
  };
}

export interface StackArrays {
  kind: CellKind;
  steps: number;
  batch: number;
  inputSize: number;
  hidden: number;
  x: FloatArray;
  layers: readonly { wIh: FloatArray; wHh: FloatArray; bIh?: FloatArray; bHh?: FloatArray }[];
  h0?: FloatArray;
  c0?: FloatArray;
  lengths?: Int32Array;
}

/** `sequenceForward` layer after layer, each output the next input, the states stacked `[L, B, H]`. */
export function sequenceStackForward(a: StackArrays, make: ArrayMaker) {
  const { kind, steps: T, batch: B, hidden: H } = a;
  const L = a.layers.length;
  const BH = B * H;
  const lstm = kind === 'lstm';
  const hN = make(L * BH);
  const cN = lstm ? make(L * BH) : undefined;
  let x = a.x;
  let output = make(T * BH);
  for (let l = 0; l < L; l++) {
    const layer = sequenceForward(
      {
        kind,
        steps: T,
        batch: B,
        inputSize: l === 0 ? a.inputSize : H,
        hidden: H,
        x,
        ...a.layers[l],
        h0: a.h0 ? a.h0.subarray(l * BH, (l + 1) * BH) : make(BH),
        c0: lstm && a.c0 ? a.c0.subarray(l * BH, (l + 1) * BH) : undefined,
        lengths: a.lengths,
      },
      make,
    );
    hN.set(layer.hN, l * BH);
    if (cN && layer.cN) cN.set(layer.cN, l * BH);
    output = layer.output;
    x = output;
  }
  return { output, hN, cN };
}

export function sequenceBackward(a: SequenceArrays, saved: FloatArray, grads: SequenceGradArrays, make: ArrayMaker) {
  const { kind, steps: T, batch: B, inputSize: I, hidden: H } = a;
  const GH = GATE_COUNT[kind] * H;
  const SH = SAVED_BLOCKS[kind] * H;
  const { cells, hs, cs } = savedParts(a, saved);

  // Gate gradients of every step; rows of finished sequences stay zero.
  const dGx = make(T * B * GH);
  const dGh = make(T * B * GH);
  // Gradients on the state after the current step, carried backwards.
  const dhState = make(B * H);
  dhState.set(grads.dhN);
  const dcState = cs ? make(B * H) : undefined;
  if (dcState && grads.dcN) dcState.set(grads.dcN);
  // Per-step scratch.
  const dhCell = make(B * H);
  const dhDirect = make(B * H);
  const dhThroughW = make(B * H);
  const dcPrev = cs ? make(B * H) : undefined;

  for (let t = T - 1; t >= 0; t--) {
    const dOut = step(grads.dOutput, t, B * H);
    const dgh = step(dGh, t, B * GH);
    const arrays = {
      saved: step(cells, t, B * SH),
      h: step(hs, t, B * H),
      c: cs && step(cs, t, B * H),
      dh: dhCell,
      dc: dcState,
      dgx: step(dGx, t, B * GH),
      dgh,
      dhPrev: dhDirect,
      dcPrev,
    };
    for (let b = 0; b < B; b++) {
      if (!active(a, t, b)) continue; // a finished row passes dh, dc straight through
      for (let j = b * H; j < (b + 1) * H; j++) dhCell[j] = dhState[j] + dOut[j];
      cellBackwardRow(kind, H, arrays, b);
    }
    // The path through gh = h·W_hhᵀ: dh_prev += dGh_t·W_hh (zero on finished rows).
    gemm(dgh, a.wHh, dhThroughW, { m: B, n: H, k: GH }, false);
    for (let b = 0; b < B; b++) {
      if (!active(a, t, b)) continue;
      for (let j = b * H; j < (b + 1) * H; j++) dhState[j] = dhDirect[j] + dhThroughW[j];
      if (dcState && dcPrev) copyRow(dcPrev, dcState, b, H);
    }
  }

  const dx = make(T * B * I);
  gemm(dGx, a.wIh, dx, { m: T * B, n: I, k: GH }, false);
  const dWIh = make(GH * I);
  gemm(dGx, a.x, dWIh, { m: GH, n: I, k: T * B, transA: true }, false);
  const dWHh = make(GH * H);
  gemm(dGh, hs.subarray(0, T * B * H), dWHh, { m: GH, n: H, k: T * B, transA: true }, false);
  const columnSums = (m: FloatArray) => {
    const out = make(GH);
    sumColumns(m, T * B, GH, out);
    return out;
  };
  return {
    dx,
    dWIh,
    dWHh,
    dBIh: a.bIh ? columnSums(dGx) : undefined,
    dBHh: a.bHh ? columnSums(dGh) : undefined,
    dh0: dhState,
    dc0: dcState,
  };
}
