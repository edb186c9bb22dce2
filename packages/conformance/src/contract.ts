/**
 * The contract group: the Backend interface's errors-and-lifecycle rules
 * (`@recur/core/backend`, interface.ts), run on every backend. Each misuse must give the same
 * typed error on every backend (ownership, liveness, lengths, ranges, the allocation guard,
 * calls after `destroy`), and the semantics a caller relies on must hold (`read` returns a
 * snapshot, in-place `out`, NaN in an unread `out`, zero-length buffers, call order, the live
 * count of `memory()`, and `blocking.read` where a backend offers it).
 */
import {
  type Backend,
  BackendDestroyedError,
  BackendMismatchError,
  DisposedTensorError,
  getAllocationLimit,
  memory,
  OutOfMemoryError,
  RecurError,
  ShapeError,
  setAllocationLimit,
  ValueRangeError,
} from '@recur/core';
import type { BackendBuffer, OptimizerUpdate } from '@recur/core/backend';
import type { SuiteCase, SuiteContext } from './suite-types.js';

type ErrorClass = new (...args: never[]) => Error;

/** Runs `fn` expecting `type` thrown synchronously, or as a rejection when `fn` returns a Promise. */
async function expectTyped(what: string, type: ErrorClass, fn: () => unknown): Promise<void> {
  let error: unknown;
  try {
    await fn();
  } catch (caught) {
    error = caught;
  }
  if (!(error instanceof type) || !(error instanceof RecurError)) {
    const got = error === undefined ? 'no error' : `${(error as Error)?.name}: ${(error as Error)?.message}`;
    throw new Error(`${what}: expected ${type.name}, got ${got}`);
  }
}

function check(condition: boolean, what: string): void {
  if (!condition) throw new Error(what);
}

async function values(b: Backend, buffer: BackendBuffer): Promise<number[]> {
  return Array.from(await b.read(buffer));
}

const SGD: OptimizerUpdate = { kind: 'sgd', lr: 0.1, momentum: 0, dampening: 0, nesterov: false, weightDecay: 0, firstStep: true };

function contractCase(name: string, run: (subject: Backend, reference: Backend, context: SuiteContext) => Promise<void>): SuiteCase {
  return { group: 'contract', name, run };
}

