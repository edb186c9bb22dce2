/** The benchmark's text: tinyshakespeare from ../shared/data when present, else seeded random tokens. */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const DATA = join(REPO_ROOT, '..', 'shared', 'data', 'tinyshakespeare.txt');

export interface Corpus {
  tokens: Int32Array;
  vocab: number;
  source: string;
}

export function loadCorpus(): Corpus {
  if (existsSync(DATA)) {
    const text = readFileSync(DATA, 'utf8');
    const chars = [...new Set(text)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const index = new Map(chars.map((c, i) => [c, i]));
    return { tokens: Int32Array.from(text, (c) => index.get(c) as number), vocab: chars.length, source: DATA };
  }
  console.error(`note: ${DATA} not found; using 200,000 random tokens over a vocabulary of 65 instead`);
  let seed = 12345;
  const tokens = Int32Array.from({ length: 200_000 }, () => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return seed % 65;
  });
  return { tokens, vocab: 65, source: 'synthetic' };
}

/** A batch of random windows, time-major: inputs and next-character targets, each [T·B]. */
export function sampleBatch(corpus: Corpus, T: number, B: number, random: () => number) {
  const inputs = new Int32Array(T * B);
  const targets = new Int32Array(T * B);
  for (let b = 0; b < B; b++) {
    const start = Math.floor(random() * (corpus.tokens.length - T - 1));
    for (let t = 0; t < T; t++) {
      inputs[t * B + b] = corpus.tokens[start + t];
      targets[t * B + b] = corpus.tokens[start + t + 1];
    }
  }
  return { inputs, targets };
}

/** A small seeded generator, so every backend trains on the same batches. */
export function lcg(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}
