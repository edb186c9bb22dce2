import {
  Adam,
  add,
  crossEntropy,
  DisposedTensorError,
  Embedding,
  GRU,
  keep,
  Linear,
  LSTM,
  mul,
  reshape,
  SGD,
  sum,
  type Tensor,
  tanh,
  tensor,
  tidy,
} from '@recur/core';
import { describe, expect, it } from 'vitest';
import { countingBackend, expectError, f64, values } from './helpers.js';

describe('tidy', () => {
  it('disposes intermediates but not the returned tensors, parameters or their grads', async () => {
    const { backend, live } = countingBackend(f64());
    const lin = new Linear({ inFeatures: 3, outFeatures: 2, backend, seed: 1 });
    expect(live()).toBe(2);
    let input!: Tensor;
    let hidden!: Tensor;
    const result = tidy(() => {
      input = tensor([1, 2, 3, 4, 5, 6], [2, 3], { backend });
      hidden = tanh(input);
      const y = lin.forward(hidden);
      sum(y).backward();
      return { y, doubled: [mul(y, 2)] };
    });
    expect(input.disposed).toBe(true);
    expect(hidden.disposed).toBe(true);
    expect(result.y.disposed).toBe(false);
    expect(result.doubled[0].disposed).toBe(false);
    expect(lin.weight.disposed).toBe(false);
    expect(lin.bias?.disposed).toBe(false);
    expect(lin.weight.grad?.disposed).toBe(false);
    expect(lin.bias?.grad?.disposed).toBe(false);
    // d sum(x·Wᵀ + b)/db = number of rows.
    expect(await values(lin.bias?.grad as Tensor)).toEqual([2, 2]);
    // Live: 2 parameters, 2 grads, the 2 returned tensors.
    expect(live()).toBe(6);
    result.y.dispose();
    result.doubled[0].dispose();
    lin.dispose();
    expect(live()).toBe(0);
  });

  it('nested scopes: a tensor returned from an inner tidy belongs to the outer one', () => {
    const { backend, live } = countingBackend(f64());
    let inner!: Tensor;
    let kept!: Tensor;
    const outer = tidy(() => {
      inner = tidy(() => add(tensor([1, 2], [2], { backend }), 1));
      expect(inner.disposed).toBe(false);
      kept = keep(mul(inner, 3));
      return mul(inner, 2);
    });
    expect(inner.disposed).toBe(true);
    expect(kept.disposed).toBe(false);
    expect(outer.disposed).toBe(false);
    outer.dispose();
    kept.dispose();
    expect(live()).toBe(0);
  });

  it('disposes everything when fn throws', () => {
    const { backend, live } = countingBackend(f64());
    expect(() =>
      tidy(() => {
        tensor([1, 2], [2], { backend });
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(live()).toBe(0);
  });
});

describe('backward', () => {
  for (const fused of [true, false]) {
    it(`leaves behind nothing but the new leaf gradients (${fused ? 'fused' : 'unrolled'} path)`, async () => {
      const inner = f64();
      const { backend, live } = countingBackend(inner, fused ? {} : { fused: {} });
      const rnn = new LSTM({ inputSize: 2, hiddenSize: 3, numLayers: 2, bidirectional: true, backend, seed: 1 });
      const head = new Linear({ inFeatures: 6, outFeatures: 4, backend, seed: 2 });
      const x = tensor(
        Array.from({ length: 4 * 2 * 2 }, (_, i) => Math.cos(i)),
        [4, 2, 2],
        { backend, requiresGrad: true },
      );
      const loss = crossEntropy(head.forward(rnn.forward(x, { lengths: [4, 3] }).output), [0, 1, 2, 3, 3, 2, 1, -100]);
      const before = live();
      loss.backward({ retainGraph: true });
      const leaves = rnn.parameters().length + head.parameters().length + 1;
      expect(live() - before).toBe(leaves);
      // A second backward through the same graph replaces each gradient by the sum: still one buffer each.
      loss.backward();
      expect(live() - before).toBe(leaves);
    });
  }
});

describe('dispose', () => {
  it('a tensor used after dispose throws DisposedTensorError naming it', async () => {
    const backend = f64();
    const t = tensor([1, 2, 3, 4, 5, 6], [2, 3], { backend });
    t.dispose();
    t.dispose(); // idempotent
    expect(t.disposed).toBe(true);
    expectError(() => add(t, 1), DisposedTensorError, `#${t.id}`, '[2, 3]', 'dispose');
    expectError(() => t.buffer, DisposedTensorError, `#${t.id}`);
    await expect(t.toArray()).rejects.toThrow(DisposedTensorError);
  });

  it('views share storage by reference count', async () => {
    const { backend, live } = countingBackend(f64());
    const t = tensor([1, 2, 3, 4], [2, 2], { backend });
    const v = reshape(t, [4]);
    t.dispose();
    expect(live()).toBe(1);
    expect(await values(v)).toEqual([1, 2, 3, 4]);
    v.dispose();
    expect(live()).toBe(0);
  });
});

describe('a training loop inside tidy does not leak buffers', () => {
  for (const fused of [true, false]) {
    it(`LSTM + Embedding + Linear, Adam, 50 iterations (${fused ? 'fused sequence path' : 'unrolled path'})`, async () => {
      const inner = f64();
      const { backend, live } = countingBackend(inner, fused ? {} : { fused: {} });
      const embed = new Embedding({ numEmbeddings: 7, embeddingDim: 3, backend, seed: 1 });
      const rnn = new LSTM({ inputSize: 3, hiddenSize: 4, numLayers: 2, bidirectional: true, dropout: 0.25, backend, seed: 2 });
      const head = new Linear({ inFeatures: 8, outFeatures: 7, backend, seed: 3 });
      const params = [...embed.parameters(), ...rnn.parameters(), ...head.parameters()];
      const optimizer = new Adam(params, { lr: 1e-2 });
      const baseline = live();
      expect(baseline).toBe(params.length);
      const ids = [1, 2, 3, 4, 5, 6, 0, 1, 2, 3, 4, 5];
      const targets = [2, 3, 4, 5, 6, 0, 1, 2, -100, 4, 5, 6];
      const counts: number[] = [];
      for (let i = 0; i < 50; i++) {
        const loss = tidy(() => {
          const x = embed.forward(ids, [4, 3]);
          const { output } = rnn.forward(x, { lengths: [4, 2, 3] });
          const l = crossEntropy(head.forward(output), targets);
          l.backward();
          optimizer.step();
          optimizer.zeroGrad();
          return l;
        });
        expect(Number.isFinite(await loss.item())).toBe(true);
        loss.dispose();
        counts.push(live());
      }
      // After the first step: parameters plus Adam's three state buffers each, and nothing else.
      expect(counts[0]).toBe(4 * params.length);
      expect(new Set(counts)).toEqual(new Set([counts[0]]));
      optimizer.dispose();
      embed.dispose();
      rnn.dispose();
      head.dispose();
      expect(live()).toBe(0);
    });
  }

  it('GRU with SGD, gradients kept between steps (accumulating), 50 iterations', async () => {
    const { backend, live } = countingBackend(f64());
    const rnn = new GRU({ inputSize: 2, hiddenSize: 3, backend, seed: 4 });
    const optimizer = new SGD(rnn.parameters(), { lr: 0.01, momentum: 0.9 });
    const x = tensor(
      Array.from({ length: 5 * 2 * 2 }, (_, i) => Math.sin(i)),
      [5, 2, 2],
      { backend },
    );
    const counts: number[] = [];
    for (let i = 0; i < 50; i++) {
      tidy(() => {
        const { output, hN } = rnn.forward(x);
        add(sum(mul(output, output)), sum(hN)).backward();
        optimizer.step();
      });
      counts.push(live());
    }
    // x, 4 parameters, 4 grads, 4 momentum buffers.
    expect(counts[0]).toBe(13);
    expect(new Set(counts)).toEqual(new Set([13]));
  });
});
