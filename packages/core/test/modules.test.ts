import { createJsBackend } from '@recur/backend-js';
import { GRU, LeakyRNN, Linear, LSTM, mean, RNN, StateDictError, square, type Tensor, tensor, UGRNN } from '@recur/core';
import { describe, expect, it } from 'vitest';
import { expectRejection, f64, paramGradCheck, randomArray, values } from './helpers.js';

const backend = f64();

async function snapshot(module: { stateDict(): Record<string, Tensor> }): Promise<Record<string, number[]>> {
  const out: Record<string, number[]> = {};
  for (const [name, t] of Object.entries(module.stateDict())) out[name] = await values(t);
  return out;
}

describe('parameters follow PyTorch', () => {
  it('LSTM(3, 4, numLayers 2, bidirectional): names, order and shapes', () => {
    const lstm = new LSTM({ inputSize: 3, hiddenSize: 4, numLayers: 2, bidirectional: true, backend, seed: 1 });
    const expected: [string, number[]][] = [];
    for (const layer of [0, 1]) {
      for (const suffix of ['', '_reverse']) {
        expected.push([`weight_ih_l${layer}${suffix}`, [16, layer === 0 ? 3 : 8]]);
        expected.push([`weight_hh_l${layer}${suffix}`, [16, 4]]);
        expected.push([`bias_ih_l${layer}${suffix}`, [16]]);
        expected.push([`bias_hh_l${layer}${suffix}`, [16]]);
      }
    }
    expect([...lstm.namedParameters()].map(([name, p]) => [name, [...p.shape]])).toEqual(expected);
    expect(expected.map(([n]) => n).slice(0, 5)).toEqual([
      'weight_ih_l0',
      'weight_hh_l0',
      'bias_ih_l0',
      'bias_hh_l0',
      'weight_ih_l0_reverse',
    ]);
    expect(expected[expected.length - 1][0]).toBe('bias_hh_l1_reverse');
    expect(Object.keys(lstm.stateDict())).toEqual(expected.map(([n]) => n));
    expect(lstm.parameters().every((p) => p.requiresGrad)).toBe(true);
  });

  it('gate counts: GRU 3H, RNN H, UGRNN 2H rows', () => {
    const shapes = (m: { namedParameters(): Generator<[string, Tensor]> }) =>
      Object.fromEntries([...m.namedParameters()].map(([n, p]) => [n, [...p.shape]]));
    expect(shapes(new GRU({ inputSize: 3, hiddenSize: 5, backend, seed: 1 }))).toEqual({
      weight_ih_l0: [15, 3],
      weight_hh_l0: [15, 5],
      bias_ih_l0: [15],
      bias_hh_l0: [15],
    });
    expect(shapes(new RNN({ inputSize: 3, hiddenSize: 5, numLayers: 2, backend, seed: 1 }))).toMatchObject({
      weight_ih_l1: [5, 5],
      bias_hh_l1: [5],
    });
    expect(shapes(new UGRNN({ inputSize: 3, hiddenSize: 5, backend, seed: 1 }))).toMatchObject({
      weight_ih_l0: [10, 3],
      weight_hh_l0: [10, 5],
    });
  });

  it('bias: false drops the biases', () => {
    const lstm = new LSTM({ inputSize: 3, hiddenSize: 4, numLayers: 2, bidirectional: true, bias: false, backend, seed: 1 });
    expect([...lstm.namedParameters()].map(([n]) => n)).toEqual([
      'weight_ih_l0',
      'weight_hh_l0',
      'weight_ih_l0_reverse',
      'weight_hh_l0_reverse',
      'weight_ih_l1',
      'weight_hh_l1',
      'weight_ih_l1_reverse',
      'weight_hh_l1_reverse',
    ]);
    const out = lstm.forward(tensor(randomArray(1, 2 * 1 * 3), [2, 1, 3], { backend }));
    expect(out.output.shape).toEqual([2, 1, 8]);
  });

  it('same seed gives identical parameters, another seed different ones', async () => {
    const make = (seed: number) => new GRU({ inputSize: 3, hiddenSize: 4, numLayers: 2, backend, seed });
    const a = await snapshot(make(7));
    const b = await snapshot(make(7));
    const c = await snapshot(make(8));
    expect(b).toEqual(a);
    for (const name of Object.keys(a)) expect(c[name]).not.toEqual(a[name]);
    // Weights of one model are not copies of each other.
    expect(a.weight_ih_l1).not.toEqual(a.weight_hh_l1);
  });

  it('default init lies in [−1/√H, 1/√H] and spreads over it', async () => {
    const H = 4;
    const lstm = new LSTM({ inputSize: 3, hiddenSize: H, numLayers: 2, bidirectional: true, backend, seed: 3 });
    const all = (await Promise.all(lstm.parameters().map(values))).flat();
    const bound = 1 / Math.sqrt(H);
    expect(all.length).toBe(2 * (16 * 3 + 16 * 4 + 32) + 2 * (16 * 8 + 16 * 4 + 32));
    expect(Math.max(...all)).toBeLessThanOrEqual(bound);
    expect(Math.min(...all)).toBeGreaterThanOrEqual(-bound);
    // About uniform: extremes near the bounds, mean near 0.
    expect(Math.max(...all)).toBeGreaterThan(0.9 * bound);
    expect(Math.min(...all)).toBeLessThan(-0.9 * bound);
    expect(Math.abs(all.reduce((s, v) => s + v, 0) / all.length)).toBeLessThan(0.05);
  });
});

