import {
  abs,
  add,
  clipGradNorm,
  clipGradValue,
  concat,
  crossEntropy,
  div,
  exp,
  gatherRows,
  isGradEnabled,
  linear,
  log,
  matmul,
  mean,
  mse,
  mul,
  neg,
  noGrad,
  Parameter,
  permute,
  RecurError,
  reciprocal,
  relu,
  reshape,
  ShapeError,
  scale,
  sigmoid,
  slice,
  sqrt,
  square,
  stack,
  sub,
  sum,
  type Tensor,
  tanh,
  tensor,
  transpose,
  unstack,
} from '@recur/core';
import { backward } from '@recur/core/backend';
import { describe, expect, it } from 'vitest';
import { expectClose, expectError, f64, gradCheck, randomArray, sizeOf, values } from './helpers.js';

const backend = f64();
const input = (seed: number, shape: number[], lo = -1, hi = 1) => ({ data: randomArray(seed, sizeOf(shape), lo, hi), shape });
/** Values in ±[0.2, 1.2], never near 0 (for relu, abs and reciprocal, whose derivatives jump or blow up at 0). */
const awayFromZero = (seed: number, shape: number[]) => ({
  data: randomArray(seed, sizeOf(shape), 0.2, 1.2).map((v, i) => (i % 2 ? -v : v)),
  shape,
});

describe('element-wise binary ops with broadcasting', () => {
  for (const [name, op] of [
    ['add', add],
    ['sub', sub],
    ['mul', mul],
    ['div', div],
  ] as const) {
    it(`${name}: [2, 3] with [3]`, async () => {
      const b = name === 'div' ? awayFromZero(2, [3]) : input(2, [3]);
      await gradCheck(backend, (x, y) => op(x, y), [input(1, [2, 3]), b]);
    });
    it(`${name}: [2, 3] with [2, 1]`, async () => {
      const b = name === 'div' ? awayFromZero(4, [2, 1]) : input(4, [2, 1]);
      await gradCheck(backend, (x, y) => op(x, y), [input(3, [2, 3]), b]);
    });
    it(`${name}: [2, 1] with [3] (both broadcast) and [3] with [2, 3] (left operand broadcast)`, async () => {
      await gradCheck(backend, (x, y) => op(x, y), [input(5, [2, 1]), awayFromZero(6, [3])]);
      await gradCheck(backend, (x, y) => op(x, y), [input(7, [3]), awayFromZero(8, [2, 3])]);
    });
  }

  it('forward values of broadcast ops, by hand', async () => {
    const a = tensor([1, 2, 3, 4, 5, 6], [2, 3], { backend });
    const row = tensor([10, 20, 30], [3], { backend });
    const col = tensor([100, 200], [2, 1], { backend });
    expect(await values(add(a, row))).toEqual([11, 22, 33, 14, 25, 36]);
    expect(await values(sub(a, col))).toEqual([-99, -98, -97, -196, -195, -194]);
    expect(await values(mul(a, row))).toEqual([10, 40, 90, 40, 100, 180]);
    expect(await values(div(row, a))).toEqual([10, 10, 10, 2.5, 4, 5]);
    expect(add(a, col).shape).toEqual([2, 3]);
    expect(add(col, row).shape).toEqual([2, 3]);
  });

  it('numbers as operands on either side', async () => {
    const a = tensor([1, 2, 4], [3], { backend });
    expect(await values(add(a, 2))).toEqual([3, 4, 6]);
    expect(await values(sub(3, a))).toEqual([2, 1, -1]);
    expect(await values(mul(-1.5, a))).toEqual([-1.5, -3, -6]);
    expect(await values(div(2, a))).toEqual([2, 1, 0.5]);
    expect(await values(div(a, 4))).toEqual([0.25, 0.5, 1]);
    await gradCheck(backend, (x) => add(x, 2), [input(9, [2, 3])]);
    await gradCheck(backend, (x) => sub(3, x), [input(10, [2, 3])]);
    await gradCheck(backend, (x) => mul(x, -1.5), [input(11, [2, 3])]);
    await gradCheck(backend, (x) => mul(0.5, x), [input(11, [2, 3])]);
    await gradCheck(backend, (x) => div(2, x), [awayFromZero(12, [2, 3])]);
    await gradCheck(backend, (x) => div(x, 4), [input(13, [2, 3])]);
  });
});

