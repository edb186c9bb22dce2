import { Dropout, GRU, sum, type Tensor, tensor, ValueRangeError } from '@recur/core';
import { describe, expect, it } from 'vitest';
import { expectClose, expectError, f64, randomArray, values } from './helpers.js';

const backend = f64();

describe('Dropout', () => {
  const n = 20000;
  const data = randomArray(51, n, 0.5, 1.5);

  it('eval mode is the identity', async () => {
    const dropout = new Dropout({ p: 0.3, backend, seed: 1 }).eval();
    const x = tensor(data, [100, 200], { backend });
    const y = dropout.forward(x);
    expect(await values(y)).toEqual(data);
  });

  it('train mode zeros about p of the elements and scales the rest by 1/(1 − p)', async () => {
    for (const p of [0.1, 0.3, 0.5]) {
      const dropout = new Dropout({ p, backend, seed: 2 });
      expect(dropout.training).toBe(true);
      const x = tensor(data, [100, 200], { backend, requiresGrad: true });
      const y = dropout.forward(x);
      const out = await values(y);
      const zeros = out.filter((v) => v === 0).length;
      const kept = out.flatMap((v, i) => (v === 0 ? [] : [i]));
      expectClose(
        kept.map((i) => out[i]),
        kept.map((i) => data[i] / (1 - p)),
        1e-15,
        0,
        'kept elements',
      );
      // Binomial(n, p): a standard deviation of at most 0.0036 on the fraction.
      expect(Math.abs(zeros / n - p)).toBeLessThan(0.02);
      // The gradient is the mask: 0 where dropped, 1/(1 − p) elsewhere.
      sum(y).backward();
      const g = await values(x.grad as Tensor);
      expectClose(
        g,
        out.map((v) => (v === 0 ? 0 : 1 / (1 - p))),
        1e-15,
        0,
        'gradient',
      );
    }
  });

  it('masks differ between calls; p = 0 is the identity in training', async () => {
    const dropout = new Dropout({ p: 0.5, backend, seed: 3 });
    const x = tensor(data.slice(0, 200), [200], { backend });
    expect(await values(dropout.forward(x))).not.toEqual(await values(dropout.forward(x)));
    expect(await values(new Dropout({ p: 0, backend }).forward(x))).toEqual(data.slice(0, 200));
  });

  it('p must lie in [0, 1)', () => {
    expectError(() => new Dropout({ p: 1, backend }), ValueRangeError, 'p', '1');
    expectError(() => new Dropout({ p: -0.1, backend }), ValueRangeError, 'p', '-0.1');
  });
});

describe('dropout between recurrent layers', () => {
  const x = tensor(randomArray(52, 6 * 3 * 2), [6, 3, 2], { backend });

  it('applies only in training, and not after the last layer', async () => {
    const make = (dropout: number, numLayers = 2) => new GRU({ inputSize: 2, hiddenSize: 8, numLayers, dropout, backend, seed: 4 });
    const plain = make(0);
    const reference = await values(plain.forward(x).output);
    const referenceH = await values(plain.forward(x).hN);

    const withDropout = make(0.5);
    // Training (the default): layer 0's output is dropped, so the result differs, and differs per call.
    const a = await values(withDropout.forward(x).output);
    const b = await values(withDropout.forward(x).output);
    expect(a).not.toEqual(reference);
    expect(a).not.toEqual(b);
    // The last layer's output is not dropped: no exact zeros in the output.
    expect(a.some((v) => v === 0)).toBe(false);
    // Layer 0's final state is not affected by dropout (it is applied to the output only).
    const hTrain = await values(withDropout.forward(x).hN);
    expect(hTrain.slice(0, 3 * 8)).toEqual(referenceH.slice(0, 3 * 8));
    expect(hTrain.slice(3 * 8)).not.toEqual(referenceH.slice(3 * 8));

    // Eval: exactly the model without dropout.
    withDropout.eval();
    expect(withDropout.training).toBe(false);
    expect(await values(withDropout.forward(x).output)).toEqual(reference);
    withDropout.train();
    expect(await values(withDropout.forward(x).output)).not.toEqual(reference);

    // One layer: nothing to drop even in training.
    const single = make(0.5, 1);
    expect(await values(single.forward(x).output)).toEqual(await values(make(0, 1).forward(x).output));
  });
});
