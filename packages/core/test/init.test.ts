/**
 * The `init` namespace: orthogonal (WᵀW = I, and Q really is the sign-corrected QR factor of the
 * Gaussian draw), identity, Xavier-uniform, uniform and zeros; each written in place with a
 * version bump; typed errors.
 */
import { AutogradError, init, OptionsError, Parameter, Random, RNN, ShapeError, tensor, ValueRangeError } from '@recur/core';
import { describe, expect, it } from 'vitest';
import { expectClose, expectError, f64, values } from './helpers.js';

const backend = f64();
const param = (shape: number[]) => new Parameter(backend, new Float64Array(shape.reduce((a, b) => a * b, 1)).fill(7), shape);

/** `AᵀA` (or `AAᵀ`) of a row-major `[rows, cols]` matrix. */
function gram(a: number[], rows: number, cols: number, of: 'columns' | 'rows'): number[] {
  const n = of === 'columns' ? cols : rows;
  const at = (i: number, j: number) => a[i * cols + j];
  const out: number[] = [];
  for (let p = 0; p < n; p++) {
    for (let q = 0; q < n; q++) {
      let s = 0;
      if (of === 'columns') for (let i = 0; i < rows; i++) s += at(i, p) * at(i, q);
      else for (let j = 0; j < cols; j++) s += at(p, j) * at(q, j);
      out.push(s);
    }
  }
  return out;
}

const eye = (n: number, scale = 1) => Array.from({ length: n * n }, (_, k) => (k % (n + 1) === 0 ? scale : 0));

describe('init.orthogonal', () => {
  it('a tall [G·H, H] weight (one matrix, as PyTorch): WᵀW = gain²·I', async () => {
    const w = param([12, 4]);
    init.orthogonal(w, 1.5, { seed: 3 });
    expectClose(gram(await values(w), 12, 4, 'columns'), eye(4, 2.25), 1e-12, 1e-12, 'WᵀW');
  });

  it('a wide [3, 5] weight: WWᵀ = I; a square one is orthogonal both ways', async () => {
    const wide = param([3, 5]);
    init.orthogonal(wide, 1, { seed: 4 });
    expectClose(gram(await values(wide), 3, 5, 'rows'), eye(3), 1e-12, 1e-12, 'WWᵀ');
    const square = param([6, 6]);
    init.orthogonal(square, 1, { seed: 5 });
    const v = await values(square);
    expectClose(gram(v, 6, 6, 'columns'), eye(6), 1e-12, 1e-12, 'WᵀW');
    expectClose(gram(v, 6, 6, 'rows'), eye(6), 1e-12, 1e-12, 'WWᵀ');
  });

  it('is the Q of A = QR for the Gaussian A it drew, with R’s diagonal positive (PyTorch’s sign correction)', async () => {
    // The same seed reproduces the draw: A [5, 3], standard normal, row-major.
    const [m, n] = [5, 3];
    const a = new Random(9).normalArray(m * n);
    const w = param([m, n]);
    init.orthogonal(w, 1, { seed: 9 });
    const q = await values(w);
    // R = QᵀA must be upper triangular with a positive diagonal, and QR must give back A.
    const r: number[][] = Array.from({ length: n }, (_, i) =>
      Array.from({ length: n }, (_, j) => {
        let s = 0;
        for (let k = 0; k < m; k++) s += q[k * n + i] * a[k * n + j];
        return s;
      }),
    );
    for (let i = 0; i < n; i++) {
      expect(r[i][i]).toBeGreaterThan(0);
      for (let j = 0; j < i; j++) expect(Math.abs(r[i][j])).toBeLessThan(1e-12);
    }
    const back = Array.from({ length: m * n }, (_, k) => {
      const [i, j] = [Math.floor(k / n), k % n];
      let s = 0;
      for (let l = 0; l < n; l++) s += q[i * n + l] * r[l][j];
      return s;
    });
    expectClose(back, Array.from(a), 1e-12, 1e-12, 'QR');
  });

  it('flattens trailing axes like PyTorch ([4, 2, 3] is read as [4, 6])', async () => {
    const w = param([4, 2, 3]);
    init.orthogonal(w, 1, { seed: 2 });
    expectClose(gram(await values(w), 4, 6, 'rows'), eye(4), 1e-12, 1e-12);
  });

  it('draws from the given generator: the same seed gives the same matrix, another seed another', async () => {
    const a = await values(init.orthogonal(param([4, 4]), 1, { random: new Random(1) }));
    const b = await values(init.orthogonal(param([4, 4]), 1, { seed: 1 }));
    const c = await values(init.orthogonal(param([4, 4]), 1, { seed: 2 }));
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
  });
});

