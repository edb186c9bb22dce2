import { createJsBackend } from '@recur/backend-js';
import {
  BackendMismatchError,
  BackendUnavailableError,
  createBackend,
  DisposedTensorError,
  listBackends,
  ShapeError,
  ValueRangeError,
} from '@recur/core';
import { afterAll, expect, it } from 'vitest';
import { createNativeBackend, NativeBackend } from '../src/index.js';
import { describeNative } from './helpers.js';

describeNative('argument validation: typed errors, never a crash', () => {
  const b = createNativeBackend({ threads: 2 });
  afterAll(() => b.destroy());

  it('registers as native with a higher priority than js', async () => {
    expect(listBackends().indexOf('native')).toBeLessThan(listBackends().indexOf('js'));
    const auto = await createBackend('auto');
    expect(auto).toBeInstanceOf(NativeBackend);
    auto.destroy();
    expect(b.supports('fusedSequence')).toBe(true);
    expect(b.supports('fusedStack')).toBe(true);
    expect(b.supports('float64')).toBe(false);
    expect(b.description).toMatch(/native C\+\+.*2 threads/);
    // Under `pnpm test:sanitize` the instrumented build must be the one loaded.
    if (process.env.RECUR_EXPECT_SANITIZED === '1') expect(b.description).toMatch(/ASan\+UBSan/);
  });

  it('refuses float64 and bad thread counts', () => {
    expect(() => createNativeBackend({ dtype: 'float64' })).toThrow(BackendUnavailableError);
    expect(() => createNativeBackend({ threads: 0 })).toThrow(ValueRangeError);
    expect(() => createNativeBackend({ threads: 1.5 })).toThrow(ValueRangeError);
  });

  it('rejects buffers of other backends and of other native instances', () => {
    const js = createJsBackend();
    const foreign = js.upload([1, 2, 3, 4]);
    const mine = b.upload([1, 2, 3, 4]);
    expect(() => b.gemm(foreign, mine, { m: 2, n: 2, k: 2 })).toThrow(BackendMismatchError);
    expect(() => b.unary('exp', { length: 4 } as never)).toThrow(BackendMismatchError);
    const other = createNativeBackend();
    const theirs = other.upload([1, 2, 3, 4]);
    expect(() => b.gemm(theirs, mine, { m: 2, n: 2, k: 2 })).toThrow(BackendMismatchError);
    other.destroy();
  });

  it('rejects disposed buffers, in compute calls and in read', async () => {
    const x = b.upload([1, 2, 3]);
    b.dispose(x);
    b.dispose(x); // idempotent
    expect(() => b.unary('exp', x)).toThrow(DisposedTensorError);
    await expect(b.read(x)).rejects.toThrow(DisposedTensorError);
  });

  it('checks lengths against shapes', () => {
    const a = b.upload(new Float32Array(6));
    const c = b.upload(new Float32Array(5));
    expect(() => b.gemm(a, c, { m: 2, n: 2, k: 3 })).toThrow(ShapeError);
    expect(() => b.gemm(a, a, { m: 2, n: 2, k: 3 }, c)).toThrow(ShapeError);
    expect(() => b.sumTo(a, [2, 3], [2, 2])).toThrow(ShapeError);
    expect(() => b.permute(a, [2, 3], [0, 0])).toThrow(ValueRangeError);
    expect(() => b.slice(a, [2, 3], 1, 2, 2)).toThrow(ValueRangeError);
    expect(() =>
      b.concat(
        [a, c],
        [
          [2, 3],
          [1, 5],
        ],
        0,
      ),
    ).toThrow(ShapeError);
    expect(() => b.binary('add', a, [3, 1], c, [3, 1], [2, 3])).toThrow(ShapeError);
    expect(() => b.binary('pow' as never, a, [3, 1], a, [3, 1], [2, 3])).toThrow(ValueRangeError);
    expect(() => b.unary('cube' as never, a)).toThrow(ValueRangeError);
    expect(() => b.cellForward('lstm', { batch: 1, hidden: 2, gx: a, gh: a, h: c })).toThrow(ShapeError);
    expect(() => b.cellForward('mgu' as never, { batch: 1, hidden: 2, gx: a, gh: a, h: c })).toThrow(ValueRangeError);
  });

  it('checks sizes and index ranges', () => {
    const x = b.upload(new Float32Array(6));
    expect(() => b.fill(-1, 0)).toThrow(ValueRangeError);
    expect(() => b.fill(2.5, 0)).toThrow(ValueRangeError);
    expect(() => b.gemm(x, x, { m: Number.NaN, n: 2, k: 3 })).toThrow(ValueRangeError);
    expect(() => b.gatherRows(x, 3, Int32Array.from([0, 2]))).toThrow(ValueRangeError);
    expect(() => b.gatherRows(x, 4, Int32Array.from([0]))).toThrow(ShapeError);
    expect(() => b.scatterAddRows(x, 3, Int32Array.from([0, -1]), 2)).toThrow(ValueRangeError);
    expect(() =>
      b.softmaxCrossEntropy({ rows: 2, classes: 3, logits: x, targets: Int32Array.from([0, 3]), ignoreIndex: -100, count: 2 }),
    ).toThrow(ValueRangeError);
    expect(() =>
      b.softmaxCrossEntropy({ rows: 2, classes: 3, logits: x, targets: Int32Array.from([0]), ignoreIndex: -100, count: 1 }),
    ).toThrow(ShapeError);
    const seq = {
      kind: 'tanh' as const,
      steps: 2,
      batch: 1,
      inputSize: 3,
      hidden: 1,
      x,
      wIh: b.upload(new Float32Array(3)),
      wHh: b.upload(new Float32Array(1)),
      h0: b.upload(new Float32Array(1)),
    };
    expect(() => b.sequenceForward({ ...seq, lengths: Int32Array.from([3]) })).toThrow(ValueRangeError);
    expect(() => b.sequenceForward({ ...seq, lengths: Int32Array.from([1, 1]) })).toThrow(ShapeError);
    expect(() => b.sequenceForward({ ...seq, inputSize: 2 })).toThrow(ShapeError);
    expect(() =>
      b.optimizerStep(
        { kind: 'adam', lr: 0.1, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, decoupled: false, amsgrad: false, step: 1 },
        x,
        x,
        [x],
      ),
    ).toThrow(ShapeError);
    expect(() => b.optimizerStep({ kind: 'lbfgs' } as never, x, x, [x])).toThrow(ValueRangeError);
  });

  it('the addon itself rejects bad calls with an Error instead of crashing', () => {
    // Bypass the TypeScript layer: the C++ checks are the second line of defence.
    const engine = (b as unknown as { engine: Record<string, (...args: unknown[]) => unknown> }).engine;
    const x = b.upload(new Float32Array(4));
    const handle = (x as unknown as { handle: object }).handle;
    expect(() => engine.gemm({}, handle, null, 2, 2, 2, false, false, 1, 0)).toThrow(/not a buffer/);
    expect(() => engine.gemm(handle, handle, null, 3, 3, 3, false, false, 1, 0)).toThrow(/elements/);
    expect(() => engine.gatherRows(handle, 2, Int32Array.from([5]))).toThrow(/out of range/);
    expect(() => engine.unary(99, handle, null, 0, 0)).toThrow(Error);
    expect(() => engine.sequenceForward(2, 1e12, 1, 1, 1, handle, handle, handle, null, null, handle, null, null)).toThrow(Error);
  });

  it('still computes after all those errors', async () => {
    const x = b.upload([1, 2, 3]);
    expect(Array.from(await b.read(b.unary('scale', x, 2)))).toEqual([2, 4, 6]);
  });
});