export function contractCases(): SuiteCase[] {
  return [
    contractCase('misuse: a buffer of another backend instance is BackendMismatchError, for every use', async (s, r) => {
      const foreign = r.upload([1, 2, 3, 4]);
      const own = s.upload([1, 2, 3, 4]);
      await expectTyped('read', BackendMismatchError, () => s.read(foreign));
      await expectTyped('dispose', BackendMismatchError, () => s.dispose(foreign));
      await expectTyped('unary', BackendMismatchError, () => s.unary('neg', foreign));
      await expectTyped('gemm', BackendMismatchError, () => s.gemm(own, foreign, { m: 2, n: 2, k: 2 }));
      await expectTyped('plain object', BackendMismatchError, () => s.unary('neg', { length: 4 }));
      r.dispose(foreign);
      s.dispose(own);
    }),
    contractCase('misuse: a disposed buffer is DisposedTensorError; dispose itself is idempotent', async (s) => {
      const x = s.upload([1, 2]);
      s.dispose(x);
      s.dispose(x);
      await expectTyped('read', DisposedTensorError, () => s.read(x));
      await expectTyped('unary', DisposedTensorError, () => s.unary('exp', x));
      await expectTyped('concat', DisposedTensorError, () => s.concat([x], [[2]], 0));
    }),
    contractCase('misuse: lengths that do not match the sizes are ShapeError', async (s) => {
      const six = s.upload([1, 2, 3, 4, 5, 6]);
      const four = s.upload([1, 2, 3, 4]);
      await expectTyped('gemm a', ShapeError, () => s.gemm(four, six, { m: 2, n: 3, k: 3 }));
      await expectTyped('gemm out aliasing a', ShapeError, () => s.gemm(four, four, { m: 2, n: 2, k: 2 }, four));
      await expectTyped('binary strides', ShapeError, () => s.binary('add', four, [2, 1], six, [3, 1], [2, 3]));
      await expectTyped('sumTo', ShapeError, () => s.sumTo(six, [2, 3], [3]));
      await expectTyped('concat', ShapeError, () =>
        s.concat(
          [six, four],
          [
            [2, 3],
            [2, 2, 1],
          ],
          0,
        ),
      );
      await expectTyped('permute', ShapeError, () => s.permute(four, [2, 3], [1, 0]));
      await expectTyped('cellForward gx', ShapeError, () =>
        s.cellForward('lstm', { batch: 1, hidden: 1, gx: six, gh: four, h: s.fill(1, 0) }),
      );
      await expectTyped('upload null', ShapeError, () => s.upload(null as unknown as number[]));
      for (const b of [six, four]) s.dispose(b);
    }),
    contractCase('misuse: out-of-range sizes, indices, op names and hyper-parameters are ValueRangeError', async (s) => {
      const x = s.upload([1, 2, 3, 4]);
      await expectTyped('fill(-1)', ValueRangeError, () => s.fill(-1, 0));
      await expectTyped('fill(1.5)', ValueRangeError, () => s.fill(1.5, 0));
      await expectTyped('gemm m', ValueRangeError, () => s.gemm(x, x, { m: Number.NaN, n: 2, k: 2 }));
      await expectTyped('unary op', ValueRangeError, () => s.unary('gelu' as never, x));
      await expectTyped('gatherRows', ValueRangeError, () => s.gatherRows(x, 2, Int32Array.from([0, 2])));
      await expectTyped('gatherRows negative', ValueRangeError, () => s.gatherRows(x, 2, Int32Array.from([-1])));
      await expectTyped('scatterAddRows', ValueRangeError, () => s.scatterAddRows(x, 2, Int32Array.from([0, 5]), 3));
      const targets = Int32Array.from([0, 7]);
      await expectTyped('cross-entropy target', ValueRangeError, () =>
        s.softmaxCrossEntropy({ rows: 2, classes: 2, logits: x, targets, ignoreIndex: -100, count: 2 }),
      );
      const state = [s.fill(4, 0)];
      await expectTyped('optimizer kind', ValueRangeError, () => s.optimizerStep({ ...SGD, kind: 'adamw' } as never, x, x, state));
      await expectTyped('NaN lr', ValueRangeError, () => s.optimizerStep({ ...SGD, lr: Number.NaN }, x, x, state));
      await expectTyped('negative lr', ValueRangeError, () => s.optimizerStep({ ...SGD, lr: -1 }, x, x, state));
      await expectTyped('stray key', ValueRangeError, () => s.optimizerStep({ ...SGD, beta1: 0.9 } as never, x, x, state));
      check((await values(s, x)).join() === '1,2,3,4', 'a refused optimizer step changed the parameter');
      for (const b of [x, ...state]) s.dispose(b);
    }),
    contractCase('allocation guard: an impossible size is OutOfMemoryError before anything is allocated', async (s) => {
      const before = memory(s);
      await expectTyped('over maxBufferLength', OutOfMemoryError, () => s.fill(s.maxBufferLength + 1, 0));
      const limit = getAllocationLimit();
      setAllocationLimit(1024);
      try {
        await expectTyped('over the allocation limit', OutOfMemoryError, () => s.fill(1024, 0));
        const small = s.fill(16, 0);
        s.dispose(small);
      } finally {
        setAllocationLimit(limit);
      }
      const after = memory(s);
      check(after.buffers === before.buffers && after.bytes === before.bytes, 'a refused allocation changed memory()');
    }),
    contractCase(
      'lifecycle: after destroy every call is BackendDestroyedError; dispose and destroy stay no-ops',
      async (_s, _r, context) => {
        const b = await context.create();
        const x = b.upload([1, 2]);
        b.destroy();
        b.destroy();
        b.dispose(x);
        await expectTyped('upload', BackendDestroyedError, () => b.upload([1]));
        await expectTyped('fill', BackendDestroyedError, () => b.fill(1, 0));
        await expectTyped('unary', BackendDestroyedError, () => b.unary('neg', x));
        await expectTyped('read', BackendDestroyedError, () => b.read(x));
        await expectTyped('sync', BackendDestroyedError, () => b.sync());
      },
    ),
    contractCase('semantics: read resolves with a snapshot that later work and the caller cannot change', async (s) => {
      const x = s.upload([1, 2, 3]);
      const first = await s.read(x);
      first[0] = 99;
      const pending = s.read(x);
      s.unary('scale', x, 2, undefined, x);
      check(Array.from(await pending).join() === '1,2,3', 'a read enqueued before an in-place write saw the write');
      check((await values(s, x)).join() === '2,4,6', 'the caller changing a read result changed the buffer, or the write was lost');
      s.dispose(x);
    }),
    contractCase('semantics: unary writes in place into out = x; gemm with beta 0 never reads out', async (s) => {
      const x = s.upload([-1, 4]);
      check(s.unary('abs', x, undefined, undefined, x) === x, 'unary with out did not return out');
      check((await values(s, x)).join() === '1,4', 'unary in place');
      const a = s.upload([1, 2]);
      const out = s.fill(1, Number.NaN);
      s.gemm(a, a, { m: 1, n: 1, k: 2, transB: true, beta: 0 }, out);
      check((await values(s, out)).join() === '5', `gemm with beta 0 read NaN from out: ${await values(s, out)}`);
      for (const b of [x, a, out]) s.dispose(b);
    }),
    contractCase('semantics: zero-length buffers work everywhere', async (s) => {
      const empty = s.upload([]);
      check(empty.length === 0 && (await s.read(empty)).length === 0, 'an empty upload');
      const filled = s.fill(0, 3);
      const x = s.upload([1, 2, 3, 4]);
      const product = s.gemm(empty, empty, { m: 2, n: 2, k: 0 });
      check((await values(s, product)).join() === '0,0,0,0', 'gemm with k = 0 is a zero matrix');
      const gathered = s.gatherRows(x, 2, new Int32Array(0));
      check(gathered.length === 0, 'gatherRows with no rows');
      const joined = s.concat(
        [x, empty],
        [
          [2, 2],
          [0, 2],
        ],
        0,
      );
      check((await values(s, joined)).join() === '1,2,3,4', 'concat with an empty piece');
      for (const b of [empty, filled, x, product, gathered, joined]) s.dispose(b);
    }),
    contractCase('semantics: memory() counts the live buffers, and work runs in call order', async (s) => {
      const before = memory(s).buffers;
      const xs = Array.from({ length: 5 }, (_, i) => s.fill(3, i));
      check(memory(s).buffers === before + 5, 'memory() did not count five new buffers');
      let last = xs[0];
      for (let i = 1; i < xs.length; i++) {
        const next = s.binary('add', last, [1], xs[i], [1], [3]);
        if (last !== xs[0]) s.dispose(last);
        last = next;
      }
      check(memory(s).buffers === before + 6, 'memory() after disposing the intermediate sums');
      await s.sync();
      check((await values(s, last)).join() === '10,10,10', 'a chain of dependent calls');
      // Counted from here, not from `before`: while this case awaited, core's GC safety net may
      // have released buffers of tensors that earlier cases dropped.
      const live = memory(s).buffers;
      for (const b of [...xs, last]) s.dispose(b);
      check(memory(s).buffers === live - 6, 'memory() after disposing everything');
    }),
    {
      group: 'contract',
      name: 'semantics: blocking.read waits for earlier work and returns the snapshot read resolves with; throws after destroy',
      skipReason: (s) => (s.blocking ? null : 'the backend has no blocking reads (backend.blocking is absent)'),
      run: async (s, r, context) => {
        const blocking = s.blocking;
        if (!blocking) return;
        // A product big enough for a backend to queue it (the native one runs small work inline,
        // larger on its worker), then in-place steps behind it: 256·(1/16)² = 1, doubled ten
        // times. Every value is exact in float32, so a read that did not wait shows.
        const n = 256;
        const a = s.fill(n * n, 1 / 16);
        const product = s.gemm(a, a, { m: n, n, k: n });
        for (let i = 0; i < 10; i++) s.unary('scale', product, 2, undefined, product);
        const now = blocking.read(product);
        check(now.length === n * n && now.every((v) => v === 1024), `blocking.read did not wait for the queued work: ${now[0]}`);
        now[0] = -1;
        s.unary('scale', product, 0.5, undefined, product);
        check(now[1] === 1024, 'later work changed the result of blocking.read');
        const later = await s.read(product);
        check(later[0] === 512 && later.every((v) => v === 512), 'changing a blocking.read result changed the buffer');
        check(Array.from(blocking.read(product)).join() === Array.from(later).join(), 'blocking.read differs from read');
        await expectTyped('blocking.read of a disposed buffer', DisposedTensorError, () => {
          s.dispose(a);
          return blocking.read(a);
        });
        const foreign = r.upload([1]);
        await expectTyped('blocking.read of a foreign buffer', BackendMismatchError, () => blocking.read(foreign));
        r.dispose(foreign);
        s.dispose(product);
        const b = await context.create();
        const x = b.upload([1, 2]);
        b.destroy();
        await expectTyped('blocking.read after destroy', BackendDestroyedError, () => b.blocking?.read(x));
      },
    },
    {
      group: 'contract',
      name: "misuse: a sequence's saved workspace is accepted back only with the sizes that made it",
      skipReason: (s) => (s.fused.sequence ? null : 'the backend has no fused.sequence kernels'),
      run: async (s) => {
        const kernels = s.fused.sequence;
        if (!kernels) return;
        const args = {
          kind: 'gru' as const,
          steps: 2,
          batch: 1,
          inputSize: 1,
          hidden: 1,
          x: s.fill(2, 0.5),
          wIh: s.fill(3, 0.1),
          wHh: s.fill(3, 0.2),
          h0: s.fill(1, 0),
        };
        const forward = kernels.forward(args);
        const grads = { dOutput: s.fill(2, 1), dhN: s.fill(1, 1) };
        const shorter = { ...args, steps: 1, x: s.fill(1, 0.5), dOutput: s.fill(1, 1), dhN: grads.dhN };
        await expectTyped('saved from other sizes', ShapeError, () => kernels.backward({ ...shorter, saved: forward.saved }));
        await expectTyped('lengths past steps', ValueRangeError, () => kernels.forward({ ...args, lengths: Int32Array.from([3]) }));
        const backward = kernels.backward({ ...args, ...grads, saved: forward.saved });
        for (const b of Object.values({ ...args, ...forward, ...grads, ...backward, x2: shorter.x, d2: shorter.dOutput }))
          if (typeof b === 'object' && b && 'length' in b) s.dispose(b as BackendBuffer);
      },
    },
  ];
}
