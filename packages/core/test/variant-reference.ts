/**
 * Plain-JS references for the cell variants, written from the equations in docs/rnn-semantics.md
 * ("Cell variants"), and a stack runner with the layout rules (layers, directions, lengths):
 * the expected values of the variant tests never come from the code under test.
 */
import type { RecurrentLayer } from '@recur/core';
import { values } from './helpers.js';

export const sigma = (v: number): number => 1 / (1 + Math.exp(-v));

/** `W·v + b` for `W` `[rows, cols]` stored row-major (b may be null). */
export function affine(w: number[], b: number[] | null, v: number[], rows: number): number[] {
  const cols = v.length;
  return Array.from({ length: rows }, (_, r) => {
    let s = b ? b[r] : 0;
    for (let c = 0; c < cols; c++) s += w[r * cols + c] * v[c];
    return s;
  });
}

/** One (layer, direction)'s parameters read back from a layer, by PyTorch name. */
export type Weights = Record<'wIh' | 'wHh' | 'wHr', number[]> & Record<'bIh' | 'bHh', number[] | null>;

export async function weightsOf(model: RecurrentLayer, suffix: string): Promise<Weights> {
  const d = model.stateDict();
  const read = async (name: string) => (d[name + suffix] ? values(d[name + suffix]) : null);
  return {
    wIh: (await read('weight_ih')) as number[],
    wHh: (await read('weight_hh')) as number[],
    wHr: (await read('weight_hr')) ?? [],
    bIh: await read('bias_ih'),
    bHh: await read('bias_hh'),
  };
}

/** A step of one sequence: the state slots in, the state slots out (`state[0]` is the output). */
export type Step = (p: Weights, x: number[], state: number[][]) => number[][];

/** `h' = σ(W_ih x + b_ih + W_hh h + b_hh)`. */
export const sigmoidElman =
  (H: number): Step =>
  (p, x, [h]) => {
    const a = affine(p.wIh, p.bIh, x, H);
    const b = affine(p.wHh, p.bHh, h, H);
    return [a.map((v, j) => sigma(v + b[j]))];
  };

/** Cho et al.'s GRU: `n = tanh(W_in x + b_in + W_hn (r ⊙ h) + b_hn)`, blocks r, z, n. */
export const resetBeforeGru =
  (H: number): Step =>
  (p, x, [h]) => {
    const gx = affine(p.wIh, p.bIh, x, 3 * H);
    const gh = affine(p.wHh, p.bHh, h, 3 * H);
    const r = h.map((_, j) => sigma(gx[j] + gh[j]));
    const z = h.map((_, j) => sigma(gx[H + j] + gh[H + j]));
    const rh = h.map((v, j) => r[j] * v);
    const wHn = p.wHh.slice(2 * H * H);
    const bHn = p.bHh ? p.bHh.slice(2 * H) : null;
    const hn = affine(wHn, bHn, rh, H);
    const n = h.map((_, j) => Math.tanh(gx[2 * H + j] + hn[j]));
    return [h.map((v, j) => (1 - z[j]) * n[j] + z[j] * v)];
  };

/** The LSTM with a projection: gates from `h [P]`, `c' = f c + i g`, `h' = W_hr (o ⊙ tanh c')`. */
export const projectedLstm =
  (H: number, P: number): Step =>
  (p, x, [h, c]) => {
    const gx = affine(p.wIh, p.bIh, x, 4 * H);
    const gh = affine(p.wHh, p.bHh, h, 4 * H);
    const pre = (k: number, j: number) => gx[k * H + j] + gh[k * H + j];
    const cNew = c.map((v, j) => sigma(pre(1, j)) * v + sigma(pre(0, j)) * Math.tanh(pre(2, j)));
    const full = cNew.map((v, j) => sigma(pre(3, j)) * Math.tanh(v));
    return [affine(p.wHr, null, full, P), cNew];
  };

/** The plain LSTM (blocks i, f, g, o). */
export const lstm =
  (H: number): Step =>
  (p, x, [h, c]) => {
    const gx = affine(p.wIh, p.bIh, x, 4 * H);
    const gh = affine(p.wHh, p.bHh, h, 4 * H);
    const pre = (k: number, j: number) => gx[k * H + j] + gh[k * H + j];
    const cNew = c.map((v, j) => sigma(pre(1, j)) * v + sigma(pre(0, j)) * Math.tanh(pre(2, j)));
    return [cNew.map((v, j) => sigma(pre(3, j)) * Math.tanh(v)), cNew];
  };

/**
 * A stack over time-major `xs [T][B][I]`: layer k > 0 reads both directions' outputs; the reverse
 * direction runs each sequence backwards from its own length; steps past a length output zeros
 * and keep the state. `start(layer, direction, b)` gives the initial state slots.
 */
export function runStack(
  xs: number[][][],
  weights: Weights[][],
  step: Step,
  start: (layer: number, direction: number, b: number) => number[][],
  lengths?: number[],
): { output: number[][][]; finals: number[][][][] } {
  const T = xs.length;
  const B = xs[0].length;
  let input = xs;
  const finals: number[][][][] = [];
  for (const [layer, directions] of weights.entries()) {
    const outs: number[][][][] = [];
    for (const [direction, p] of directions.entries()) {
      const out: number[][][] = Array.from({ length: T }, () => new Array(B));
      const last: number[][][] = [];
      for (let b = 0; b < B; b++) {
        const n = lengths ? lengths[b] : T;
        let state = start(layer, direction, b);
        const order = Array.from({ length: n }, (_, t) => (direction === 1 ? n - 1 - t : t));
        for (const t of order) {
          state = step(p, input[t][b], state);
          out[t][b] = state[0];
        }
        for (let t = n; t < T; t++) out[t][b] = state[0].map(() => 0);
        last.push(state);
      }
      outs.push(out);
      finals.push(last);
    }
    input = Array.from({ length: T }, (_, t) => Array.from({ length: B }, (_, b) => outs.flatMap((o) => o[t][b])));
  }
  return { output: input, finals };
}

/** `[T, B, F]` host data as nested arrays. */
export function nest(flat: number[], T: number, B: number, F: number): number[][][] {
  return Array.from({ length: T }, (_, t) => Array.from({ length: B }, (_, b) => flat.slice((t * B + b) * F, (t * B + b + 1) * F)));
}

/** Slot `slot` of `finals` (per row `layer·D + direction`, per sequence) flattened as `[L·D, B, W]`. */
export function flatState(finals: number[][][][], slot: number): number[] {
  return finals.flatMap((row) => row.flatMap((state) => state[slot]));
}
