/**
 * Each example on tiny data, on every backend available here (the default backend set to it),
 * checking that it learns: data with structure a small model picks up in a few dozen steps,
 * in the layout of the real files (examples/README.md).
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Backend, createBackend, listBackends, Random, setDefaultBackend } from '@recur/core';
import '@recur/backend-webgpu';
import { afterAll, describe, expect, it } from 'vitest';
import { main as charLm } from '../src/char-lm.js';
import { main as classify } from '../src/classify.js';
import { main as forecast } from '../src/forecast.js';

const folder = mkdtempSync(join(tmpdir(), 'recur-examples-'));

/** A text with strong regularities: a character model's loss falls fast. */
function textFile(): string {
  const path = join(folder, 'text.txt');
  writeFileSync(path, 'the quick brown fox jumps over the lazy dog. '.repeat(40));
  return path;
}

/** A noisy daily cycle in the layout of daily-min-temperatures.csv. */
function seriesFile(): string {
  const random = new Random(1);
  const rows = Array.from(
    { length: 600 },
    (_, t) => `"day ${t}",${(12 + 6 * Math.sin((2 * Math.PI * t) / 25) + random.normal() * 0.3).toFixed(2)}`,
  );
  const path = join(folder, 'series.csv');
  writeFileSync(path, `"Date","Temp"\n${rows.join('\n')}\n`);
  return path;
}

/** Variable-length sequences in the indoor-movement layout; the label is the sign of the first signal's mean. */
function sequencesFolder(): string {
  const random = new Random(2);
  const root = join(folder, 'movement');
  mkdirSync(join(root, 'dataset'), { recursive: true });
  mkdirSync(join(root, 'groups'), { recursive: true });
  const targets = ['#sequence_ID, class_label'];
  const groups = ['#sequence_ID, dataset_ID'];
  for (let id = 1; id <= 60; id++) {
    const label = id % 2 === 0 ? 1 : -1;
    const length = 6 + random.int(10);
    const rows = Array.from({ length }, () =>
      [0.5 * label + random.normal() * 0.3, random.uniform(-1, 1), random.uniform(-1, 1), random.uniform(-1, 1)]
        .map((v) => v.toFixed(4))
        .join(','),
    );
    writeFileSync(
      join(root, 'dataset', `MovementAAL_RSS_${id}.csv`),
      `#RSS_anchor1, RSS_anchor2, RSS_anchor3, RSS_anchor4\n${rows.join('\n')}\n`,
    );
    targets.push(`${id},${label}`);
    groups.push(`${id},${id <= 40 ? 1 + (id % 2) : 3}`);
  }
  writeFileSync(join(root, 'dataset', 'MovementAAL_target.csv'), `${targets.join('\n')}\n`);
  writeFileSync(join(root, 'groups', 'MovementAAL_DatasetGroup.csv'), `${groups.join('\n')}\n`);
  return root;
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

for (const name of listBackends()) {
  describe(`examples on ${name}`, () => {
    let backend: Backend | null = null;
    let reason = '';
    const run = async (test: () => Promise<void>, context: { skip: (note: string) => void }) => {
      if (!backend && !reason) {
        try {
          backend = await createBackend(name);
        } catch (error) {
          reason = (error as Error).message;
        }
      }
      if (!backend) return context.skip(`${name} is not available here: ${reason}`);
      setDefaultBackend(backend);
      await test();
    };
    afterAll(() => (backend as Backend | null)?.destroy());

    it('char-lm: the loss falls and 200 characters are sampled from the vocabulary', (context) =>
      run(async () => {
        const { losses, sample } = await charLm({ data: textFile(), steps: 100, hidden: 32, batch: 8, seqLen: 16 });
        expect(mean(losses.slice(-10))).toBeLessThan(0.6 * mean(losses.slice(0, 5)));
        expect(sample).toHaveLength(201);
        expect(new Set(sample).size).toBeGreaterThan(3);
        for (const c of sample) expect('the quick brown fox jumps over the lazy dog. ').toContain(c);
      }, context));

    it('forecast: the held-out RMSE beats yesterday-as-forecast', (context) =>
      run(async () => {
        const { rmse, naive } = await forecast({ data: seriesFile(), steps: 300, W: 10, batch: 32 });
        expect(rmse).toBeLessThan(naive);
      }, context));

    it('classify: the held-out group is classified far above chance', (context) =>
      run(async () => {
        const { accuracy } = await classify({ data: sequencesFolder(), epochs: 15, hidden: 8, batch: 8 });
        expect(accuracy).toBeGreaterThanOrEqual(0.85);
      }, context));
  });
}
