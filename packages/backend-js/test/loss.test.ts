import { describe, expect, it } from 'vitest';
import { createJsBackend } from '../src/index.js';
import { expectClose, type FixtureTensor, f64, loadFixture, values } from './helpers.js';

interface LossCase {
  name: string;
  kind: 'crossEntropy' | 'mse';
  logits: FixtureTensor;
  targets: number[];
  ignoreIndex: number | null;
  expected: { loss: number; gradLogits: FixtureTensor };
}

const crossEntropyCases = loadFixture<LossCase>('losses.json').cases.filter((c) => c.kind === 'crossEntropy');

describe('softmaxCrossEntropy against PyTorch (losses.json)', () => {
  it('has the fixture cases', () => {
    expect(crossEntropyCases.map((c) => c.name)).toContain('ce_large_logits');
  });

  it.each(crossEntropyCases.map((c) => [c.name, c] as const))('%s', async (_, c) => {
    const [rows, classes] = c.logits.shape;
    const ignoreIndex = c.ignoreIndex ?? -100;
    const count = c.targets.filter((t) => t !== ignoreIndex).length;
    const { loss, dLogits } = f64.softmaxCrossEntropy({
      rows,
      classes,
      logits: f64.upload(c.logits.data),
      targets: Int32Array.from(c.targets),
      ignoreIndex,
      count,
    });
    expect(loss.length).toBe(1);
    expectClose(await values(loss), [c.expected.loss], 1e-12);
    expectClose(await values(dLogits), c.expected.gradLogits.data, 1e-10, 1e-15);
  });
});

describe('softmaxCrossEntropy by hand', () => {
  it('uniform logits give log(classes); ignored rows get zero gradient', async () => {
    const { loss, dLogits } = f64.softmaxCrossEntropy({
      rows: 2,
      classes: 4,
      logits: f64.upload([3, 3, 3, 3, 9, -9, 1, 2]),
      targets: Int32Array.from([1, -1]),
      ignoreIndex: -1,
      count: 1,
    });
    expect((await values(loss))[0]).toBeCloseTo(Math.log(4), 15);
    expect(await values(dLogits)).toEqual([0.25, -0.75, 0.25, 0.25, 0, 0, 0, 0]);
  });

  it('logits of ±1000 stay finite in float32 too', async () => {
    const f32 = createJsBackend();
    const { loss, dLogits } = f32.softmaxCrossEntropy({
      rows: 2,
      classes: 3,
      logits: f32.upload([1000, -1000, 0, -1000, 1000, 1000]),
      targets: Int32Array.from([1, 0]),
      ignoreIndex: -100,
      count: 2,
    });
    // Row 0: −log softmax_1 = 2000; row 1: −log softmax_0 = 2000 + log 2.
    expect((await values(loss, f32))[0]).toBeCloseTo((2000 + 2000 + Math.log(2)) / 2, 2);
    const g = await values(dLogits, f32);
    expect(g.every(Number.isFinite)).toBe(true);
    expectClose(g, [0.5, -0.5, 0, -0.5, 0.25, 0.25], 1e-6, 1e-7);
  });
});