describe('element-wise unary ops', () => {
  const cases: [string, (x: Tensor) => Tensor, ReturnType<typeof input>, (v: number) => number][] = [
    ['exp', exp, input(20, [2, 3]), Math.exp],
    ['log', log, input(21, [2, 3], 0.3, 2), Math.log],
    ['tanh', tanh, input(22, [2, 3], -2, 2), Math.tanh],
    ['sigmoid', sigmoid, input(23, [2, 3], -3, 3), (v) => 1 / (1 + Math.exp(-v))],
    ['relu', relu, awayFromZero(24, [2, 3]), (v) => Math.max(0, v)],
    ['sqrt', sqrt, input(25, [2, 3], 0.3, 2), Math.sqrt],
    ['square', square, input(26, [2, 3]), (v) => v * v],
    ['abs', abs, awayFromZero(27, [2, 3]), Math.abs],
    ['reciprocal', reciprocal, awayFromZero(28, [2, 3]), (v) => 1 / v],
    ['scale', (x) => scale(x, -2.5), input(29, [2, 3]), (v) => -2.5 * v],
    ['neg', neg, input(30, [2, 3]), (v) => -v],
  ];
  for (const [name, op, x, reference] of cases) {
    it(`${name}: values and gradient`, async () => {
      const y = op(tensor(x.data, x.shape, { backend }));
      expectClose(await values(y), Array.from(x.data, reference), 1e-14, 1e-15, name);
      await gradCheck(backend, op, [x]);
    });
  }
});

describe('reductions', () => {
  const x = input(40, [2, 3, 4]);
  const axesCases: (number | number[] | undefined)[] = [undefined, 0, 1, 2, -1, [0, 2], [1, 2], [0, 1, 2]];
  for (const axes of axesCases) {
    for (const keepDims of [false, true]) {
      it(`sum/mean over ${JSON.stringify(axes)} keepDims ${keepDims}`, async () => {
        await gradCheck(backend, (t) => sum(t, axes, { keepDims }), [x]);
        await gradCheck(backend, (t) => mean(t, axes, { keepDims }), [x]);
      });
    }
  }

  it('shapes and values, by hand', async () => {
    const t = tensor([1, 2, 3, 4, 5, 6], [2, 3], { backend });
    expect(sum(t).shape).toEqual([]);
    expect(await values(sum(t))).toEqual([21]);
    expect(sum(t, 0).shape).toEqual([3]);
    expect(await values(sum(t, 0))).toEqual([5, 7, 9]);
    expect(sum(t, 1, { keepDims: true }).shape).toEqual([2, 1]);
    expect(await values(sum(t, 1, { keepDims: true }))).toEqual([6, 15]);
    expect(await values(mean(t, -1))).toEqual([2, 5]);
    expect(mean(t, [0, 1], { keepDims: true }).shape).toEqual([1, 1]);
    expect(await values(mean(t))).toEqual([3.5]);
  });
});

