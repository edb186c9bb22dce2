/**
 * Time-aware inputs (rnn-semantics.md, "Time-aware inputs"): the Δt feature of RNN_Δt and the
 * time since each feature was last observed, δ, that GRU-D decays by. Both are recurrences over
 * host timestamps and masks, so they are computed on the host and uploaded once.
 */
import { BackendCapabilityError, describeShape, ShapeError, ValueRangeError } from '../errors.js';
import { concat } from '../ops/shape-ops.js';
import { assertArrayLikeOfNumbers, checkOptions, describeValue, isPlainObject, type OptionsSchema, option } from '../options.js';
import { Tensor, tensor } from '../tensor.js';
import type { HostArray } from './module.js';

/** A series given either as a tensor or as host data `{ data, shape }` (C order). */
export type SeriesData = Tensor | HostArray;

export interface TimeDeltaOptions {
  /**
   * Per-sequence lengths in [1, T]: steps past a sequence's length are padding, whose timestamps
   * are neither read nor checked and whose deltas are 0.
   */
  lengths?: ArrayLike<number>;
}

const TIME_DELTA_OPTIONS: OptionsSchema<TimeDeltaOptions> = { lengths: option.arrayLikeOfNumbers };

/** Lengths checked against `[T, B]` (integers in [1, T]), or every sequence full when absent. */
export function checkLengths(where: string, lengths: ArrayLike<number> | undefined, steps: number, batch: number): Int32Array {
  if (lengths === undefined) return new Int32Array(batch).fill(steps);
  if (lengths.length !== batch) {
    throw new ShapeError(`${where}: lengths must hold one length per sequence (${batch}), received ${lengths.length}`);
  }
  return Int32Array.from({ length: batch }, (_, b) => {
    const n = lengths[b];
    if (!Number.isInteger(n) || n < 1 || n > steps)
      throw new ValueRangeError(`${where}: lengths[${b}] = ${n} must be an integer in [1, ${steps}]`);
    return n;
  });
}

/**
 * Timestamps for a time-major `[T, B]` batch as `at(t, b)`: `T` values are shared by every
 * sequence, `T·B` are one per sequence (`[T, B]`, time-major). Within each sequence's length they
 * must be finite and non-decreasing (a decreasing pair would give a negative elapsed time).
 */
export function timestampsOf(
  where: string,
  timestamps: ArrayLike<number>,
  steps: number,
  batch: number,
  lengths: Int32Array,
): (t: number, b: number) => number {
  assertArrayLikeOfNumbers(timestamps, `${where}: timestamps`);
  if (timestamps.length !== steps && timestamps.length !== steps * batch) {
    throw new ShapeError(
      `${where}: timestamps must hold ${steps} values ([T], shared by every sequence) or ${steps * batch} ([T, B] = [${steps}, ${batch}]), received ${timestamps.length}`,
    );
  }
  const shared = timestamps.length === steps;
  const index = (t: number, b: number) => (shared ? t : t * batch + b);
  for (let b = 0; b < batch; b++) {
    for (let t = 0; t < lengths[b]; t++) {
      const i = index(t, b);
      const s = timestamps[i];
      if (!Number.isFinite(s)) throw new ValueRangeError(`${where}: timestamps[${i}] must be a finite number, received ${s}`);
      const j = index(t - 1, b);
      if (t > 0 && s < timestamps[j]) {
        throw new ValueRangeError(
          `${where}: timestamps[${i}] = ${s} comes before timestamps[${j}] = ${timestamps[j]}; each sequence's timestamps must not decrease`,
        );
      }
    }
  }
  return (t, b) => timestamps[index(t, b)];
}

/** A mask's values, checked to be 0 (missing) or 1 (observed). */
export function checkMask(where: string, mask: ArrayLike<number>): ArrayLike<number> {
  for (let i = 0; i < mask.length; i++) {
    if (mask[i] !== 0 && mask[i] !== 1)
      throw new ValueRangeError(`${where}: mask[${i}] must be 0 (missing) or 1 (observed), received ${mask[i]}`);
  }
  return mask;
}

/**
 * δ `[T, B, I]` (time-major) by the spec's recurrence, per feature d: `δ_0 = 0`,
 * `δ_t = s_t − s_{t−1} + δ_{t−1}` if `m_{t−1} = 0`, else `s_t − s_{t−1}`; 0 past each length.
 */
export function deltasFrom(
  at: (t: number, b: number) => number,
  mask: ArrayLike<number>,
  [steps, batch, features]: readonly number[],
  lengths: Int32Array,
): Float64Array {
  const delta = new Float64Array(steps * batch * features);
  for (let b = 0; b < batch; b++) {
    for (let t = 1; t < lengths[b]; t++) {
      const gap = at(t, b) - at(t - 1, b);
      const row = (t * batch + b) * features;
      const previous = row - batch * features;
      for (let d = 0; d < features; d++) delta[row + d] = gap + (mask[previous + d] === 0 ? delta[previous + d] : 0);
    }
  }
  return delta;
}

