/**
 * `sample`: draws per row from softmax(logits / temperature), truncated by topK / topP. Expected
 * frequencies are the closed-form probabilities; 30,000 seeded draws put each frequency within
 * ±0.015 of it (more than 3 standard deviations, √(0.25 / 30000) ≈ 0.003 each).
 */
import { NonFiniteError, OptionsError, Random, sample, tensor, ValueRangeError } from '@recur/core';
import { describe, expect, it } from 'vitest';
import { expectRejection, f64 } from './helpers.js';

const backend = f64();
const DRAWS = 30000;

/** Frequencies of each class over DRAWS rows of the same logits. */
async function frequencies(probabilities: number[], options: Parameters<typeof sample>[1]): Promise<number[]> {
  const logits = Array.from({ length: DRAWS }, () => probabilities.map(Math.log)).flat();
  const drawn = await sample(tensor(logits, [DRAWS, probabilities.length], { backend }), options);
  const counts = probabilities.map(() => 0);
  for (const id of drawn.data) counts[id]++;
  return counts.map((c) => c / DRAWS);
}

function expectNear(actual: number[], expected: number[]): void {
  actual.forEach((f, i) => {
    expect(Math.abs(f - expected[i]), `class ${i}: ${f} vs ${expected[i]}`).toBeLessThan(0.015);
  });
}

describe('sample', () => {
  it('draws with the softmax probabilities, one id per row, in the leading shape', async () => {
    expectNear(await frequencies([0.5, 0.3, 0.2], { random: new Random(1) }), [0.5, 0.3, 0.2]);
    const drawn = await sample(tensor(new Float64Array(2 * 3 * 4), [2, 3, 4], { backend }), { random: new Random(2) });
    expect(drawn.shape).toEqual([2, 3]);
    expect(drawn.dtype).toBe('int32');
  });

  it('temperature divides the logits: 2 draws ∝ √p, 0 takes the arg-max of each row', async () => {
    const roots = [0.5, 0.3, 0.2].map(Math.sqrt);
    const total = roots.reduce((a, b) => a + b);
    expectNear(
      await frequencies([0.5, 0.3, 0.2], { temperature: 2, random: new Random(3) }),
      roots.map((r) => r / total),
    );
    const greedy = await sample(tensor([0.1, 3, -1, 5, 0, 4.9], [2, 3], { backend }), { temperature: 0 });
    expect(Array.from(greedy.data)).toEqual([1, 0]);
  });

  it('topK keeps the K most likely classes, renormalised', async () => {
    expectNear(await frequencies([0.5, 0.3, 0.2], { topK: 2, random: new Random(4) }), [0.625, 0.375, 0]);
    expectNear(await frequencies([0.2, 0.5, 0.3], { topK: 1, random: new Random(5) }), [0, 1, 0]);
  });

  it('topP keeps the smallest most likely set reaching that mass (nucleus), renormalised', async () => {
    // 0.5 < 0.7 ≤ 0.5 + 0.3: classes 0 and 1.
    expectNear(await frequencies([0.5, 0.3, 0.2], { topP: 0.7, random: new Random(6) }), [0.625, 0.375, 0]);
    expectNear(await frequencies([0.5, 0.3, 0.2], { topP: 0.5, random: new Random(7) }), [1, 0, 0]);
  });

  it('is reproducible from the generator', async () => {
    const logits = tensor(
      Array.from({ length: 40 }, (_, i) => Math.sin(i)),
      [10, 4],
      { backend },
    );
    const a = await sample(logits, { random: new Random(9) });
    const b = await sample(logits, { random: new Random(9) });
    expect(Array.from(a.data)).toEqual(Array.from(b.data));
  });

  it('refuses non-finite logits and bad options with typed errors', async () => {
    await expectRejection(() => sample(tensor([0, Number.NaN], [1, 2], { backend })), NonFiniteError, 'row 0', 'NaN');
    const logits = tensor([0, 1], [1, 2], { backend });
    await expectRejection(() => sample(logits, { topK: 0 }), ValueRangeError, 'topK');
    await expectRejection(() => sample(logits, { topP: 1.5 }), ValueRangeError, 'topP');
    await expectRejection(() => sample(logits, { temprature: 1 } as never), OptionsError, "did you mean 'temperature'?");
  });
});
