/**
 * The generic path of `RecurrentLayer`: a cell's steps unrolled over time with packed-sequence
 * semantics, and the per-sequence reversal of the reverse direction.
 */
import { add, mul } from '../ops/elementwise.js';
import { concat, gatherRows, reshape, stack, unstack } from '../ops/shape-ops.js';
import { Tensor } from '../tensor.js';
import type { Cell } from './cells.js';

/**
 * Replaces the padding of each sequence (steps past its length) by zeros, so whatever the
 * caller left there (even NaN) never reaches a cell: masking alone would give 0·NaN = NaN.
 */
function zeroPadding(x: Tensor, lengths: Int32Array): Tensor {
  const [steps, batch, features] = x.shape;
  const zeroRow = steps * batch;
  const index = new Int32Array(steps * batch);
  for (let t = 0; t < steps; t++) for (let b = 0; b < batch; b++) index[t * batch + b] = t < lengths[b] ? t * batch + b : zeroRow;
  const rows = concat([reshape(x, [steps * batch, features]), Tensor.fromBuffer(x.backend, x.backend.fill(features, 0), [1, features])], 0);
  return reshape(gatherRows(rows, index), x.shape);
}

/** The generic path: `cell.step` per time step, recorded op by op. */
export function unroll(cell: Cell, input: Tensor, initial: Tensor[], lengths: Int32Array | undefined, steps: number, batch: number) {
  const x = lengths ? zeroPadding(input, lengths) : input;
  const prepared = cell.prepareInput ? cell.prepareInput(x) : x;
  const inputs = unstack(prepared);
  let state = initial;
  const outputs: Tensor[] = [];
  for (let t = 0; t < steps; t++) {
    const next = cell.step(inputs[t], state);
    if (lengths?.some((n) => n <= t)) {
      // Finished sequences keep their state and output zeros (packed-sequence semantics).
      const keep = Float64Array.from(lengths, (n) => (n > t ? 1 : 0));
      const active = Tensor.fromBuffer(x.backend, x.backend.upload(keep), [batch, 1]);
      const done = Tensor.fromBuffer(x.backend, x.backend.upload(keep.map((k) => 1 - k)), [batch, 1]);
      state = next.map((s, i) => add(mul(s, active), mul(state[i], done)));
      outputs.push(mul(next[0], active));
    } else {
      state = next;
      outputs.push(next[0]);
    }
  }
  return { output: stack(outputs), state };
}

/**
 * Reverses each sequence within its own length (`t ↦ len − 1 − t` for `t < len`), leaving the
 * padding in place. It is its own inverse, so it maps a reverse direction's outputs back too.
 */
export function reverseSequences(x: Tensor, lengths: Int32Array | undefined): Tensor {
  const [steps, batch] = x.shape;
  const index = new Int32Array(steps * batch);
  for (let t = 0; t < steps; t++) {
    for (let b = 0; b < batch; b++) {
      const n = lengths ? lengths[b] : steps;
      index[t * batch + b] = (t < n ? n - 1 - t : t) * batch + b;
    }
  }
  const rows = reshape(x, [steps * batch, -1]);
  return reshape(gatherRows(rows, index), x.shape);
}

/** The width of each state slot of a cell (default: `stateSize` slots of `hiddenSize`). */
export function widthsOf(cell: Cell): readonly number[] {
  return cell.stateWidths ?? Array.from({ length: cell.stateSize }, () => cell.hiddenSize);
}