describe('shape ops', () => {
  it('reshape (with an inferred dimension)', async () => {
    await gradCheck(backend, (t) => mul(reshape(t, [3, -1]), reshape(t, [3, 4])), [input(50, [2, 6])]);
    await gradCheck(backend, (t) => reshape(t, [4, 3]), [input(51, [2, 6])]);
  });

  it('permute and transpose', async () => {
    const t = tensor([0, 1, 2, 3, 4, 5], [1, 2, 3], { backend });
    const p = permute(t, [2, 0, 1]);
    expect(p.shape).toEqual([3, 1, 2]);
    // p[k, 0, j] = t[0, j, k]
    expect(await values(p)).toEqual([0, 3, 1, 4, 2, 5]);
    expect(transpose(tensor([1, 2, 3, 4, 5, 6], [2, 3], { backend })).shape).toEqual([3, 2]);
    expect(await values(transpose(tensor([1, 2, 3, 4, 5, 6], [2, 3], { backend })))).toEqual([1, 4, 2, 5, 3, 6]);
    await gradCheck(backend, (a) => permute(a, [2, 0, 1]), [input(52, [2, 3, 4])]);
    await gradCheck(backend, (a) => permute(a, [1, 2, 0]), [input(53, [2, 3, 4])]);
    await gradCheck(backend, (a) => transpose(a), [input(54, [2, 3, 4])]);
    await gradCheck(backend, (a) => transpose(a, 0, 2), [input(55, [2, 3, 4])]);
  });

  it('concat along axes 0, 1 and -1', async () => {
    const c = concat([tensor([1, 2], [1, 2], { backend }), tensor([3, 4, 5, 6], [2, 2], { backend })], 0);
    expect(c.shape).toEqual([3, 2]);
    expect(await values(c)).toEqual([1, 2, 3, 4, 5, 6]);
    const d = concat([tensor([1, 2], [2, 1], { backend }), tensor([3, 4, 5, 6], [2, 2], { backend })], 1);
    expect(await values(d)).toEqual([1, 3, 4, 2, 5, 6]);
    await gradCheck(backend, (a, b, e) => concat([a, b, e], 0), [input(56, [1, 3]), input(57, [2, 3]), input(58, [3, 3])]);
    await gradCheck(backend, (a, b, e) => concat([a, b, e], 1), [input(59, [2, 1, 2]), input(60, [2, 3, 2]), input(61, [2, 2, 2])]);
    await gradCheck(backend, (a, b) => concat([a, b], -1), [input(62, [2, 3]), input(63, [2, 2])]);
    // Only some inputs need a gradient.
    await gradCheck(backend, (a, b) => concat([a, b], 0), [input(64, [1, 3]), input(65, [2, 3])], { wrt: [1] });
  });

  it('slice', async () => {
    const s = slice(tensor([0, 1, 2, 3, 4, 5, 6, 7], [2, 4], { backend }), 1, 1, 2);
    expect(s.shape).toEqual([2, 2]);
    expect(await values(s)).toEqual([1, 2, 5, 6]);
    await gradCheck(backend, (a) => slice(a, 1, 1, 2), [input(66, [2, 4, 3])]);
    await gradCheck(backend, (a) => slice(a, 0, 0, 1), [input(67, [2, 4, 3])]);
    await gradCheck(backend, (a) => slice(a, -1, 2, 1), [input(68, [2, 4, 3])]);
    await gradCheck(backend, (a) => add(slice(a, 0, 0, 2), slice(a, 0, 1, 2)), [input(69, [3, 2])]);
  });

  it('stack', async () => {
    const s = stack([tensor([1, 2], [2], { backend }), tensor([3, 4], [2], { backend })]);
    expect(s.shape).toEqual([2, 2]);
    expect(await values(s)).toEqual([1, 2, 3, 4]);
    await gradCheck(backend, (a, b, c) => stack([a, b, c]), [input(70, [2, 3]), input(71, [2, 3]), input(72, [2, 3])]);
    await gradCheck(backend, (a, b) => stack([a, b, a]), [input(73, [2]), input(74, [2])]);
  });

  it('unstack (including slices that receive no gradient)', async () => {
    const parts = unstack(tensor([1, 2, 3, 4, 5, 6], [3, 2], { backend }));
    expect(parts.map((p) => p.shape)).toEqual([[2], [2], [2]]);
    expect(await values(parts[1])).toEqual([3, 4]);
    await gradCheck(backend, (a) => stack(unstack(a).reverse()), [input(75, [4, 2, 3])]);
    await gradCheck(
      backend,
      (a) => {
        const p = unstack(a);
        return add(mul(p[0], p[2]), p[0]);
      },
      [input(76, [4, 3])],
    );
  });

  it('gatherRows (repeated and missing rows)', async () => {
    const index = Int32Array.from([2, 0, 2, 2]);
    const g = gatherRows(tensor([0, 1, 10, 11, 20, 21], [3, 2], { backend }), index);
    expect(g.shape).toEqual([4, 2]);
    expect(await values(g)).toEqual([20, 21, 0, 1, 20, 21, 20, 21]);
    await gradCheck(backend, (a) => gatherRows(a, index), [input(77, [3, 2])]);
    await gradCheck(backend, (a) => gatherRows(a, Int32Array.from([1, 1, 0])), [input(78, [3, 2, 2])]);
  });

  it('gatherRows into a given shape (no reshape), and a shape of the wrong size', async () => {
    const x = tensor([0, 1, 10, 11, 20, 21], [3, 2], { backend });
    const g = gatherRows(x, Int32Array.from([2, 0]), [1, 2, 2]);
    expect(g.shape).toEqual([1, 2, 2]);
    expect(await values(g)).toEqual([20, 21, 0, 1]);
    await gradCheck(backend, (a) => gatherRows(a, Int32Array.from([1, 1, 0]), [3, 1, 4]), [input(79, [3, 2, 2])]);
    expectError(() => gatherRows(x, Int32Array.from([0]), [3]), ShapeError, 'gatherRows', '[3]', '2 elements');
  });
});

