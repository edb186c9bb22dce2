import { ValueRangeError } from '../errors.js';
import { checkOptions, type OptionsSchema, option, required } from '../options.js';
import { disposeAll, Tensor } from '../tensor.js';

/** One update of truncated BPTT over the stream. */
export interface BpttChunk {
  /** 0-based update number. */
  index: number;
  /** First step the model runs (the gradient reaches back to here). */
  start: number;
  /** First step whose loss counts. */
  lossStart: number;
  /** One past the last step. */
  end: number;
}

export interface TruncatedBpttOptions<S> {
  /** Number of steps in the stream. */
  length: number;
  /** Steps between updates; the loss of these most recent steps is back-propagated. */
  k1: number;
  /** Steps the gradient reaches back, a multiple of k1 (default k1). k1 = k2 = length is full BPTT. */
  k2?: number;
  /** The state before step 0: a tensor, or an array / plain object of tensors. */
  initialState: S;
  /**
   * Runs the model over `[chunk.start, chunk.end)` from `state`, computes the loss on
   * `[chunk.lossStart, chunk.end)`, back-propagates and updates; returns the state after
   * `chunk.end`. The helper takes ownership of the returned tensors: it keeps detached views
   * (cutting the gradient at the boundary) and disposes the originals.
   */
  step: (chunk: BpttChunk, state: S) => S | Promise<S>;
}

const TRUNCATED_BPTT_OPTIONS: OptionsSchema<TruncatedBpttOptions<unknown>> = {
  length: required(option.positiveInteger),
  k1: required(option.positiveInteger),
  k2: option.positiveInteger,
  initialState: option.anything,
  step: required(option.function),
};

/** A copy of a state structure with every tensor detached from the graph (storage shared). */
export function detachState<S>(state: S): S {
  if (state instanceof Tensor) return state.detach() as S;
  if (Array.isArray(state)) return state.map(detachState) as S;
  if (state && typeof state === 'object') {
    return Object.fromEntries(Object.entries(state).map(([k, v]) => [k, detachState(v)])) as S;
  }
  return state;
}

/**
 * The chunks of truncated BPTT(k1, k2) over a stream of `length` steps, made one at a time as
 * they are iterated (a stream may be far longer than any array of its chunks). The arguments
 * are checked at once; the result can be iterated any number of times.
 */
export function bpttChunks(length: number, k1: number, k2 = k1): Iterable<BpttChunk> {
  for (const [name, v] of [
    ['length', length],
    ['k1', k1],
    ['k2', k2],
  ] as const) {
    if (!Number.isInteger(v) || v < 1) throw new ValueRangeError(`truncatedBptt: ${name} must be a positive integer, received ${v}`);
  }
  if (k2 < k1 || k2 % k1 !== 0) throw new ValueRangeError(`truncatedBptt: k2 must be a multiple of k1 (${k1}) and ≥ k1, received ${k2}`);
  return {
    *[Symbol.iterator]() {
      for (let lossStart = 0, index = 0; lossStart < length; lossStart += k1, index++) {
        yield { index, start: Math.max(0, lossStart - (k2 - k1)), lossStart, end: Math.min(length, lossStart + k1) };
      }
    },
  };
}

/**
 * Truncated back-propagation through time (Williams & Peng's BPTT(k2; k1)): every k1 steps,
 * back-propagate the loss of those k1 steps through the last k2 steps. The state carried
 * across chunks is detached. With k2 > k1 each update re-runs the model from the detached
 * state k2 steps back, which keeps memory at k2 steps of activations.
 */
export async function truncatedBptt<S>(options: TruncatedBpttOptions<S>): Promise<S> {
  checkOptions('truncatedBptt', options as TruncatedBpttOptions<unknown>, TRUNCATED_BPTT_OPTIONS);
  const { length, k1, k2 = k1 } = options;
  const chunks = bpttChunks(length, k1, k2);
  // Detached states at chunk boundaries, by step index; only the last k2/k1 are needed.
  const boundaries = new Map<number, S>([[0, detachState(options.initialState)]]);
  let last = boundaries.get(0) as S;
  for (const chunk of chunks) {
    const state = boundaries.get(chunk.start) as S;
    const returned = await options.step(chunk, state);
    last = detachState(returned);
    disposeAll(returned);
    boundaries.set(chunk.end, last);
    for (const step of [...boundaries.keys()]) {
      if (step <= chunk.end - k2) {
        if (boundaries.get(step) !== last) disposeAll(boundaries.get(step));
        boundaries.delete(step);
      }
    }
  }
  return last;
}
