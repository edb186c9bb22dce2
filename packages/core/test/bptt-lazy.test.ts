/** Truncated BPTT over a stream far longer than any array of its chunks: chunks are made lazily. */
import { type BpttChunk, bpttChunks, truncatedBptt } from '@recur/core';
import { describe, expect, it } from 'vitest';

describe('lazy BPTT chunks', () => {
  it('bpttChunks(1e9, 1) returns at once and yields its first chunks (an array would not fit in memory)', () => {
    const started = performance.now();
    const first: BpttChunk[] = [];
    for (const chunk of bpttChunks(1e9, 1)) {
      first.push(chunk);
      if (first.length === 3) break;
    }
    expect(first).toEqual([
      { index: 0, start: 0, lossStart: 0, end: 1 },
      { index: 1, start: 1, lossStart: 1, end: 2 },
      { index: 2, start: 2, lossStart: 2, end: 3 },
    ]);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('the result can be iterated more than once, each time from the start', () => {
    const chunks = bpttChunks(5, 2, 4);
    expect([...chunks]).toEqual([...chunks]);
    expect([...chunks].map((c) => [c.start, c.lossStart, c.end])).toEqual([
      [0, 0, 2],
      [0, 2, 4],
      [2, 4, 5],
    ]);
  });

  it('truncatedBptt over 1e9 steps starts at once and keeps only k2/k1 boundary states', async () => {
    const seen: BpttChunk[] = [];
    const stop = new Error('stop after four chunks');
    const started = performance.now();
    await expect(
      truncatedBptt({
        length: 1e9,
        k1: 2,
        k2: 4,
        initialState: { step: 0 },
        step: (chunk, state) => {
          // Each chunk starts from the state saved at its start step (k2 > k1: two chunks back).
          expect(state.step).toBe(chunk.start);
          seen.push(chunk);
          if (seen.length === 4) throw stop;
          return { step: chunk.end };
        },
      }),
    ).rejects.toBe(stop);
    expect(seen.map((c) => c.index)).toEqual([0, 1, 2, 3]);
    expect(performance.now() - started).toBeLessThan(1000);
  });
});
