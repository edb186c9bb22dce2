import {
  accuracy,
  clipGradNorm,
  clipGradValue,
  crossEntropy,
  NonFiniteError,
  Parameter,
  perplexity,
  Random,
  type Tensor,
  tensor,
  ValueRangeError,
  zeros,
} from '@recur/core';
import { describe, expect, it } from 'vitest';
import { expectClose, expectError, expectRejection, f64, values } from './helpers.js';

const backend = f64();

function withGrad(grad: number[]): Parameter {
  const p = new Parameter(backend, new Array(grad.length).fill(0), [grad.length]);
  p.grad = tensor(grad, [grad.length], { backend });
  return p;
}

describe('clipGradNorm', () => {
  it('grads [3, 4]: returns the norm 5 and leaves them alone when maxNorm ≥ 5', async () => {
    const p = withGrad([3, 4]);
    expect(await clipGradNorm([p], 10)).toBe(5);
    expect(await values(p.grad as Tensor)).toEqual([3, 4]);
  });

  it('maxNorm 1 scales by 1/(5 + 1e-6)', async () => {
    const p = withGrad([3, 4]);
    expect(await clipGradNorm([p], 1)).toBe(5);
    const coef = 1 / (5 + 1e-6);
    expectClose(await values(p.grad as Tensor), [3 * coef, 4 * coef], 1e-15);
  });

  it('the norm is over all parameters together; parameters without a gradient are skipped', async () => {
    const a = withGrad([3]);
    const b = withGrad([0, 4]);
    const none = new Parameter(backend, [1, 2], [2]);
    expect(await clipGradNorm([a, none, b], 2.5)).toBe(5);
    const coef = 2.5 / (5 + 1e-6);
    expectClose(await values(a.grad as Tensor), [3 * coef], 1e-15);
    expectClose(await values(b.grad as Tensor), [0, 4 * coef], 1e-15);
    expect(none.grad).toBeNull();
    expect(await clipGradNorm([none], 1)).toBe(0);
  });

  it('errorIfNonfinite: a NaN or infinite grad throws NonFiniteError and changes nothing', async () => {
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY]) {
      const a = withGrad([3, 4]);
      const b = withGrad([1, bad]);
      await expectRejection(() => clipGradNorm([a, b], 1, { errorIfNonfinite: true }), NonFiniteError, 'clipGradNorm', String(bad));
      expect(await values(a.grad as Tensor)).toEqual([3, 4]);
      expect(await values(b.grad as Tensor)).toEqual([1, bad]);
    }
  });

  it('rejects a negative or non-finite maxNorm', async () => {
    await expectRejection(() => clipGradNorm([withGrad([1])], -1), ValueRangeError, 'maxNorm', '-1');
    await expectRejection(() => clipGradNorm([withGrad([1])], Number.NaN), ValueRangeError, 'maxNorm');
  });
});

describe('clipGradValue', () => {
  it('clamps every element to [−v, v]', async () => {
    const a = withGrad([-3, 0.5, 2]);
    const b = withGrad([-0.25, 7]);
    clipGradValue([a, b], 1);
    expect(await values(a.grad as Tensor)).toEqual([-1, 0.5, 1]);
    expect(await values(b.grad as Tensor)).toEqual([-0.25, 1]);
    expectError(() => clipGradValue([a], -1), ValueRangeError, 'clipValue', '-1');
  });
});

describe('metrics', () => {
  it('perplexity of uniform logits over V classes is V', async () => {
    for (const V of [2, 5, 50]) {
      const loss = await crossEntropy(
        zeros([3, 4, V], { backend }),
        new Array(12).fill(0).map((_, i) => i % V),
      ).item();
      expectClose([loss], [Math.log(V)], 1e-14);
      expectClose([perplexity(loss)], [V], 1e-13);
    }
    expect(perplexity(0)).toBe(1);
    expectError(() => perplexity(Number.NaN), ValueRangeError, 'NaN');
  });

  it('accuracy on a hand-made case with ignoreIndex and mask; ties go to the lowest class', async () => {
    const logits = tensor(
      [
        [0.1, 0.9, 0.0], // arg-max 1
        [2.0, 1.0, 3.0], // 2
        [5.0, 5.0, 1.0], // tie 0/1 → 0
        [0.0, 0.0, 0.5], // 2
        [1.0, 0.0, 0.0], // 0
      ].flat(),
      [5, 3],
      { backend },
    );
    // Correct: rows 0, 2, 4; wrong: rows 1, 3.
    expect(await accuracy(logits, [1, 0, 0, 1, 0])).toBeCloseTo(3 / 5, 15);
    // Ignore row 1 and row 3 (the wrong ones): 3 / 3.
    expect(await accuracy(logits, [1, -1, 0, -1, 0], { ignoreIndex: -1 })).toBe(1);
    // Default ignoreIndex -100; row 2 ignored: 2 / 4.
    expect(await accuracy(logits, [1, 0, -100, 1, 0])).toBe(0.5);
    // The mask drops rows 0 and 4: 1 correct of 3.
    expect(await accuracy(logits, [1, 0, 0, 1, 0], { mask: [0, 1, 1, 1, 0] })).toBeCloseTo(1 / 3, 15);
    // Row 2 predicts 0, not 1, under the tie rule.
    expect(await accuracy(logits, [1, 2, 1, 2, 0])).toBeCloseTo(4 / 5, 15);
    await expectRejection(() => accuracy(logits, [-100, -100, -100, -100, -100]), ValueRangeError, 'ignored');
  });
});

describe('Random.shuffle', () => {
  it('returns a permutation of a copy, reproducibly, and reaches every order of three items', () => {
    const items = ['a', 'b', 'c'];
    const random = new Random(11);
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const shuffled = random.shuffle(items);
      expect([...shuffled].sort()).toEqual(items);
      seen.add(shuffled.join(''));
    }
    expect(items).toEqual(['a', 'b', 'c']);
    expect(seen.size).toBe(6);
    expect(new Random(3).shuffle([1, 2, 3, 4, 5])).toEqual(new Random(3).shuffle([1, 2, 3, 4, 5]));
  });
});
