import { createJsBackend } from '@recur/backend-js';
import {
  ESN,
  fitRidge,
  Linear,
  manualSeed,
  NonFiniteError,
  noGrad,
  OptionsError,
  Sequential,
  ShapeError,
  slice,
  type Tensor,
  tensor,
  ValueRangeError,
} from '@recur/core';
import { describe, expect, it } from 'vitest';
import { expectClose, expectRejection, f64, randomArray, values } from './helpers.js';

const backend = f64();
const t3 = (data: ArrayLike<number>, steps: number, batch: number, width: number) => tensor(data, [steps, batch, width], { backend });

/** The one-feature ridge solution worked by hand: w = Σ x̃ỹ / (Σ x̃² + α), b = ȳ − w x̄. */
function oneFeature(x: number[], y: number[], alpha: number, intercept: boolean): { w: number; b: number } {
  const mean = (v: number[]) => (intercept ? v.reduce((a, b) => a + b, 0) / v.length : 0);
  const [mx, my] = [mean(x), mean(y)];
  let [sxy, sxx] = [0, 0];
  for (let i = 0; i < x.length; i++) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) ** 2;
  }
  const w = sxy / (sxx + alpha);
  return { w, b: my - w * mx };
}

async function weightsOf(readout: Linear): Promise<{ weight: number[]; bias: number[] | null }> {
  return { weight: await values(readout.weight), bias: readout.bias ? await values(readout.bias) : null };
}

