import { readFileSync } from 'node:fs';
import {
  ESN,
  ESNCell,
  estimateSpectralRadius,
  noGrad,
  OptionsError,
  RecurrentLayer,
  SGD,
  ShapeError,
  sum,
  tensor,
  ValueRangeError,
} from '@recur/core';
import { describe, expect, it } from 'vitest';
import { expectError, f64, randomArray, values } from './helpers.js';

interface RadiusFixture {
  name: string;
  kind: string;
  size: number;
  matrix: number[];
  expected: number;
}

// max |numpy.linalg.eigvals(W)| for small matrices of several kinds (fixtures/generate_esn.py).
const fixture = JSON.parse(readFileSync(new URL('../../conformance/fixtures/esn.json', import.meta.url), 'utf8')) as {
  cases: RadiusFixture[];
};
const radiusCases = fixture.cases.filter((c) => c.kind === 'spectralRadius');

/**
 * An eigenvalue routine independent of the estimator: the characteristic polynomial by
 * Faddeev–LeVerrier, its roots by Durand–Kerner (all at once, in complex arithmetic). Fine for
 * the small matrices here (n ≤ 10); it returns max |root|.
 */
function radiusByRoots(a: ArrayLike<number>, n: number): number {
  // c[k] is the coefficient of λ^k of det(λI − A); c[n] = 1.
  const c = new Array<number>(n + 1).fill(0);
  c[n] = 1;
  let m = new Array<number>(n * n).fill(0);
  for (let k = 1; k <= n; k++) {
    const next = new Array<number>(n * n).fill(0);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        let s = i === j ? c[n - k + 1] : 0;
        for (let p = 0; p < n; p++) s += a[i * n + p] * m[p * n + j];
        next[i * n + j] = s;
      }
    }
    m = next;
    let trace = 0;
    for (let i = 0; i < n; i++) for (let p = 0; p < n; p++) trace += a[i * n + p] * m[p * n + i];
    c[n - k] = -trace / k;
  }
  const bound = 1 + Math.max(...c.slice(0, n).map(Math.abs));
  let re = Array.from({ length: n }, (_, i) => bound * Math.cos((2 * Math.PI * i) / n + 0.4));
  let im = Array.from({ length: n }, (_, i) => bound * Math.sin((2 * Math.PI * i) / n + 0.4));
  for (let iteration = 0; iteration < 2000; iteration++) {
    const [nextRe, nextIm] = [[...re], [...im]];
    for (let i = 0; i < n; i++) {
      // p(z) by Horner, then divide by Π (z − z_j).
      let [pr, pi] = [1, 0];
      for (let k = n - 1; k >= 0; k--) [pr, pi] = [pr * re[i] - pi * im[i] + c[k], pr * im[i] + pi * re[i]];
      let [dr, di] = [1, 0];
      for (let j = 0; j < n; j++) {
        if (j !== i) [dr, di] = [dr * (re[i] - re[j]) - di * (im[i] - im[j]), dr * (im[i] - im[j]) + di * (re[i] - re[j])];
      }
      const d2 = dr * dr + di * di;
      nextRe[i] = re[i] - (pr * dr + pi * di) / d2;
      nextIm[i] = im[i] - (pi * dr - pr * di) / d2;
    }
    [re, im] = [nextRe, nextIm];
  }
  return Math.max(...re.map((r, i) => Math.hypot(r, im[i])));
}

describe('estimateSpectralRadius', () => {
  for (const fx of radiusCases) {
    it(`${fx.name} (${fx.size}×${fx.size}): within 1% of numpy.linalg.eigvals (${fx.expected.toPrecision(6)})`, () => {
      const estimate = estimateSpectralRadius(fx.matrix, fx.size);
      if (fx.expected === 0) expect(estimate).toBe(0);
      else expect(Math.abs(estimate - fx.expected) / fx.expected).toBeLessThan(0.01);
    });
  }

  it('the test’s own eigenvalue routine agrees with numpy on the fixture matrices up to 10×10', () => {
    // Not the 6×6 Jordan block: a 6-fold root moves by ε^(1/6) under rounding, which no root
    // finder escapes; the reservoirs it checks below have distinct eigenvalues.
    const small = radiusCases.filter((fx) => fx.size <= 10 && fx.expected > 0 && fx.size !== 6);
    expect(small.length).toBeGreaterThanOrEqual(5);
    for (const fx of small) expect(radiusByRoots(fx.matrix, fx.size)).toBeCloseTo(fx.expected, 6);
  });

  it('checks its arguments', () => {
    expectError(() => estimateSpectralRadius([1, 2, 3], 2), ShapeError, 'size² = 4', 'received 3');
    expectError(() => estimateSpectralRadius([1], 0), ValueRangeError, 'size');
    expectError(() => estimateSpectralRadius([1, Number.NaN, 0, 1], 2), ValueRangeError, 'matrix[1]');
  });
});

