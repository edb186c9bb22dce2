import { OutOfMemoryError, Random } from '@recur/core';
import { describe, expect, it } from 'vitest';
import { DEFAULTS } from '../src/args.js';
import { addingTask, copyTask } from '../src/tasks.js';
import { learningRate, train } from '../src/train.js';

describe('tasks', () => {
  it('adding: two markers, one per half, and the target is their sum', () => {
    const [T, B] = [9, 5];
    const batch = addingTask.sample(new Random(3), B, T);
    for (let b = 0; b < B; b++) {
      const marked = [];
      for (let t = 0; t < T; t++) if (batch.x[(t * B + b) * 2 + 1] === 1) marked.push(t);
      expect(marked).toHaveLength(2);
      expect(marked[0]).toBeLessThan(4);
      expect(marked[1]).toBeGreaterThanOrEqual(4);
      const sum = marked.reduce((s, t) => s + batch.x[(t * B + b) * 2], 0);
      expect(batch.targets[b]).toBeCloseTo(sum, 6);
    }
  });

  it('copy: the target is the symbol shown at step 0, blanks follow', () => {
    const [T, B, W] = [4, 6, copyTask.inputSize];
    const batch = copyTask.sample(new Random(4), B, T);
    for (let b = 0; b < B; b++) {
      expect(batch.x[b * W + batch.targets[b]]).toBe(1);
      for (let t = 1; t < T; t++) expect(batch.x[(t * B + b) * W + W - 1]).toBe(1);
    }
  });

  it('data is reproducible from the seed', () => {
    expect(addingTask.sample(new Random(7), 4, 6)).toEqual(addingTask.sample(new Random(7), 4, 6));
  });
});

describe('train', () => {
  it('decays the learning rate along a cosine to a tenth', () => {
    expect(learningRate(0.01, 1, 100)).toBeCloseTo(0.01);
    expect(learningRate(0.01, 100, 100)).toBeCloseTo(0.001);
  });

  it('learns the copy task with a small RNN and reports a summary', async () => {
    const lines: string[] = [];
    const summary = await train(
      { ...DEFAULTS, task: 'copy', cell: 'rnn', steps: 120, hidden: 16, batch: 16, seqLen: 6, lr: 0.01, logEvery: 40 },
      (line) => lines.push(line),
    );
    expect(summary.history.map((h) => h.step)).toEqual([40, 80, 120]);
    expect(summary.accuracy).toBeGreaterThan(0.9);
    expect(summary.history[2].loss).toBeLessThan(summary.history[0].loss);
    expect(lines.join('\n')).toMatch(/final held-out accuracy: \d+\.\d%/);
  });

  it('runs every cell on the adding task', async () => {
    for (const cell of ['lstm', 'gru', 'rnn', 'ugrnn'] as const) {
      const summary = await train({ ...DEFAULTS, cell, steps: 3, hidden: 4, batch: 4, seqLen: 4, logEvery: 3 }, () => {});
      expect(summary.history).toHaveLength(1);
      expect(Number.isFinite(summary.finalLoss)).toBe(true);
    }
  });

  it('an impossible size (--hidden 100000) is a typed error naming the parameter, which main prints as one line', async () => {
    const run = train({ ...DEFAULTS, cell: 'lstm', hidden: 100000, steps: 1 }, () => {});
    await expect(run).rejects.toBeInstanceOf(OutOfMemoryError);
    await expect(run).rejects.toThrow(/weight_hh of shape \[400000, 100000\].*160 GB/);
  });
});
