import type { UnaryOp } from '@recur/core/backend';
import { describe, expect, it } from 'vitest';
import { createJsBackend } from '../src/index.js';
import { f64, values } from './helpers.js';

describe('gemm', () => {
  // A = [[1, 2, 3], [4, 5, 6]], B = [[7, 8], [9, 10], [11, 12]]; A·B = [[58, 64], [139, 154]].
  const a = [1, 2, 3, 4, 5, 6];
  const aT = [1, 4, 2, 5, 3, 6]; // A stored [k, m]
  const b = [7, 8, 9, 10, 11, 12];
  const bT = [7, 9, 11, 8, 10, 12]; // B stored [n, k]
  const product = [58, 64, 139, 154];

  it.each([
    [false, false, a, b],
    [true, false, aT, b],
    [false, true, a, bT],
    [true, true, aT, bT],
  ])('transA=%s transB=%s gives A·B', async (transA, transB, aData, bData) => {
    const c = f64.gemm(f64.upload(aData), f64.upload(bData), { m: 2, n: 2, k: 3, transA, transB });
    expect(await values(c)).toEqual(product);
  });

  it('keeps m, n and k apart on a non-square case', async () => {
    // [1, 2] · [[1, 2, 3], [4, 5, 6]] = [9, 12, 15]
    const opts = { m: 1, n: 3, k: 2 };
    expect(await values(f64.gemm(f64.upload([1, 2]), f64.upload([1, 2, 3, 4, 5, 6]), opts))).toEqual([9, 12, 15]);
    const viaTransB = f64.gemm(f64.upload([1, 2]), f64.upload([1, 4, 2, 5, 3, 6]), { ...opts, transB: true });
    expect(await values(viaTransB)).toEqual([9, 12, 15]);
  });

  it('accumulates alpha·A·B + beta·out into out, and ignores beta without out', async () => {
    const out = f64.upload([1, 2, 3, 4]);
    const result = f64.gemm(f64.upload(a), f64.upload(b), { m: 2, n: 2, k: 3, alpha: 2, beta: 0.5 }, out);
    expect(result).toBe(out);
    expect(await values(out)).toEqual([116.5, 129, 279.5, 310]);
    const fresh = f64.gemm(f64.upload(a), f64.upload(b), { m: 2, n: 2, k: 3, alpha: -1, beta: 3 });
    expect(await values(fresh)).toEqual([-58, -64, -139, -154]);
  });

  it('with beta = 0 overwrites out without reading it (NaN does not leak)', async () => {
    const out = f64.fill(4, Number.NaN);
    f64.gemm(f64.upload(a), f64.upload(b), { m: 2, n: 2, k: 3 }, out);
    expect(await values(out)).toEqual(product);
  });
});

describe('unary', () => {
  const x = [-2, -0.5, 0, 0.5, 2];
  const cases: [UnaryOp, number[], number?, number?][] = [
    ['copy', x],
    ['neg', [2, 0.5, -0, -0.5, -2]],
    ['tanh', x.map(Math.tanh)],
    ['exp', x.map(Math.exp)],
    ['sigmoid', [0.11920292202211755, 0.3775406687981454, 0.5, 0.6224593312018546, 0.8807970779778823]],
    ['relu', [0, 0, 0, 0.5, 2]],
    ['step', [0, 0, 0, 1, 1]],
    ['square', [4, 0.25, 0, 0.25, 4]],
    ['abs', [2, 0.5, 0, 0.5, 2]],
    ['scale', [-6, -1.5, 0, 1.5, 6], 3],
    ['clamp', [-1, -0.5, 0, 0.5, 1], -1, 1],
  ];
  it.each(cases)('%s', async (op, expected, param, param2) => {
    const out = await values(f64.unary(op, f64.upload(x), param, param2));
    for (let i = 0; i < x.length; i++) expect(out[i]).toBeCloseTo(expected[i], 15);
  });

  it('log, sqrt and reciprocal', async () => {
    expect(await values(f64.unary('log', f64.upload([1, Math.E])))).toEqual([0, 1]);
    expect(await values(f64.unary('sqrt', f64.upload([4, 2.25])))).toEqual([2, 1.5]);
    expect(await values(f64.unary('reciprocal', f64.upload([4, -0.5])))).toEqual([0.25, -2]);
  });

  it('sigmoid is finite and saturates for large |x| in both dtypes', async () => {
    for (const backend of [f64, createJsBackend()]) {
      const out = await values(backend.unary('sigmoid', backend.upload([-1000, -800, 800, 1000])), backend);
      expect(out).toEqual([0, 0, 1, 1]);
    }
  });

  it('writes into out, which may be x itself', async () => {
    const xb = f64.upload([1, -2]);
    expect(f64.unary('scale', xb, 3, undefined, xb)).toBe(xb);
    expect(await values(xb)).toEqual([3, -6]);
    const other = f64.fill(2, 0);
    f64.unary('neg', xb, undefined, undefined, other);
    expect(await values(other)).toEqual([-3, 6]);
  });
});

describe('binary', () => {
  const a = f64.upload([1, 2, 3, 4, 5, 6]); // [2, 3]
  it('broadcasts a row vector with stride 0', async () => {
    const row = f64.upload([10, 20, 30]);
    expect(await values(f64.binary('add', a, [3, 1], row, [0, 1], [2, 3]))).toEqual([11, 22, 33, 14, 25, 36]);
  });
  it('broadcasts a column vector with stride 0', async () => {
    const col = f64.upload([100, 200]);
    expect(await values(f64.binary('mul', a, [3, 1], col, [1, 0], [2, 3]))).toEqual([100, 200, 300, 800, 1000, 1200]);
  });
  it('reads through arbitrary strides (a transposed view)', async () => {
    // a as a [3, 2] matrix read transposed: [[1, 3, 5], [2, 4, 6]]; minus the scalar 1.
    const one = f64.upload([1]);
    expect(await values(f64.binary('sub', a, [1, 2], one, [0, 0], [2, 3]))).toEqual([0, 2, 4, 1, 3, 5]);
  });
  it('handles rank 0 and div', async () => {
    expect(await values(f64.binary('div', f64.upload([3]), [], f64.upload([4]), [], []))).toEqual([0.75]);
  });
});

describe('sumTo and sumOfSquares', () => {
  const x = f64.upload([1, 2, 3, 4, 5, 6]); // [2, 3]
  it.each([
    [
      [1, 3],
      [5, 7, 9],
    ],
    [
      [2, 1],
      [6, 15],
    ],
    [[1, 1], [21]],
    [
      [2, 3],
      [1, 2, 3, 4, 5, 6],
    ],
  ])('[2, 3] → %j', async (outShape, expected) => {
    expect(await values(f64.sumTo(x, [2, 3], outShape))).toEqual(expected);
  });
  it('reduces a middle axis of a rank-3 array, and a rank-0 one', async () => {
    const y = f64.upload([1, 2, 3, 4, 5, 6, 7, 8]); // [2, 2, 2]
    expect(await values(f64.sumTo(y, [2, 2, 2], [2, 1, 2]))).toEqual([4, 6, 12, 14]);
    expect(await values(f64.sumTo(f64.upload([5]), [], []))).toEqual([5]);
  });
  it('sumOfSquares over several buffers', async () => {
    const out = f64.sumOfSquares([f64.upload([1, 2]), f64.upload([3]), f64.upload([])]);
    expect(out.length).toBe(1);
    expect(await values(out)).toEqual([14]);
  });
});