/** Checks a `SeriesData` argument (and its host data): its shape must be `shape`, or any `[T, B, I]`. */
export function checkSeries(where: string, name: string, value: unknown, shape?: readonly number[]): SeriesData {
  let actual: readonly number[];
  if (value instanceof Tensor) {
    actual = value.shape;
  } else if (isPlainObject(value) && Array.isArray(value.shape) && 'data' in value) {
    assertArrayLikeOfNumbers(value.data, `${where}: ${name}.data`);
    actual = value.shape as number[];
    const size = actual.reduce((a, d) => a * d, 1);
    if (actual.some((d) => !Number.isInteger(d) || d < 1) || value.data.length !== size) {
      throw new ShapeError(
        `${where}: ${name} holds ${value.data.length} values for shape ${describeValue(value.shape)}; the shape must be positive integers whose product is the data's length`,
      );
    }
  } else {
    throw new ShapeError(`${where}: ${name} must be a Tensor or host data { data, shape }, received ${describeValue(value)}`);
  }
  const matches = shape ? actual.length === shape.length && actual.every((d, i) => d === shape[i]) : actual.length === 3;
  if (!matches)
    throw new ShapeError(`${where}: ${name} must be ${shape ? describeShape(shape) : '[T, B, I]'}, received ${describeShape(actual)}`);
  return value as SeriesData;
}

/**
 * A series' values on the host: host data as it is, a tensor read synchronously. Backends that
 * cannot block (WebGPU) get a `BackendCapabilityError` saying what to pass instead, rather than
 * a hidden asynchronous read.
 */
export function hostValues(where: string, name: string, value: SeriesData, instead: string): ArrayLike<number> {
  if (!(value instanceof Tensor)) return value.data;
  if (!value.backend.blocking) {
    throw new BackendCapabilityError(
      `${where}: ${name} is a tensor on the ${value.backend.name} backend, which cannot be read synchronously; ${instead}`,
    );
  }
  return value.toArraySync();
}

/**
 * GRU-D's δ: the time since each feature was last observed, from `timestamps` (`[T]`, shared by
 * every sequence, or `[T, B]`, time-major, flat) and `mask` `[T, B, I]` (1 = observed, 0 =
 * missing): `δ_0 = 0`; `δ_t = s_t − s_{t−1} + δ_{t−1}` where `m_{t−1} = 0`, else `s_t − s_{t−1}`.
 *
 * Returns the same kind as `mask`: host data `{ data, shape }` for host data, a tensor on the
 * mask's backend for a tensor (read synchronously: on WebGPU pass the mask as host data).
 *
 * ```ts
 * const delta = timeSinceObserved([0, 1, 3], { data: [1, 0, 1], shape: [3, 1, 1] }); // data [0, 1, 3]
 * ```
 */
export function timeSinceObserved(timestamps: ArrayLike<number>, mask: Tensor, options?: TimeDeltaOptions): Tensor;
export function timeSinceObserved(timestamps: ArrayLike<number>, mask: HostArray, options?: TimeDeltaOptions): HostArray;
export function timeSinceObserved(timestamps: ArrayLike<number>, mask: SeriesData, options: TimeDeltaOptions = {}): SeriesData {
  const where = 'timeSinceObserved';
  checkOptions(where, options, TIME_DELTA_OPTIONS);
  const checked = checkSeries(where, 'mask', mask);
  const shape = [...checked.shape];
  const lengths = checkLengths(where, options.lengths, shape[0], shape[1]);
  const at = timestampsOf(where, timestamps, shape[0], shape[1], lengths);
  const values = checkMask(where, hostValues(where, 'mask', checked, 'pass it as host data { data, shape }'));
  const delta = deltasFrom(at, values, shape, lengths);
  return checked instanceof Tensor ? tensor(delta, shape, { backend: checked.backend }) : { data: delta, shape };
}

/**
 * RNN_Δt's input: `x` `[T, B, F]` (time-major) with the elapsed time `t_i − t_{i−1}` appended
 * as feature F (the first step gets 0), `[T, B, F + 1]`, for irregularly sampled series. Any
 * recurrent layer reads it (`inputSize: F + 1`); gradients flow back to `x`. `timestamps` are
 * `[T]` (shared) or `[T, B]` (one per sequence, time-major, flat).
 *
 * ```ts
 * const gru = new GRU({ inputSize: F + 1, hiddenSize: 32 });
 * const { output } = gru.forward(withTimeDeltas(x, timestamps));
 * ```
 */
export function withTimeDeltas(x: Tensor, timestamps: ArrayLike<number>, options: TimeDeltaOptions = {}): Tensor {
  const where = 'withTimeDeltas';
  checkOptions(where, options, TIME_DELTA_OPTIONS);
  if (!(x instanceof Tensor) || x.rank !== 3) {
    throw new ShapeError(
      `${where}: x must be a Tensor [T, B, F], received ${x instanceof Tensor ? describeShape(x.shape) : describeValue(x)}`,
    );
  }
  const [steps, batch] = x.shape;
  const lengths = checkLengths(where, options.lengths, steps, batch);
  const at = timestampsOf(where, timestamps, steps, batch, lengths);
  const deltas = new Float64Array(steps * batch);
  for (let b = 0; b < batch; b++) for (let t = 1; t < lengths[b]; t++) deltas[t * batch + b] = at(t, b) - at(t - 1, b);
  return concat([x, tensor(deltas, [steps, batch, 1], { backend: x.backend })], 2);
}
