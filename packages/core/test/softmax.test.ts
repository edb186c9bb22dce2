/**
 * softmax and logSoftmax: values against the closed form computed in plain JS (with the max
 * subtracted, in float64), gradients against central finite differences.
 */
import { logSoftmax, ShapeError, softmax, tensor, ValueRangeError } from '@recur/core';
import { describe, expect, it } from 'vitest';
import { expectClose, expectError, f64, gradCheck, randomArray, values } from './helpers.js';

const backend = f64();

/** The closed form along `axis` of a row-major array of `shape`. */
function closedForm(data: number[], shape: number[], axis: number, log: boolean): number[] {
  const n = shape[axis];
  const inner = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const outer = data.length / (n * inner);
  const out = new Array<number>(data.length);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const at = (k: number) => (o * n + k) * inner + i;
      const row = Array.from({ length: n }, (_, k) => data[at(k)]);
      const max = Math.max(...row);
      const total = row.reduce((s, v) => s + Math.exp(v - max), 0);
      row.forEach((v, k) => {
        out[at(k)] = log ? v - max - Math.log(total) : Math.exp(v - max) / total;
      });
    }
  }
  return out;
}

describe('softmax and logSoftmax', () => {
  // Odd, even and unit lengths along the axis exercise every branch of the max reduction.
  for (const [shape, axis] of [
    [[2, 3, 5], -1],
    [[2, 3, 5], 1],
    [[4, 3], 0],
    [[3, 8], 1],
    [[7], 0],
    [[3, 1], 1],
  ] as [number[], number][]) {
    it(`match the closed form on [${shape}] along axis ${axis}`, async () => {
      const data = randomArray(
        shape.length * 10 + axis,
        shape.reduce((a, b) => a * b),
        -4,
        4,
      );
      const x = tensor(data, shape, { backend });
      const positive = axis < 0 ? axis + shape.length : axis;
      expectClose(await values(softmax(x, axis)), closedForm(data, shape, positive, false), 1e-13, 1e-15, 'softmax');
      expectClose(await values(logSoftmax(x, axis)), closedForm(data, shape, positive, true), 1e-13, 1e-13, 'logSoftmax');
      expectClose(await values(x.softmax(axis)), closedForm(data, shape, positive, false), 1e-13, 1e-15, 'x.softmax');
      expectClose(await values(x.logSoftmax(axis)), closedForm(data, shape, positive, true), 1e-13, 1e-13, 'x.logSoftmax');
    });
  }

  it('are stable at logits of ±1000 (a naive exp overflows to Infinity / Infinity)', async () => {
    // The last row's maximum is its last, odd-one-out element.
    const data = [1000, 0, -1000, 999, 1000, 1000, -1000, -1000, -999.5, -1000, 0, 1000];
    const x = tensor(data, [4, 3], { backend });
    const p = await values(softmax(x));
    expectClose(p, closedForm(data, [4, 3], 1, false), 1e-14, 1e-300, 'softmax');
    expect(p.every(Number.isFinite)).toBe(true);
    // Probability e^-2000 underflows, so log(softmax) would be -Infinity; its log is -2000.
    const logp = await values(logSoftmax(x));
    expectClose(logp, closedForm(data, [4, 3], 1, true), 1e-14, 1e-12, 'logSoftmax');
    expect(logp[2]).toBe(-2000);
    expect(logp[3]).toBeCloseTo(-1 - Math.log(2 + Math.exp(-1)), 12);
  });

  it('gradients match finite differences along the last and a middle axis', async () => {
    const input = { data: randomArray(31, 2 * 3 * 4, -2, 2), shape: [2, 3, 4] };
    await gradCheck(backend, (x) => softmax(x), [input]);
    await gradCheck(backend, (x) => softmax(x, 1), [input]);
    await gradCheck(backend, (x) => logSoftmax(x), [input]);
    await gradCheck(backend, (x) => logSoftmax(x, 0), [input]);
    await gradCheck(backend, (x) => x.logSoftmax(-2), [input]);
  });

  it('typed errors name the argument', () => {
    const x = tensor([1, 2, 3, 4], [2, 2], { backend });
    expectError(() => softmax(x, 2), ValueRangeError, 'softmax: axis', '[-2, 1]', 'received 2');
    expectError(() => logSoftmax(x, 0.5), ValueRangeError, 'logSoftmax: axis');
    expectError(() => softmax([1, 2] as never), ShapeError, 'softmax: x must be a Tensor');
    expectError(() => logSoftmax(tensor([1], [], { backend })), ShapeError, 'at least one axis');
    expectError(() => softmax(x, '1' as never), ShapeError, 'axis must be an integer');
  });
});