describe('matrix products', () => {
  it('matmul values, by hand', async () => {
    const a = tensor([1, 2, 3, 4, 5, 6], [2, 3], { backend });
    const b = tensor([1, 0, 0, 1, 1, 1], [3, 2], { backend });
    expect(await values(matmul(a, b))).toEqual([4, 5, 10, 11]);
  });

  it('matmul gradients, 2-D and batched left operand', async () => {
    await gradCheck(backend, matmul, [input(80, [2, 3]), input(81, [3, 4])]);
    await gradCheck(backend, matmul, [input(82, [2, 3, 4]), input(83, [4, 5])]);
    await gradCheck(backend, matmul, [input(84, [3]), input(85, [3, 2])]);
  });

  it('linear values, by hand', async () => {
    const x = tensor([1, 2, 3, 4], [2, 2], { backend });
    const w = tensor([1, 0, 1, 1, 0, 2], [3, 2], { backend });
    const b = tensor([0.5, -1, 2], [3], { backend });
    expect(await values(linear(x, w))).toEqual([1, 3, 4, 3, 7, 8]);
    expect(await values(linear(x, w, b))).toEqual([1.5, 2, 6, 3.5, 6, 10]);
  });

  it('linear gradients with and without bias', async () => {
    await gradCheck(backend, (x, w, b) => linear(x, w, b), [input(86, [2, 3, 4]), input(87, [5, 4]), input(88, [5])]);
    await gradCheck(backend, (x, w) => linear(x, w), [input(89, [3, 4]), input(90, [2, 4])]);
    await gradCheck(backend, (x, w) => linear(x, w, null), [input(91, [4]), input(92, [2, 4])]);
  });
});

