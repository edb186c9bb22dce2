/**
 * `blocking.read`: the JS thread waits for the worker to reach the read, then copies. The
 * deferred-failure case needs a memory limit and runs in a child process
 * (out-of-memory.test.ts, scenario lstm-infer-blocking).
 */
import { Adam, BackendDestroyedError, crossEntropy, Linear, LSTM, tensor } from '@recur/core';
import { afterAll, expect, it } from 'vitest';
import { createNativeBackend } from '../src/index.js';
import { describeNative, nativeOf } from './helpers.js';

describeNative('blocking reads', () => {
  const b = createNativeBackend({ threads: 2 });
  afterAll(() => b.destroy());
  const blocking = () => {
    if (!b.blocking) throw new Error('the native backend must offer blocking reads');
    return b.blocking;
  };

  it('returns the values of a buffer, as a Float32Array copy', () => {
    const x = b.upload([1, -2, 3]);
    const y = b.unary('scale', x, 2);
    const values = blocking().read(y);
    expect(values).toBeInstanceOf(Float32Array);
    expect(Array.from(values)).toEqual([2, -4, 6]);
    expect(blocking().read(b.upload([])).length).toBe(0);
    for (const buffer of [x, y]) b.dispose(buffer);
  });

  it('waits for the queued work before it, however long, and sees none after it', () => {
    const n = 512;
    const a = b.upload(Float32Array.from({ length: n * n }, (_, i) => (i % 5) - 2));
    const id = b.upload(Float32Array.from({ length: n * n }, (_, i) => (i % (n + 1) === 0 ? 1 : 0)));
    // About 2.7 G multiply-adds: the worker is busy for a while after these calls return.
    let c = b.gemm(a, id, { m: n, n, k: n });
    for (let i = 0; i < 20; i++) {
      const next = b.gemm(c, id, { m: n, n, k: n });
      b.dispose(c);
      c = next;
    }
    b.unary('scale', c, 3, undefined, c);
    const started = performance.now();
    const values = blocking().read(c);
    const waited = performance.now() - started;
    b.unary('scale', c, 0, undefined, c);
    expect(values[0]).toBe(-6);
    expect(values[n * n - 1]).toBe((((n * n - 1) % 5) - 2) * 3);
    expect(values.every((v, i) => v === ((i % 5) - 2) * 3)).toBe(true);
    // It did wait: 21 products of 512³ take milliseconds on any machine.
    expect(waited).toBeGreaterThan(1);
    expect(blocking().read(c)[0]).toBe(-0);
    for (const buffer of [a, id, c]) b.dispose(buffer);
  });

  it('itemSync of a training loss equals what item() resolves with, step after step', async () => {
    const lstm = new LSTM({ inputSize: 3, hiddenSize: 8, backend: b, seed: 1 });
    const head = new Linear({ inFeatures: 8, outFeatures: 4, backend: b, seed: 2 });
    const optimizer = new Adam([...lstm.parameters(), ...head.parameters()], { lr: 0.01 });
    const x = tensor(
      Float32Array.from({ length: 5 * 2 * 3 }, (_, i) => Math.sin(i)),
      [5, 2, 3],
      { backend: b },
    );
    const targets = Int32Array.from({ length: 10 }, (_, i) => i % 4);
    const losses: number[] = [];
    for (let step = 0; step < 5; step++) {
      const loss = crossEntropy(head.forward(lstm.forward(x).output), targets);
      loss.backward();
      optimizer.step();
      optimizer.zeroGrad();
      const now = loss.itemSync();
      expect(now).toBe(await loss.item());
      losses.push(now);
    }
    expect(losses[4]).toBeLessThan(losses[0]);
  });

  it('after destroy: BackendDestroyedError, from the checked wrapper and from the addon itself', () => {
    const other = createNativeBackend({ threads: 1 });
    const x = other.upload([1, 2]);
    const engine = (nativeOf(other) as unknown as { engine: { readBlocking(handle: object): Float32Array } }).engine;
    const handle = (x as unknown as { handle: object }).handle;
    other.destroy();
    expect(() => other.blocking?.read(x)).toThrow(BackendDestroyedError);
    expect(() => engine.readBlocking(handle)).toThrow(BackendDestroyedError);
  });
});
