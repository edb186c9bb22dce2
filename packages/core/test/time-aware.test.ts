/**
 * The time-aware input helpers: `timeSinceObserved` (GRU-D's δ) and `withTimeDeltas` (RNN_Δt's
 * `[x, t_i − t_{i−1}]`). Expected values are worked out by hand from the spec's recurrence.
 */
import {
  BackendCapabilityError,
  GRU,
  LeakyRNN,
  LSTM,
  OptionsError,
  RNN,
  ShapeError,
  sum,
  Tensor,
  tensor,
  timeSinceObserved,
  UGRNN,
  ValueRangeError,
  withTimeDeltas,
} from '@recur/core';
import { describe, expect, it } from 'vitest';
import { expectError, f64, values } from './helpers.js';
import { nonBlocking } from './non-blocking.js';

const backend = f64();

// T = 5, B = 2, I = 2; time-major [t][b][d]. Timestamps 0, 1, 3, 4, 7 (gaps 1, 2, 1, 3).
//   (b0, d0) m 1 0 0 1 0 → δ 0, 1, 1+2, 3+1, 3        (b0, d1) m 0 0 0 0 0 → δ 0, 1, 3, 4, 7
//   (b1, d0) m 1 1 1 1 1 → δ 0, 1, 2, 1, 3            (b1, d1) m 0 1 0 1 1 → δ 0, 1, 2, 2+1, 3
const mask = [1, 0, 1, 0, 0, 0, 1, 1, 0, 0, 1, 0, 1, 0, 1, 1, 0, 0, 1, 1];
const timestamps = [0, 1, 3, 4, 7];
const expectedDelta = [0, 0, 0, 0, 1, 1, 1, 1, 3, 3, 2, 2, 4, 4, 1, 3, 3, 7, 3, 3];

describe('timeSinceObserved', () => {
  it('follows the recurrence per feature, with shared timestamps', () => {
    const delta = timeSinceObserved(timestamps, { data: mask, shape: [5, 2, 2] });
    expect(delta.shape).toEqual([5, 2, 2]);
    expect(Array.from(delta.data)).toEqual(expectedDelta);
  });

  it('takes one timestamp per sequence ([T, B], time-major)', () => {
    // Sequence 0 at 0, 1, 3, 4, 7 as above; sequence 1 at 10, 20, 30, 40, 50 (every gap 10).
    const perSequence = timestamps.flatMap((s, t) => [s, 10 * (t + 1)]);
    const delta = timeSinceObserved(perSequence, { data: mask, shape: [5, 2, 2] });
    // Sequence 1: (d0) m 1 1 1 1 1 → δ 0, 10, 10, 10, 10; (d1) m 0 1 0 1 1 → δ 0, 10, 10, 10+10, 10.
    expect(Array.from(delta.data)).toEqual([0, 0, 0, 0, 1, 1, 10, 10, 3, 3, 10, 10, 4, 4, 10, 20, 3, 7, 10, 10]);
  });

  it('returns a tensor on the mask’s backend for a tensor mask', async () => {
    const delta = timeSinceObserved(timestamps, tensor(mask, [5, 2, 2], { backend }));
    expect(delta).toBeInstanceOf(Tensor);
    expect(delta.backend).toBe(tensor([0], [1], { backend }).backend);
    expect(await values(delta)).toEqual(expectedDelta);
  });

  it('leaves steps past each length at 0 without reading their timestamps', () => {
    const stamps = [0, 0, 1, 2, Number.NaN, 5];
    const delta = timeSinceObserved(stamps, { data: [1, 1, 0, 1, 1, 1], shape: [3, 2, 1] }, { lengths: [2, 3] });
    expect(Array.from(delta.data)).toEqual([0, 0, 1, 2, 0, 3]);
  });

  it('names the argument in typed errors', () => {
    const m = { data: mask, shape: [5, 2, 2] };
    expectError(() => timeSinceObserved([0, 1, 2], m), ShapeError, 'timestamps must hold 5 values', 'or 10');
    expectError(() => timeSinceObserved([0, 1, 3, 2, 7], m), ValueRangeError, 'timestamps[3] = 2 comes before timestamps[2] = 3');
    expectError(() => timeSinceObserved([0, 1, Number.NaN, 4, 7], m), ValueRangeError, 'timestamps[2] must be a finite number');
    expectError(
      () => timeSinceObserved(timestamps, { data: mask.map((v, i) => (i === 3 ? 0.5 : v)), shape: [5, 2, 2] }),
      ValueRangeError,
      'mask[3]',
    );
    expectError(() => timeSinceObserved(timestamps, { data: mask, shape: [5, 4] }), ShapeError, 'mask must be [T, B, I], received [5, 4]');
    expectError(() => timeSinceObserved(timestamps, { data: mask, shape: [5, 2, 3] }), ShapeError, 'mask holds 20 values');
    expectError(() => timeSinceObserved(timestamps, m, { lengths: [5, 6] }), ValueRangeError, 'lengths[1] = 6');
    expectError(() => timeSinceObserved(timestamps, m, { length: [5, 5] } as never), OptionsError, "did you mean 'lengths'");
  });

  it('refuses a tensor it cannot read synchronously, saying what to pass instead', () => {
    const other = nonBlocking();
    const m = tensor(mask, [5, 2, 2], { backend: other });
    expectError(() => timeSinceObserved(timestamps, m), BackendCapabilityError, 'mask is a tensor', 'host data { data, shape }');
  });
});