describe('init: identity, xavierUniform, uniform, zeros', () => {
  it('identity: scale·I, ones on the main diagonal of a non-square matrix (PyTorch’s eye_)', async () => {
    expect(await values(init.identity(param([3, 3]), 0.5))).toEqual(eye(3, 0.5));
    expect(await values(init.identity(param([2, 3])))).toEqual([1, 0, 0, 0, 1, 0]);
  });

  it('xavierUniform: within ±gain·√(6/(fanIn + fanOut)), spread over the whole interval', async () => {
    const w = param([40, 60]);
    init.xavierUniform(w, 2, { seed: 3 });
    const v = await values(w);
    const bound = 2 * Math.sqrt(6 / 100);
    expect(Math.max(...v.map(Math.abs))).toBeLessThanOrEqual(bound);
    // 2400 draws: the extremes come within 1% of the bound, the variance is bound²/3 within 10%.
    expect(Math.max(...v)).toBeGreaterThan(0.99 * bound);
    expect(Math.min(...v)).toBeLessThan(-0.99 * bound);
    const variance = v.reduce((s, x) => s + x * x, 0) / v.length;
    expect(Math.abs(variance / ((bound * bound) / 3) - 1)).toBeLessThan(0.1);
    // Rank 3: fans are multiplied by the trailing size, [4, 5, 2] → fanIn 10, fanOut 8.
    const r3 = await values(init.xavierUniform(param([4, 5, 2]), 1, { seed: 1 }));
    expect(Math.max(...r3.map(Math.abs))).toBeLessThanOrEqual(Math.sqrt(6 / 18));
  });

  it('uniform and zeros', async () => {
    const u = await values(init.uniform(param([200]), -0.3, 0.1, { seed: 5 }));
    expect(u.every((x) => x >= -0.3 && x < 0.1)).toBe(true);
    expect(Math.min(...u)).toBeLessThan(-0.29);
    expect(await values(init.zeros(param([2, 2])))).toEqual([0, 0, 0, 0]);
  });

  it('IRNN: a ReLU Elman layer with W_hh = I and zero biases carries its state unchanged when the input is zero', async () => {
    const irnn = new RNN({ inputSize: 2, hiddenSize: 3, nonlinearity: 'relu', backend, seed: 1 });
    const p = Object.fromEntries(irnn.namedParameters());
    init.identity(p.weight_hh_l0);
    init.zeros(p.bias_ih_l0);
    init.zeros(p.bias_hh_l0);
    const h0 = tensor([0.2, 0.5, 0.9], [1, 1, 3], { backend });
    const { hN } = irnn.forward(tensor(new Float64Array(5 * 2), [5, 1, 2], { backend }), { h0 });
    expect(await values(hN)).toEqual([0.2, 0.5, 0.9]);
  });

  it('writes in place with a version bump: a graph that recorded the old values refuses backward', () => {
    const w = param([2, 2]);
    const loss = tensor([1, 2], [1, 2], { backend }).matmul(w).sum();
    init.orthogonal(w, 1, { seed: 1 });
    expectError(() => loss.backward(), AutogradError, 'modified in place');
  });

  it('typed errors name the argument', () => {
    expectError(() => init.orthogonal(param([4]), 1), ShapeError, 'init.orthogonal: param must have at least 2 dimensions', 'received [4]');
    expectError(() => init.xavierUniform(param([4])), ShapeError, 'init.xavierUniform');
    expectError(() => init.identity(param([2, 2, 2])), ShapeError, 'init.identity: param must be 2-D');
    expectError(() => init.zeros(tensor([1], [1], { backend }) as never), OptionsError, 'init.zeros: param must be a Parameter');
    expectError(() => init.uniform(param([2]), 1, 0), ValueRangeError, 'init.uniform: low must be ≤ high');
    expectError(() => init.uniform(param([2]), '0' as never, 1), OptionsError, 'init.uniform: low must be a number');
    expectError(
      () => init.orthogonal(param([2, 2]), Number.POSITIVE_INFINITY),
      ValueRangeError,
      'init.orthogonal: gain must be a finite number',
    );
    expectError(() => init.orthogonal(param([2, 2]), 1, { sead: 1 } as never), OptionsError, "did you mean 'seed'");
  });
});