describe('losses', () => {
  /** −log softmax(row)_y, in plain JS. */
  const nll = (row: number[], y: number) => {
    const m = Math.max(...row);
    const lse = m + Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0));
    return lse - row[y];
  };

  it('crossEntropy value, by hand, with ignoreIndex and mask', async () => {
    const data = randomArray(100, 12, -2, 2);
    const rows = [0, 1, 2, 3].map((r) => data.slice(r * 3, r * 3 + 3));
    const logits = tensor(data, [2, 2, 3], { backend });
    const targets = [2, 0, 1, 1];
    const all = rows.reduce((s, row, r) => s + nll(row, targets[r]), 0) / 4;
    expectClose([await crossEntropy(logits, targets).item()], [all], 1e-13);
    const ignored = (nll(rows[0], 2) + nll(rows[2], 1)) / 2;
    expectClose([await crossEntropy(logits, [2, -1, 1, -1], { ignoreIndex: -1 }).item()], [ignored], 1e-13);
    expectClose([await crossEntropy(logits, [2, 0, 1, 1], { mask: [1, 0, true, false] }).item()], [ignored], 1e-13);
    // The default ignoreIndex is -100, as in PyTorch.
    expectClose([await crossEntropy(logits, [2, -100, 1, -100]).item()], [ignored], 1e-13);
  });

  it('crossEntropy gradients', async () => {
    const logits = input(101, [2, 3, 4], -2, 2);
    await gradCheck(backend, (o) => crossEntropy(o, [0, 3, 2, 1, 1, 0]), [logits]);
    await gradCheck(backend, (o) => crossEntropy(o, [0, 7, 2, 7, 1, 0], { ignoreIndex: 7 }), [logits]);
    await gradCheck(backend, (o) => crossEntropy(o, [0, 3, 2, 1, 1, 0], { mask: [1, 1, 0, 1, 0, 0] }), [logits]);
    // Gradient wrt logits is (softmax − onehot)/count: ignored rows get exactly zero.
    const o = tensor(logits.data, logits.shape, { backend, requiresGrad: true });
    crossEntropy(o, [0, 3, 2, 1, 1, 0], { mask: [1, 1, 0, 1, 0, 0] }).backward();
    const g = await values(o.grad as Tensor);
    for (const row of [2, 4, 5]) expect(g.slice(row * 4, row * 4 + 4)).toEqual([0, 0, 0, 0]);
  });

  it('crossEntropy composed with other ops', async () => {
    await gradCheck(backend, (x, w) => crossEntropy(tanh(linear(x, w)), [1, 0, 2]), [input(102, [3, 4]), input(103, [3, 4])]);
  });

  it('mse value and gradients', async () => {
    const a = tensor([1, 2, 3, 4], [2, 2], { backend });
    const b = tensor([0, 2, 5, 1], [2, 2], { backend });
    expect(await mse(a, b).item()).toBe((1 + 0 + 4 + 9) / 4);
    await gradCheck(backend, mse, [input(104, [2, 3]), input(105, [2, 3])]);
  });
});