describe('fitRidge', () => {
  it('matches the one-feature closed form, with and without intercept', async () => {
    const x = randomArray(1, 20, 0, 2);
    const y = x.map((v, i) => 3 * v - 1 + 0.1 * Math.sin(i));
    for (const intercept of [true, false]) {
      const expected = oneFeature(x, y, 0.5, intercept);
      const fit = await weightsOf(await fitRidge(t3(x, 20, 1, 1), t3(y, 20, 1, 1), { alpha: 0.5, fitIntercept: intercept }));
      expectClose(fit.weight, [expected.w], 1e-12, 1e-14, 'weight');
      if (intercept) expectClose(fit.bias as number[], [expected.b], 1e-12, 1e-14, 'bias');
      else expect(fit.bias).toBeNull();
    }
  });

  it('recovers an exact affine map Y = X Aᵀ + c when α is tiny', async () => {
    const [T, B, F, O] = [30, 2, 4, 3];
    const x = randomArray(2, T * B * F);
    const a = randomArray(3, O * F);
    const c = [0.5, -2, 7];
    const y: number[] = [];
    for (let r = 0; r < T * B; r++) {
      for (let o = 0; o < O; o++) y.push(c[o] + a.slice(o * F, o * F + F).reduce((s, w, f) => s + w * x[r * F + f], 0));
    }
    const fit = await weightsOf(await fitRidge(t3(x, T, B, F), t3(y, T, B, O), { alpha: 1e-12 }));
    expectClose(fit.weight, a, 1e-8, 1e-9, 'weight');
    expectClose(fit.bias as number[], c, 1e-8, 1e-9, 'bias');
  });

  it('never penalises the intercept: a huge α shrinks W to 0 and leaves b at the mean of Y', async () => {
    const x = randomArray(4, 40);
    const y = randomArray(5, 40, 10, 12);
    const fit = await weightsOf(await fitRidge(t3(x, 20, 2, 1), t3(y, 20, 2, 1), { alpha: 1e12 }));
    expect(Math.abs(fit.weight[0])).toBeLessThan(1e-9);
    expectClose(fit.bias as number[], [y.reduce((s, v) => s + v, 0) / y.length], 1e-9, 1e-12, 'bias');
  });

  it('leaves out the first washout steps of every sequence and the steps past each length', async () => {
    const [T, B] = [12, 2];
    const x = randomArray(6, T * B);
    const y = x.map((v) => 2 * v + 1 + 0.3 * v * v);
    const lengths = [12, 9];
    const kept: number[] = [];
    for (let t = 0; t < T; t++) {
      for (let b = 0; b < B; b++) {
        // Garbage where the fit must not look: the washout and the padding.
        if (t < 3 || t >= lengths[b]) y[t * B + b] = 1e6;
        else kept.push(t * B + b);
      }
    }
    const expected = oneFeature(
      kept.map((r) => x[r]),
      kept.map((r) => y[r]),
      0.1,
      true,
    );
    const fit = await weightsOf(await fitRidge(t3(x, T, B, 1), t3(y, T, B, 1), { alpha: 0.1, washout: 3, lengths }));
    expectClose([...fit.weight, ...(fit.bias as number[])], [expected.w, expected.b], 1e-12, 1e-13, 'weight and bias');
  });

  it('gives the same readout from one tensor, an array of uneven chunks and an async generator', async () => {
    const [T, B, F, O] = [50, 3, 5, 2];
    const x = t3(randomArray(7, T * B * F), T, B, F);
    const y = t3(randomArray(8, T * B * O), T, B, O);
    const options = { alpha: 1e-3, washout: 4, lengths: [50, 31, 45] };
    const whole = await weightsOf(await fitRidge(x, y, options));
    const cuts = [0, 3, 4, 17, 40, 50];
    const pieces = (t: Tensor) => cuts.slice(1).map((end, i) => slice(t, 0, cuts[i], end - cuts[i]));
    const fromArrays = await weightsOf(await fitRidge(pieces(x), pieces(y), options));
    async function* generate(t: Tensor) {
      for (const piece of pieces(t)) yield piece;
    }
    const fromGenerators = await weightsOf(await fitRidge(generate(x), generate(y), options));
    for (const other of [fromArrays, fromGenerators]) {
      expectClose(other.weight, whole.weight, 1e-11, 1e-13, 'weight');
      expectClose(other.bias as number[], whole.bias as number[], 1e-11, 1e-13, 'bias');
    }
  });

  it('accepts [T, F] for one sequence, returns the readout on the states’ backend, and leaves the global generator alone', async () => {
    const other = createJsBackend();
    const x = tensor(randomArray(9, 10), [10, 1], { backend: other });
    const y = tensor(randomArray(10, 10), [10, 1], { backend: other });
    manualSeed(11);
    const expected = await values(new Linear({ inFeatures: 2, outFeatures: 2 }).weight);
    manualSeed(11);
    const readout = await fitRidge(x, y);
    expect(readout.weight.backend.name).toBe(other.name);
    expect(readout.weight.dtype).toBe('float32');
    expect(await values(new Linear({ inFeatures: 2, outFeatures: 2 }).weight)).toEqual(expected);
  });

  it('trains the readout of an ESN, which a Sequential then runs', async () => {
    const esn = new ESN({ inputSize: 1, hiddenSize: 30, density: 0.3, leakRate: 0.5, backend, seed: 1 });
    const T = 300;
    const signal = Array.from({ length: T + 1 }, (_, t) => Math.sin(t / 4));
    const u = t3(signal.slice(0, T), T, 1, 1);
    const states = noGrad(() => esn.forward(u).output);
    const readout = await fitRidge(states, t3(signal.slice(1), T, 1, 1), { alpha: 1e-8, washout: 50 });
    const prediction = await values(noGrad(() => new Sequential([esn, readout]).forward(u)));
    // One-step prediction of a sine: the readout only needs to be far better than chance.
    let error = 0;
    for (let t = 50; t < T; t++) error += (prediction[t] - signal[t + 1]) ** 2;
    expect(Math.sqrt(error / (T - 50))).toBeLessThan(1e-3);
  });

  it('closes the caller’s generators when a chunk is rejected', async () => {
    const closed: string[] = [];
    function* chunksOf(name: string, bad: Tensor) {
      try {
        yield t3(randomArray(15, 8), 4, 2, 1);
        yield bad;
        yield t3(randomArray(16, 8), 4, 2, 1);
      } finally {
        closed.push(name);
      }
    }
    const wide = t3(randomArray(17, 16), 4, 2, 2);
    await expectRejection(() => fitRidge(chunksOf('states', wide), chunksOf('targets', wide)), ShapeError, 'states chunk 1');
    expect(closed.sort()).toEqual(['states', 'targets']);
  });

  it('throws typed errors naming the argument', async () => {
    const x = t3(randomArray(12, 20), 10, 2, 1);
    const y = t3(randomArray(13, 20), 10, 2, 1);
    await expectRejection(() => fitRidge(x, y, { alpha: 0 }), ValueRangeError, "'alpha'", '> 0');
    await expectRejection(() => fitRidge(x, y, { alpha: -1 }), ValueRangeError, "'alpha'");
    await expectRejection(() => fitRidge(x, y, { washout: 10 }), ValueRangeError, 'washout (10)', 'number of steps (10)');
    await expectRejection(() => fitRidge([x], [y], { washout: 10 }), ValueRangeError, 'washout (10) leaves no rows');
    await expectRejection(() => fitRidge(x, y, { washout: 5, lengths: [5, 4] }), ValueRangeError, 'leaves no rows');
    await expectRejection(() => fitRidge(x, t3(randomArray(1, 18), 9, 2, 1)), ShapeError, 'targets', '[10, 2]');
    await expectRejection(() => fitRidge(x, t3(randomArray(1, 30), 10, 3, 1)), ShapeError, 'targets');
    await expectRejection(() => fitRidge(tensor(randomArray(1, 20), [20], { backend }), y), ShapeError, 'states', '[T, B, F]');
    await expectRejection(() => fitRidge([x, x], [y]), ShapeError, 'as many chunks', 'targets ended after 1');
    await expectRejection(() => fitRidge([x, t3(randomArray(1, 20), 10, 1, 2)], [y, y]), ShapeError, 'states chunk 1');
    await expectRejection(() => fitRidge([], []), ShapeError, 'no chunks');
    await expectRejection(() => fitRidge(42 as never, y), ShapeError, 'states must be a Tensor or an iterable');
    await expectRejection(() => fitRidge(x, y, { lengths: [3] }), ShapeError, 'lengths', 'one length per sequence (2)');
    await expectRejection(() => fitRidge(x, y, { lengths: [3, 0] }), ValueRangeError, 'lengths[1]');
    await expectRejection(() => fitRidge(x, y, { lengths: [10, 11] }), ValueRangeError, 'lengths[1] = 11', 'the 10 steps');
    await expectRejection(() => fitRidge(x, y, { washOut: 2 } as never), OptionsError, "did you mean 'washout'");
    const nan = randomArray(14, 20);
    nan[7] = Number.NaN;
    await expectRejection(() => fitRidge(t3(nan, 10, 2, 1), y), NonFiniteError, 'states', 'step 3, sequence 1');
    // NaN inside the washout is never read.
    const early = randomArray(14, 20);
    early[1] = Number.NaN;
    await expect(fitRidge(t3(early, 10, 2, 1), y, { washout: 1 })).resolves.toBeInstanceOf(Linear);
  });
});
