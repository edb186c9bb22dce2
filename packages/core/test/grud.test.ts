/**
 * GRU-D against the spec's equations written out in plain JS below (one scalar at a time, no
 * core code), plus its parameters, missing-value handling, lengths, layouts and typed errors.
 * The PyTorch goldens and gradient checks are in the conformance suite (time-aware-cases.ts).
 */
import {
  BackendCapabilityError,
  GRUD,
  LastHidden,
  Linear,
  OptionsError,
  permute,
  Sequential,
  ShapeError,
  slice,
  sum,
  type Tensor,
  tensor,
  ValueRangeError,
} from '@recur/core';
import { describe, expect, it } from 'vitest';
import { expectClose, expectError, f64, randomArray, values } from './helpers.js';
import { nonBlocking } from './non-blocking.js';

const backend = f64();
const [T, B, I, H] = [4, 2, 2, 3];

/** The spec's GRU-D for one sequence: per step x, m, δ (each I long); returns every h and the final x_last. */
function reference(p: Record<string, number[]>, steps: { x: number[]; m: number[]; d: number[] }[], h0 = new Array<number>(H).fill(0)) {
  const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));
  const row = (w: number[], j: number, width: number, v: number[]) => v.reduce((s, vk, k) => s + w[j * width + k] * vk, 0);
  let h = [...h0];
  let xLast = [...p.x_mean];
  const outputs: number[][] = [];
  for (const { x, m, d } of steps) {
    const gammaX = d.map((dk, k) => Math.exp(-Math.max(0, p.decay_x_weight_l0[k] * dk + p.decay_x_bias_l0[k])));
    const gammaH = h.map((_, j) => Math.exp(-Math.max(0, row(p.decay_h_weight_l0, j, I, d) + p.decay_h_bias_l0[j])));
    const xHat = x.map((xk, k) => (m[k] === 1 ? xk : gammaX[k] * xLast[k] + (1 - gammaX[k]) * p.x_mean[k]));
    const hHat = h.map((hj, j) => gammaH[j] * hj);
    const input = [...xHat, ...m];
    const gi = (j: number) => row(p.weight_ih_l0, j, 2 * I, input) + p.bias_ih_l0[j];
    const gh = (j: number) => row(p.weight_hh_l0, j, H, hHat) + p.bias_hh_l0[j];
    h = hHat.map((hj, j) => {
      const r = sigmoid(gi(j) + gh(j));
      const z = sigmoid(gi(H + j) + gh(H + j));
      const n = Math.tanh(gi(2 * H + j) + r * gh(2 * H + j));
      return (1 - z) * n + z * hj;
    });
    xLast = xLast.map((v, k) => (m[k] === 1 ? x[k] : v));
    outputs.push(h);
  }
  return { outputs, h, xLast };
}

async function paramsOf(model: GRUD): Promise<Record<string, number[]>> {
  const out: Record<string, number[]> = {};
  for (const [name, t] of Object.entries(model.stateDict())) out[name] = Array.from(await t.toArray());
  return out;
}

// Time-major [T, B, I] data: about half the values missing, δ ≥ 0.
const x = randomArray(1, T * B * I);
const mask = randomArray(2, T * B * I, 0, 1).map((u) => (u < 0.5 ? 1 : 0));
const delta = randomArray(3, T * B * I, 0, 3);
const xMean = [0.3, -0.6];
const at = (a: number[], t: number, b: number) => a.slice((t * B + b) * I, (t * B + b + 1) * I);
const sequence = (b: number, steps = T) =>
  Array.from({ length: steps }, (_, t) => ({ x: at(x, t, b), m: at(mask, t, b), d: at(delta, t, b) }));
const model = () => new GRUD({ inputSize: I, hiddenSize: H, xMean, backend, seed: 5 });
const given = () => ({ mask: tensor(mask, [T, B, I], { backend }), delta: tensor(delta, [T, B, I], { backend }) });