describe('stateDict / loadStateDict', () => {
  const x = tensor(randomArray(10, 5 * 2 * 3), [5, 2, 3], { backend });

  it('round trip into a second model gives identical outputs', async () => {
    const a = new LSTM({ inputSize: 3, hiddenSize: 4, numLayers: 2, bidirectional: true, backend, seed: 1 });
    const b = new LSTM({ inputSize: 3, hiddenSize: 4, numLayers: 2, bidirectional: true, backend, seed: 2 });
    const before = await values(b.forward(x).output);
    const ya = a.forward(x);
    expect(await values(ya.output)).not.toEqual(before);
    await b.loadStateDict(a.stateDict());
    expect(await snapshot(b)).toEqual(await snapshot(a));
    const yb = b.forward(x);
    expect(await values(yb.output)).toEqual(await values(ya.output));
    expect(await values(yb.hN)).toEqual(await values(ya.hN));
    expect(await values(yb.cN as Tensor)).toEqual(await values(ya.cN as Tensor));
  });

  it('accepts host arrays, and a float32 model loads a float64 one', async () => {
    const a = new GRU({ inputSize: 3, hiddenSize: 2, backend, seed: 1 });
    const host = Object.fromEntries(
      Object.entries(await snapshot(a)).map(([k, data]) => [k, { data, shape: [...a.stateDict()[k].shape] }]),
    );
    const b = new GRU({ inputSize: 3, hiddenSize: 2, backend, seed: 5 });
    await b.loadStateDict(host);
    expect(await snapshot(b)).toEqual(await snapshot(a));
    // Tensors of another backend (here float32) are read back and converted.
    const c = new GRU({ inputSize: 3, hiddenSize: 2, backend: createJsBackend(), seed: 5 });
    expect(c.backend.dtype).toBe('float32');
    await c.loadStateDict(a.stateDict());
    const expected = Object.fromEntries(Object.entries(await snapshot(a)).map(([k, v]) => [k, v.map(Math.fround)]));
    expect(await snapshot(c)).toEqual(expected);
  });

  it('stateDict entries are views: later loads do not change a saved dict', async () => {
    const a = new Linear({ inFeatures: 2, outFeatures: 2, backend, seed: 1 });
    const saved = a.stateDict();
    const savedValues = await values(saved.weight);
    await a.loadStateDict({ weight: { data: [1, 2, 3, 4], shape: [2, 2] }, bias: { data: [5, 6], shape: [2] } });
    expect(await values(a.weight)).toEqual([1, 2, 3, 4]);
    expect(await values(saved.weight)).toEqual(savedValues);
  });

  it('a wrong shape, a missing key or an unexpected key throws StateDictError and changes nothing', async () => {
    const model = new RNN({ inputSize: 3, hiddenSize: 4, numLayers: 2, backend, seed: 1 });
    const original = await snapshot(model);
    const source = await snapshot(new RNN({ inputSize: 3, hiddenSize: 4, numLayers: 2, backend, seed: 9 }));
    const entries = (): Record<string, { data: number[]; shape: number[] }> =>
      Object.fromEntries(Object.entries(source).map(([k, data]) => [k, { data, shape: [...model.stateDict()[k].shape] }]));

    const wrongShape = entries();
    wrongShape.weight_hh_l1 = { data: new Array(20).fill(0), shape: [4, 5] };
    await expectRejection(() => model.loadStateDict(wrongShape), StateDictError, 'weight_hh_l1', '[4, 5]', '[4, 4]');
    expect(await snapshot(model)).toEqual(original);

    const missing = entries();
    delete missing.bias_ih_l1;
    await expectRejection(() => model.loadStateDict(missing), StateDictError, "missing key 'bias_ih_l1'");
    expect(await snapshot(model)).toEqual(original);

    const unexpected = { ...entries(), weight_ih_l2: { data: [1], shape: [1] } };
    await expectRejection(() => model.loadStateDict(unexpected), StateDictError, "unexpected key 'weight_ih_l2'");
    expect(await snapshot(model)).toEqual(original);

    // Host data whose length does not match its declared shape is caught before anything is written.
    const shortData = entries();
    shortData.bias_hh_l1 = { data: [1, 2, 3], shape: [4] };
    await expectRejection(() => model.loadStateDict(shortData), StateDictError, 'bias_hh_l1', '3 values', '[4]');
    expect(await snapshot(model)).toEqual(original);

    // A wrong shape is an error even when not strict.
    await expectRejection(() => model.loadStateDict(wrongShape, { strict: false }), StateDictError, 'weight_hh_l1');
    expect(await snapshot(model)).toEqual(original);
  });

  it('strict: false ignores missing and unexpected keys and loads the rest', async () => {
    const model = new RNN({ inputSize: 3, hiddenSize: 4, backend, seed: 1 });
    const original = await snapshot(model);
    await model.loadStateDict({ bias_hh_l0: { data: [1, 2, 3, 4], shape: [4] }, extra: { data: [0], shape: [1] } }, { strict: false });
    const after = await snapshot(model);
    expect(after.bias_hh_l0).toEqual([1, 2, 3, 4]);
    expect({ ...after, bias_hh_l0: null }).toEqual({ ...original, bias_hh_l0: null });
  });
});