describe('withTimeDeltas', () => {
  it('appends t_i − t_{i−1} as the last feature, 0 at the first step', async () => {
    const x = tensor([1, 2, 3, 4, 5, 6], [3, 2, 1], { backend });
    const out = withTimeDeltas(x, [0, 10, 0.5, 12, 2, 12]);
    expect(out.shape).toEqual([3, 2, 2]);
    expect(await values(out)).toEqual([1, 0, 2, 0, 3, 0.5, 4, 2, 5, 1.5, 6, 0]);
    expect(await values(withTimeDeltas(x, [1, 4, 4]))).toEqual([1, 0, 2, 0, 3, 3, 4, 3, 5, 0, 6, 0]);
  });

  it('passes gradients back to x', async () => {
    const x = tensor([1, 2, 3, 4], [2, 2, 1], { backend, requiresGrad: true });
    sum(withTimeDeltas(x, [0, 1])).backward();
    expect(await values(x.grad as Tensor)).toEqual([1, 1, 1, 1]);
  });

  it('feeds every built-in layer exactly what the hand-built [x, Δt] input is', async () => {
    const x = [0.5, -1, 0.25, 2, -0.75, 1.5];
    const stamps = [0, 1, 1.5];
    const handBuilt = tensor([0.5, 0, -1, 0, 0.25, 1, 2, 1, -0.75, 0.5, 1.5, 0.5], [3, 2, 2], { backend });
    const layers = [RNN, LSTM, GRU, UGRNN, LeakyRNN].map((Layer) => new Layer({ inputSize: 2, hiddenSize: 3, backend, seed: 1 }));
    for (const layer of layers) {
      const viaHelper = layer.forward(withTimeDeltas(tensor(x, [3, 2, 1], { backend }), stamps)).output;
      expect(await values(viaHelper)).toEqual(await values(layer.forward(handBuilt).output));
    }
  });

  it('names the argument in typed errors', () => {
    const x = tensor([1, 2, 3, 4], [2, 2, 1], { backend });
    expectError(
      () => withTimeDeltas(tensor([1, 2], [2, 1], { backend }), [0, 1]),
      ShapeError,
      'x must be a Tensor [T, B, F], received [2, 1]',
    );
    expectError(() => withTimeDeltas(x, [0, 1, 2]), ShapeError, 'timestamps must hold 2 values ([T], shared by every sequence) or 4');
    expectError(() => withTimeDeltas(x, [0, 5, -1, 6]), ValueRangeError, 'timestamps[2] = -1 comes before timestamps[0] = 0');
    expectError(() => withTimeDeltas(x, ['0', '1'] as never), OptionsError, 'timestamps[0] must be a number');
  });
});