describe('GRUD', () => {
  it('registers the spec’s parameters, in its order, and x_mean as a buffer', async () => {
    const m = model();
    const shapes = [...m.namedParameters()].map(([name, p]) => [name, p.shape]);
    expect(shapes).toEqual([
      ['decay_x_weight_l0', [I]],
      ['decay_x_bias_l0', [I]],
      ['decay_h_weight_l0', [H, I]],
      ['decay_h_bias_l0', [H]],
      ['weight_ih_l0', [3 * H, 2 * I]],
      ['weight_hh_l0', [3 * H, H]],
      ['bias_ih_l0', [3 * H]],
      ['bias_hh_l0', [3 * H]],
    ]);
    const state = await paramsOf(m);
    expect(Object.keys(state)).toEqual([...shapes.map(([name]) => name), 'x_mean']);
    expect(state.x_mean).toEqual(xMean);
    const bound = 1 / Math.sqrt(H);
    for (const [, p] of m.namedParameters()) for (const v of await p.toArray()) expect(Math.abs(v)).toBeLessThanOrEqual(bound);
    expect(await paramsOf(new GRUD({ inputSize: 3, hiddenSize: 2, backend }))).toHaveProperty('x_mean', [0, 0, 0]);
  });

  it('computes the spec’s equations, with the last observed input carried in the state', async () => {
    const m = model();
    const p = await paramsOf(m);
    const out = m.forward(tensor(x, [T, B, I], { backend }), given());
    expect(out.output.shape).toEqual([T, B, H]);
    expect(out.hN.shape).toEqual([1, B, H]);
    expect(out.xLast.shape).toEqual([1, B, I]);
    const refs = [0, 1].map((b) => reference(p, sequence(b)));
    const expected = Array.from({ length: T }, (_, t) => refs.flatMap((r) => r.outputs[t]));
    expectClose(await values(out.output), expected.flat(), 1e-12, 1e-14, 'output');
    expectClose(
      await values(out.hN),
      refs.flatMap((r) => r.h),
      1e-12,
      1e-14,
      'hN',
    );
    // x_last: each feature's last observed value, x_mean where it was never observed.
    const lastSeen = [0, 1].flatMap((b) => [0, 1].map((d) => [...sequence(b)].reverse().find((s) => s.m[d] === 1)?.x[d] ?? xMean[d]));
    expect(await values(out.xLast)).toEqual(lastSeen);
    expect(await values(out.lastHidden())).toEqual(await values(out.hN));
  });

  it('derives the mask from NaN in host data and δ from the timestamps; NaN never reaches the arithmetic', async () => {
    const m = model();
    const p = await paramsOf(m);
    const stamps = [0, 0.5, 2, 3.5];
    const nan = x.map((v, i) => (mask[i] === 1 ? v : Number.NaN));
    const out = m.forward({ data: nan, shape: [T, B, I] }, { timestamps: stamps });
    // δ by the spec's recurrence, per feature k: the gap, plus the previous δ after a missing value.
    const deltaOf = (b: number) => {
      const out = [[0, 0]];
      for (let t = 1; t < T; t++)
        out.push([0, 1].map((k) => stamps[t] - stamps[t - 1] + (at(mask, t - 1, b)[k] === 1 ? 0 : out[t - 1][k])));
      return out;
    };
    const refs = [0, 1].map((b) =>
      reference(
        p,
        sequence(b).map((s, t) => ({ ...s, d: deltaOf(b)[t] })),
      ),
    );
    expectClose(await values(out.output), Array.from({ length: T }, (_, t) => refs.flatMap((r) => r.outputs[t])).flat(), 1e-12, 1e-14);
  });

  it('derives the mask from NaN in a tensor it can read, keeping x differentiable where observed', async () => {
    const m = model();
    const nan = x.map((v, i) => (mask[i] === 1 ? v : Number.NaN));
    const xt = tensor(nan, [T, B, I], { backend, requiresGrad: true });
    const viaTensor = m.forward(xt, { delta: given().delta });
    sum(viaTensor.output).backward();
    const grad = await values(xt.grad as Tensor);
    grad.forEach((g, i) => {
      expect(Number.isFinite(g)).toBe(true);
      if (mask[i] === 0) expect(g).toBe(0);
    });
    expect(grad.some((g) => g !== 0)).toBe(true);
    expect(await values(viaTensor.output)).toEqual(await values(m.forward(tensor(x, [T, B, I], { backend }), given()).output));
  });

  it('runs each sequence for its own length: zeros after it, states as of its last step', async () => {
    const m = model();
    const p = await paramsOf(m);
    const out = m.forward(tensor(x, [T, B, I], { backend }), { ...given(), lengths: [T, 2] });
    const short = reference(p, sequence(1, 2));
    const rows = await values(out.output);
    expectClose(rows.slice(B * H + H, 2 * B * H), short.outputs[1], 1e-12, 1e-14, 'last step of sequence 1');
    expect(rows.slice(2 * B * H).filter((_, i) => i % (B * H) >= H)).toEqual(new Array(2 * H).fill(0).map(() => expect.closeTo(0, 0)));
    expectClose((await values(out.hN)).slice(H), short.h, 1e-12, 1e-14, 'hN of sequence 1');
    expect((await values(out.xLast)).slice(I)).toEqual(short.xLast);
  });

  it('continues a sequence from its state (h and x_last) as if it had not been cut', async () => {
    const m = model();
    const whole = m.forward(tensor(x, [T, B, I], { backend }), given());
    const part = (start: number, a: number[]) => tensor(a.slice(start * B * I, (start + 2) * B * I), [2, B, I], { backend });
    const first = m.forward(part(0, x), { mask: part(0, mask), delta: part(0, delta) });
    const second = m.forward(part(2, x), { mask: part(2, mask), delta: part(2, delta), state: first.state });
    expect(await values(second.output)).toEqual(await values(slice(whole.output, 0, 2, 2)));
    expect(await values(second.xLast)).toEqual(await values(whole.xLast));
  });

  it('takes [B, T, ·] with batchFirst, timestamps then [B, T]', async () => {
    const timeMajor = model().forward(
      { data: x, shape: [T, B, I] },
      { mask: { data: mask, shape: [T, B, I] }, timestamps: [0, 9, 1, 10, 2, 12, 3, 15] },
    );
    const bf = new GRUD({ inputSize: I, hiddenSize: H, xMean, backend, seed: 5, batchFirst: true });
    // Batch-first element (b, t, k) is time-major element (t, b, k).
    const swap = (a: number[]) => Array.from({ length: a.length }, (_, i) => at(a, Math.floor(i / I) % T, Math.floor(i / (T * I)))[i % I]);
    const out = bf.forward(
      { data: swap(x), shape: [B, T, I] },
      { mask: { data: swap(mask), shape: [B, T, I] }, timestamps: [0, 1, 2, 3, 9, 10, 12, 15] },
    );
    expect(out.output.shape).toEqual([B, T, H]);
    expect(await values(out.output)).toEqual(await values(permute(timeMajor.output, [1, 0, 2])));
    expect(await values(out.hN)).toEqual(await values(timeMajor.hN));
  });

  it('works inside a Sequential, its final state feeding a head', () => {
    const net = new Sequential([model(), new LastHidden(), new Linear({ inFeatures: H, outFeatures: 1, backend })]);
    const y = net.forward({ data: x.map((v, i) => (mask[i] ? v : Number.NaN)), shape: [T, B, I] });
    expect(y.shape).toEqual([B, 1]);
  });

  it('names the argument in typed errors', () => {
    const m = model();
    const xt = tensor(x, [T, B, I], { backend });
    const host = (a: number[], shape = [T, B, I]) => ({ data: a, shape });
    expectError(() => new GRUD({ inputSize: I, hiddenSize: H, xMean: [1], backend }), ShapeError, 'xMean must hold inputSize = 2 values');
    expectError(() => new GRUD({ inputSize: I, hiddenSize: H, xMean: [1, Number.NaN], backend }), ValueRangeError, 'xMean[1]');
    expectError(
      () => new GRUD({ inputSize: I, hiddenSize: H, numLayers: 2, backend } as never),
      OptionsError,
      "unknown option 'numLayers'",
    );
    expectError(() => m.forward(tensor(x, [T, B * I, 1], { backend })), ShapeError, 'x must be [T, B, 2], received [4, 4, 1]');
    expectError(() => m.forward(xt, { mask: host(mask, [T, 1, 4]) }), ShapeError, 'mask must be [4, 2, 2]');
    expectError(
      () => m.forward(xt, { ...given(), delta: tensor(delta, [B, T, I], { backend }) }),
      ShapeError,
      'delta must be [4, 2, 2], received [2, 4, 2]',
    );
    expectError(() => m.forward(xt, { mask: host(mask.map((v) => 2 * v)) }), ValueRangeError, 'mask[', 'must be 0 (missing) or 1');
    expectError(
      () => m.forward(host(x.map((v, i) => (i === 0 ? Number.NaN : v))), { mask: host(x.map(() => 1)) }),
      ValueRangeError,
      'x is NaN at time-major index 0',
    );
    expectError(() => m.forward(host(x.map((v, i) => (i === 5 ? Number.POSITIVE_INFINITY : v)))), ValueRangeError, 'x holds Infinity');
    expectError(
      () => m.forward(xt, { ...given(), h0: tensor(new Array(H).fill(0), [1, 1, H], { backend }) }),
      ShapeError,
      'h0 must be [1, 2, 3]',
    );
    expectError(() => m.forward(xt, { masks: given().mask } as never), OptionsError, "did you mean 'mask'");
    expectError(() => m.forward(xt, { mask: [1, 0] as never }), OptionsError, 'a Tensor or host data { data, shape }');
    expectError(() => m.forward(xt, { lengths: [4, 5] }), ValueRangeError, 'lengths[1] = 5');
    expectError(() => m.forward(xt, { timestamps: [0, 2, 1, 3] }), ValueRangeError, 'timestamps[2] = 1 comes before');
  });

  it('asks for host data where a tensor it needs to read cannot be read synchronously (WebGPU)', () => {
    const other = nonBlocking();
    const m = new GRUD({ inputSize: I, hiddenSize: H, backend: other });
    const on = (a: number[]) => tensor(a, [T, B, I], { backend: other });
    expectError(() => m.forward(on(x)), BackendCapabilityError, 'x is a tensor', 'pass x as host data { data, shape }');
    expectError(() => m.forward(on(x), { mask: on(mask) }), BackendCapabilityError, 'mask is a tensor', 'or delta');
    // Everything given as tensors, or host data: nothing to read.
    expect(m.forward(on(x), { mask: on(mask), delta: on(delta) }).output.shape).toEqual([T, B, H]);
    expect(m.forward({ data: x, shape: [T, B, I] }).output.shape).toEqual([T, B, H]);
  });
});