describe('LeakyRNN time constants', () => {
  it('a fixed tau is a buffer: in stateDict, not in namedParameters, no gradient', async () => {
    const leaky = new LeakyRNN({ inputSize: 2, hiddenSize: 3, tau: [1, 2, 4], bidirectional: true, backend, seed: 1 });
    const names = [...leaky.namedParameters()].map(([n]) => n);
    expect(names).not.toContain('tau_l0');
    expect(names).toHaveLength(8);
    const dict = leaky.stateDict();
    expect(Object.keys(dict)).toContain('tau_l0');
    expect(Object.keys(dict)).toContain('tau_l0_reverse');
    expect(await values(dict.tau_l0)).toEqual([1, 2, 4]);
    const x = tensor(randomArray(2, 4 * 1 * 2), [4, 1, 2], { backend });
    mean(square(leaky.forward(x).output)).backward();
    for (const p of leaky.parameters()) expect(p.grad).not.toBeNull();
    // The buffer is loaded like a parameter.
    const other = new LeakyRNN({ inputSize: 2, hiddenSize: 3, tau: 3, bidirectional: true, backend, seed: 2 });
    await other.loadStateDict(leaky.stateDict());
    expect(await values(other.stateDict().tau_l0)).toEqual([1, 2, 4]);
    expect(await values(other.forward(x).output)).toEqual(await values(leaky.forward(x).output));
  });

  it('with learnTau, tau is a parameter and its gradient matches finite differences', async () => {
    const leaky = new LeakyRNN({ inputSize: 2, hiddenSize: 3, tau: [1.5, 2, 4], learnTau: true, backend, seed: 1 });
    const named = Object.fromEntries(leaky.namedParameters());
    expect(Object.keys(named)).toEqual(['weight_ih_l0', 'weight_hh_l0', 'bias_ih_l0', 'bias_hh_l0', 'tau_l0']);
    expect(named.tau_l0.requiresGrad).toBe(true);
    const x = tensor(randomArray(3, 5 * 2 * 2), [5, 2, 2], { backend });
    const target = tensor(randomArray(4, 5 * 2 * 3), [5, 2, 3], { backend });
    const loss = () => mean(square(leaky.forward(x).output.sub(target)));
    await paramGradCheck(leaky.parameters(), loss);
  });

  it('rejects tau < 1', () => {
    expect(() => new LeakyRNN({ inputSize: 2, hiddenSize: 3, tau: 0.5, backend })).toThrow(/tau/);
  });
});