describe('ESN', () => {
  const backend = f64();

  it('names, shapes and order of its parameters are the spec’s, and every one is frozen', () => {
    const esn = new ESN({ inputSize: 3, hiddenSize: 6, numLayers: 2, density: 1, backend, seed: 1 });
    const shapes = [...esn.namedParameters()].map(([name, p]) => [name, [...p.shape], p.requiresGrad]);
    expect(shapes).toEqual([
      ['weight_ih_l0', [6, 3], false],
      ['weight_hh_l0', [6, 6], false],
      ['bias_ih_l0', [6], false],
      ['weight_ih_l1', [6, 6], false],
      ['weight_hh_l1', [6, 6], false],
      ['bias_ih_l1', [6], false],
    ]);
    expect(Object.keys(esn.stateDict())).toEqual(shapes.map(([name]) => name));
  });

  it('scales every layer’s reservoir to the requested spectral radius (within 1%, by an independent eigenvalue routine)', async () => {
    for (const [hiddenSize, density, spectralRadius, seed] of [
      [5, 1, 0.9, 1],
      [8, 0.5, 1.2, 2],
      [10, 0.3, 0.5, 3],
    ]) {
      const esn = new ESN({ inputSize: 2, hiddenSize, numLayers: 2, density, spectralRadius, backend, seed });
      for (const layer of [0, 1]) {
        const w = await values(esn.stateDict()[`weight_hh_l${layer}`]);
        const radius = radiusByRoots(w, hiddenSize);
        expect(Math.abs(radius - spectralRadius) / spectralRadius, `H ${hiddenSize}, layer ${layer}`).toBeLessThan(0.01);
      }
    }
  });

  it('draws W_hh with the requested density, W_ih and b within their scalings, deterministically from seed', async () => {
    const options = { inputSize: 4, hiddenSize: 200, density: 0.1, inputScaling: 0.3, biasScaling: 0.05, backend };
    const esn = new ESN({ ...options, seed: 7 });
    const dict = esn.stateDict();
    const wHh = await values(dict.weight_hh_l0);
    const nonZero = wHh.filter((v) => v !== 0).length;
    // Binomial(40000, 0.1): mean 4000, standard deviation 60.
    expect(Math.abs(nonZero - 4000)).toBeLessThan(300);
    const wIh = await values(dict.weight_ih_l0);
    expect(Math.max(...wIh.map(Math.abs))).toBeLessThanOrEqual(0.3);
    expect(Math.max(...wIh.map(Math.abs))).toBeGreaterThan(0.25);
    const bias = await values(dict.bias_ih_l0);
    expect(Math.max(...bias.map(Math.abs))).toBeLessThanOrEqual(0.05);
    expect(Math.max(...bias.map(Math.abs))).toBeGreaterThan(0.04);
    expect(await values(new ESN({ ...options, seed: 7 }).stateDict().weight_hh_l0)).toEqual(wHh);
    expect(await values(new ESN({ ...options, seed: 8 }).stateDict().weight_hh_l0)).not.toEqual(wHh);
    const noBias = new ESN({ ...options, seed: 7, biasScaling: 0 });
    expect((await values(noBias.stateDict().bias_ih_l0)).every((v) => v === 0)).toBe(true);
  });

  it('computes the leaky update x_t = (1 − α) x_{t−1} + α tanh(W_ih u_t + b + W_hh x_{t−1}) (worked in plain JS)', async () => {
    const [I, H, T, alpha] = [2, 3, 4, 0.25];
    const esn = new ESN({ inputSize: I, hiddenSize: H, leakRate: alpha, density: 1, biasScaling: 0.5, backend, seed: 3 });
    const dict = esn.stateDict();
    const [wIh, wHh, b] = await Promise.all([values(dict.weight_ih_l0), values(dict.weight_hh_l0), values(dict.bias_ih_l0)]);
    const u = randomArray(5, T * I);
    const h0 = randomArray(6, H);
    const out = esn.forward(tensor(u, [T, 1, I], { backend }), { h0: tensor(h0, [1, 1, H], { backend }) });
    let x = h0;
    const expected: number[] = [];
    for (let t = 0; t < T; t++) {
      x = x.map((xi, i) => {
        let s = b[i];
        for (let j = 0; j < I; j++) s += wIh[i * I + j] * u[t * I + j];
        for (let j = 0; j < H; j++) s += wHh[i * H + j] * x[j];
        return (1 - alpha) * xi + alpha * Math.tanh(s);
      });
      expected.push(...x);
    }
    const actual = await values(out.output);
    for (const [i, e] of expected.entries()) expect(actual[i]).toBeCloseTo(e, 12);
    expect(await values(out.hN)).toEqual(actual.slice(-H));
  });

  it('passes gradients to its input while its own parameters get none, and an optimizer leaves them unchanged', async () => {
    const esn = new ESN({ inputSize: 2, hiddenSize: 4, density: 1, backend, seed: 4 });
    const before = await values(esn.stateDict().weight_hh_l0);
    const x = tensor(randomArray(9, 6), [3, 1, 2], { backend, requiresGrad: true });
    sum(esn.forward(x).output).backward();
    expect(x.grad).not.toBeNull();
    expect((await values(x.grad as never)).some((g) => g !== 0)).toBe(true);
    for (const p of esn.parameters()) expect(p.grad).toBeNull();
    new SGD(esn.parameters(), { lr: 1 }).step();
    expect(await values(esn.stateDict().weight_hh_l0)).toEqual(before);
  });

  it('ESNCell runs in a user-built RecurrentLayer (a bidirectional reservoir)', () => {
    const layer = new RecurrentLayer({
      inputSize: 2,
      hiddenSize: 5,
      bidirectional: true,
      backend,
      seed: 1,
      cell: (args) => new ESNCell({ ...args, density: 1, leakRate: 0.5 }),
    });
    const out = noGrad(() => layer.forward(tensor(randomArray(2, 12), [3, 2, 2], { backend })));
    expect(out.output.shape).toEqual([3, 2, 10]);
    expect([...layer.namedParameters()].map(([n]) => n)).toContain('weight_hh_l0_reverse');
  });

  it('rejects options outside the model, with the nearest name suggested, and values out of range', () => {
    const base = { inputSize: 1, hiddenSize: 4, density: 1, backend };
    expectError(() => new ESN({ ...base, leak_rate: 0.5 } as never), OptionsError, "unknown option 'leak_rate'", "did you mean 'leakRate'");
    expectError(() => new ESN({ ...base, bidirectional: true } as never), OptionsError, "unknown option 'bidirectional'");
    expectError(() => new ESN({ ...base, dropout: 0.1 } as never), OptionsError, "unknown option 'dropout'");
    expectError(() => new ESN({ ...base, leakRate: 0 }), ValueRangeError, 'leakRate', '(0, 1]');
    expectError(() => new ESN({ ...base, leakRate: 1.5 }), ValueRangeError, 'leakRate');
    expectError(() => new ESN({ ...base, density: 0 }), ValueRangeError, 'density');
    expectError(() => new ESN({ ...base, spectralRadius: -1 }), ValueRangeError, 'spectralRadius');
    expectError(() => new ESN({ ...base, inputScaling: 0 }), ValueRangeError, 'inputScaling');
    expectError(() => new ESN({ ...base, biasScaling: -0.1 }), ValueRangeError, 'biasScaling');
    expectError(() => new ESN({ ...base, spectralRadius: '0.9' } as never), OptionsError, 'spectralRadius');
  });

  it('refuses a reservoir too sparse to scale (nilpotent, spectral radius 0), naming density', () => {
    expectError(() => new ESN({ inputSize: 1, hiddenSize: 4, density: 1e-9, backend }), ValueRangeError, 'nilpotent', 'density');
  });
});