describe('graph bookkeeping', () => {
  it('a tensor used twice accumulates: x·x and x + x', async () => {
    const x = tensor([1, -2, 3], [3], { backend, requiresGrad: true });
    sum(mul(x, x)).backward();
    expect(await values(x.grad as Tensor)).toEqual([2, -4, 6]);
    const y = tensor([1, -2, 3], [3], { backend, requiresGrad: true });
    sum(add(y, y)).backward();
    expect(await values(y.grad as Tensor)).toEqual([2, 2, 2]);
    await gradCheck(backend, (t) => mul(t, t), [input(110, [2, 3])]);
    await gradCheck(backend, (t) => add(t, t), [input(111, [2, 3])]);
  });

  it('a diamond: z = e·e + e with e = exp(x)', async () => {
    const x = tensor([0.5, -1], [2], { backend, requiresGrad: true });
    const e = exp(x);
    sum(add(mul(e, e), e)).backward();
    // dz/dx = (2e + 1)·e
    expectClose(
      await values(x.grad as Tensor),
      [0.5, -1].map((v) => (2 * Math.exp(v) + 1) * Math.exp(v)),
      1e-14,
    );
    await gradCheck(
      backend,
      (t) => {
        const u = tanh(t);
        return add(mul(u, sigmoid(u)), mul(u, 3));
      },
      [input(112, [2, 3])],
    );
  });

  it('.grad accumulates across two backward() calls', async () => {
    const x = tensor([1, 2, 3], [3], { backend, requiresGrad: true });
    const w = tensor([4, 5, 6], [3], { backend });
    sum(mul(x, w)).backward();
    expect(await values(x.grad as Tensor)).toEqual([4, 5, 6]);
    sum(mul(x, w)).backward();
    expect(await values(x.grad as Tensor)).toEqual([8, 10, 12]);
    x.zeroGrad();
    expect(x.grad).toBeNull();
    sum(square(x)).backward();
    expect(await values(x.grad as Tensor)).toEqual([2, 4, 6]);
  });

  it('inputs created with requiresGrad get .grad; others do not', async () => {
    const x = tensor([1, 2], [2], { backend, requiresGrad: true });
    const c = tensor([3, 4], [2], { backend });
    expect(x.requiresGrad).toBe(true);
    expect(x.isLeaf).toBe(true);
    sum(mul(x, c)).backward();
    expect(await values(x.grad as Tensor)).toEqual([3, 4]);
    expect(c.grad).toBeNull();
  });

  it('a leaf root gets the seed as its gradient', async () => {
    const x = tensor([2], [], { backend, requiresGrad: true });
    x.backward();
    expect(await values(x.grad as Tensor)).toEqual([1]);
  });

  it('noGrad records nothing', () => {
    const x = tensor([1, 2], [2], { backend, requiresGrad: true });
    expect(isGradEnabled()).toBe(true);
    const y = noGrad(() => {
      expect(isGradEnabled()).toBe(false);
      return sum(mul(exp(x), x));
    });
    expect(isGradEnabled()).toBe(true);
    expect(y.gradFn).toBeNull();
    expect(y.requiresGrad).toBe(false);
    expectError(() => y.backward(), RecurError, 'does not require a gradient');
    expect(x.grad).toBeNull();
    // Recording resumes after noGrad, even when fn throws.
    expect(() =>
      noGrad(() => {
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(isGradEnabled()).toBe(true);
    expect(mul(x, x).gradFn).not.toBeNull();
  });

  it('gradients reaching two leaves through views do not share storage (clipping scales each once)', async () => {
    const a = new Parameter(backend, [1, 2], [2]);
    const c = new Parameter(backend, [3, 4], [2]);
    sum(mul(add(reshape(a, [2, 1]), reshape(c, [2, 1])), tensor([3, 4], [2, 1], { backend }))).backward();
    expect(await values(a.grad as Tensor)).toEqual([3, 4]);
    expect(await values(c.grad as Tensor)).toEqual([3, 4]);
    const total = await clipGradNorm([a, c], 1);
    expectClose([total], [Math.sqrt(50)], 1e-15);
    const coef = 1 / (Math.sqrt(50) + 1e-6);
    expectClose(await values(a.grad as Tensor), [3 * coef, 4 * coef], 1e-14);
    expectClose(await values(c.grad as Tensor), [3 * coef, 4 * coef], 1e-14);
  });

  it('a leaf gradient does not alias the seed passed to backward', async () => {
    const x = new Parameter(backend, [1, 2], [2]);
    const seed = tensor([5, 6], [2, 1], { backend });
    backward(reshape(x, [2, 1]), seed);
    clipGradValue([x], 1);
    expect(await values(x.grad as Tensor)).toEqual([1, 1]);
    expect(await values(seed)).toEqual([5, 6]);
    // A leaf root gets a copy of the seed too.
    const y = new Parameter(backend, [1, 2], [2]);
    const seed2 = tensor([7, 8], [2], { backend });
    backward(y, seed2);
    clipGradValue([y], 1);
    expect(await values(seed2)).toEqual([7, 8]);
  });

  it('backward on a non-scalar needs a seed gradient of its shape', async () => {
    const x = tensor([1, 2, 3, 4, 5, 6], [2, 3], { backend, requiresGrad: true });
    const y = mul(x, x);
    expectError(() => y.backward(), ShapeError, 'backward()', '[2, 3]');
    expectError(() => backward(y, tensor([1, 2, 3], [3], { backend })), ShapeError, '[2, 3]', '[3]');
    backward(y, tensor([1, 0, 2, 0, 1, -1], [2, 3], { backend }));
    expect(await values(x.grad as Tensor)).toEqual([2, 0, 12, 0, 10, -12]);
  });
});
