import { Adam, clipGradNorm, crossEntropy, Linear, LSTM, Random, tensor, tidy } from '@recur/core';
import { expect, it } from 'vitest';
import { createNativeBackend, nativeMallocInUse } from '../src/index.js';
import { describeNative, sequenceKernels } from './helpers.js';

describeNative('the execution queue', () => {
  it('keeps a buffer disposed from JS alive until the queued work that uses it has run', async () => {
    const b = createNativeBackend();
    const n = 512;
    const a = b.upload(Float32Array.from({ length: n * n }, (_, i) => (i % 7) - 3));
    const id = b.upload(Float32Array.from({ length: n * n }, (_, i) => (i % (n + 1) === 0 ? 1 : 0)));
    // Queue a lot of work, then dispose the inputs while it is (very likely) still pending.
    let c = b.gemm(a, id, { m: n, n, k: n });
    for (let i = 0; i < 20; i++) {
      const next = b.gemm(c, id, { m: n, n, k: n });
      b.dispose(c);
      c = next;
    }
    b.dispose(a);
    b.dispose(id);
    if (globalThis.gc) globalThis.gc();
    const out = await b.read(c);
    expect(out[0]).toBe(-3);
    expect(out[n * n - 1]).toBe(((n * n - 1) % 7) - 3);
    b.destroy();
  });

  it('read sees the buffer as of its place in the queue, not later in-place updates', async () => {
    const b = createNativeBackend();
    const x = b.upload([1, 2, 3]);
    const before = b.read(x);
    b.unary('scale', x, 10, undefined, x);
    const after = b.read(x);
    expect(Array.from(await before)).toEqual([1, 2, 3]);
    expect(Array.from(await after)).toEqual([10, 20, 30]);
    b.destroy();
  });

  it('destroy runs what is queued and settles pending Promises', async () => {
    const b = createNativeBackend();
    const x = b.upload([4]);
    const pending = b.read(b.unary('sqrt', x));
    b.destroy();
    expect(Array.from(await pending)).toEqual([2]);
    expect(() => b.upload([1])).toThrow(/destroyed/);
  });

  it('the event loop stays responsive while a long sequenceForward runs', async () => {
    const b = createNativeBackend();
    const [T, B, I, H] = [200, 32, 128, 512];
    const random = new Random(1);
    const data = (n: number, s = 0.05) => Float32Array.from({ length: n }, () => random.uniform(-s, s));
    const args = {
      kind: 'lstm' as const,
      steps: T,
      batch: B,
      inputSize: I,
      hidden: H,
      x: b.upload(data(T * B * I, 1)),
      wIh: b.upload(data(4 * H * I)),
      wHh: b.upload(data(4 * H * H)),
      bIh: b.upload(data(4 * H)),
      bHh: b.upload(data(4 * H)),
      h0: b.fill(B * H, 0),
    };
    await b.sync();
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    const started = performance.now();
    const result = sequenceKernels(b).forward(args);
    const enqueueMs = performance.now() - started;
    const out = await b.read(result.hN);
    const totalMs = performance.now() - started;
    clearInterval(timer);
    expect(enqueueMs).toBeLessThan(20); // sequenceForward returned at once
    expect(totalMs).toBeGreaterThan(100); // the work itself took a while…
    expect(ticks).toBeGreaterThanOrEqual(Math.floor(totalMs / 5 / 4)); // …and timers kept firing meanwhile
    expect(out.every(Number.isFinite)).toBe(true);
    b.destroy();
  });

  it('memory stays flat over 2,000 small training steps (LSTM + Linear + crossEntropy + Adam in tidy)', async () => {
    const backend = createNativeBackend();
    const [T, B, V, H] = [8, 4, 11, 16];
    const lstm = new LSTM({ inputSize: V, hiddenSize: H, backend, seed: 1 } as never);
    const head = new Linear({ inFeatures: H, outFeatures: V, backend, seed: 2 } as never);
    const params = [...lstm.parameters(), ...head.parameters()];
    const optimizer = new Adam(params, { lr: 1e-3 });
    const random = new Random(3);
    const x = tensor(
      Float32Array.from({ length: T * B * V }, () => random.uniform(-1, 1)),
      [T, B, V],
      { backend },
    );
    const targets = Int32Array.from({ length: T * B }, (_, i) => i % V);
    const step = async () => {
      const loss = tidy(() => {
        const { output } = lstm.forward(x);
        const logits = head.forward(output.reshape([T * B, H]));
        const l = crossEntropy(logits, targets);
        l.backward();
        return l;
      });
      await clipGradNorm(params, 1.0);
      optimizer.step();
      optimizer.zeroGrad();
      const value = (await loss.toArray())[0];
      loss.dispose();
      return value;
    };
    for (let i = 0; i < 300; i++) await step();
    // V8 grows its young generation under a high allocation rate (heapTotal rises by tens of
    // MB, and RSS with it): that is JS heap sizing, not a leak. What must stay flat is memory
    // outside the JS heap (RSS − heapTotal) and the C heap itself (malloc in use).
    const outsideHeap = () => {
      if (globalThis.gc) globalThis.gc();
      const m = process.memoryUsage();
      return m.rss - m.heapTotal;
    };
    const rssBefore = outsideHeap();
    const mallocBefore = nativeMallocInUse();
    let last = 0;
    for (let i = 0; i < 2000; i++) last = await step();
    const rssGrowthMb = (outsideHeap() - rssBefore) / 2 ** 20;
    const mallocGrowthMb = (nativeMallocInUse() - mallocBefore) / 2 ** 20;
    expect(Number.isFinite(last)).toBe(true);
    expect(rssGrowthMb).toBeLessThan(12);
    if (mallocBefore >= 0) expect(mallocGrowthMb).toBeLessThan(2);
    backend.destroy();
  });
});
