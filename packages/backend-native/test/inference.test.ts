/**
 * The inference paths of the native backend: `sequenceStackForward`, `sequenceForward` without
 * saved activations, and the single-sequence step (batch 1) that splits each step's matrix-
 * vector products between the calling thread and helper threads. Each is checked against the
 * float32 JS reference on shapes that reach the split (and on ones whose sizes are not
 * multiples of the kernel's blocks), with 1 and 2 threads.
 */
import { createJsBackend } from '@recur/backend-js';
import {
  type Backend,
  BackendMismatchError,
  DisposedTensorError,
  LSTM,
  noGrad,
  Random,
  ShapeError,
  tensor,
  tidy,
  ValueRangeError,
} from '@recur/core';
import { type CellKind, GATE_COUNT, type SequenceStackForwardArgs } from '@recur/core/backend';
import { afterAll, expect, it } from 'vitest';
import { createNativeBackend } from '../src/index.js';
import { describeNative, nativeOf, sequenceKernels, stackKernels } from './helpers.js';

const KINDS: CellKind[] = ['tanh', 'relu', 'lstm', 'gru', 'ugrnn'];

interface Problem {
  kind: CellKind;
  steps: number;
  batch: number;
  inputSize: number;
  hidden: number;
  x: Float32Array;
  layers: { wIh: Float32Array; wHh: Float32Array; bIh?: Float32Array; bHh?: Float32Array }[];
  h0?: Float32Array;
  c0?: Float32Array;
  lengths?: Int32Array;
}

function problem(
  kind: CellKind,
  seed: number,
  shape: { T: number; B: number; I: number; H: number; L: number },
  options: { state?: boolean; lengths?: number[] } = {},
): Problem {
  const random = new Random(seed);
  const data = (n: number, s: number) => Float32Array.from({ length: n }, () => random.uniform(-s, s));
  const { T, B, I, H, L } = shape;
  const G = GATE_COUNT[kind];
  const scale = 1 / Math.sqrt(H);
  return {
    kind,
    steps: T,
    batch: B,
    inputSize: I,
    hidden: H,
    x: data(T * B * I, 1),
    // Layer 1 has no biases: both forms run through the same kernels.
    layers: Array.from({ length: L }, (_, l) => ({
      wIh: data(G * H * (l === 0 ? I : H), scale),
      wHh: data(G * H * H, scale),
      bIh: l === 1 ? undefined : data(G * H, scale),
      bHh: l === 1 ? undefined : data(G * H, scale),
    })),
    h0: options.state ? data(L * B * H, 0.5) : undefined,
    c0: options.state && kind === 'lstm' ? data(L * B * H, 0.5) : undefined,
    lengths: options.lengths && Int32Array.from(options.lengths),
  };
}

function stackArgs(b: Backend, p: Problem): SequenceStackForwardArgs {
  const up = (a: Float32Array | undefined) => (a ? b.upload(a) : undefined);
  return {
    kind: p.kind,
    steps: p.steps,
    batch: p.batch,
    inputSize: p.inputSize,
    hidden: p.hidden,
    x: b.upload(p.x),
    layers: p.layers.map((w) => ({ wIh: b.upload(w.wIh), wHh: b.upload(w.wHh), bIh: up(w.bIh), bHh: up(w.bHh) })),
    h0: up(p.h0),
    c0: up(p.c0),
    lengths: p.lengths,
  };
}

async function runStack(b: Backend, p: Problem) {
  const r = stackKernels(b).forward(stackArgs(b, p));
  return { output: await b.read(r.output), hN: await b.read(r.hN), cN: r.cN ? await b.read(r.cN) : undefined };
}

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string, tol = 2e-5): void {
  expect(actual.length, what).toBe(expected.length);
  let worst = 0;
  for (let i = 0; i < actual.length; i++) worst = Math.max(worst, Math.abs(actual[i] - expected[i]) / (1 + Math.abs(expected[i])));
  expect(worst, what).toBeLessThan(tol);
}

describeNative('single-sequence inference', () => {
  const js = createJsBackend();
  const two = createNativeBackend({ threads: 2 });
  const one = createNativeBackend({ threads: 1 });
  afterAll(() => {
    two.destroy();
    one.destroy();
  });

  const shapes: [string, { T: number; B: number; I: number; H: number; L: number }, { state?: boolean; lengths?: number[] }][] = [
    // Batch 1, one step: large enough (G·H·(H + I) ≥ 2^15 for every kind) for the products
    // of each step to be split between threads.
    ['one token, H 176', { T: 1, B: 1, I: 40, H: 176, L: 2 }, { state: true }],
    // Sizes that are multiples of neither the 16-unit chunks nor the 8-lane dot products.
    ['one token, H 197', { T: 1, B: 1, I: 13, H: 197, L: 2 }, { state: true }],
    ['one token, H 37 (below the split)', { T: 1, B: 1, I: 13, H: 37, L: 2 }, { state: true }],
    ['a prompt, batch 1, H 48', { T: 5, B: 1, I: 24, H: 48, L: 2 }, { state: true }],
    ['a prompt ending early (length 3 of 5)', { T: 5, B: 1, I: 24, H: 48, L: 2 }, { state: true, lengths: [3] }],
    ['zero initial state', { T: 2, B: 1, I: 9, H: 40, L: 3 }, {}],
    ['batch 3 with lengths', { T: 4, B: 3, I: 7, H: 20, L: 2 }, { state: true, lengths: [4, 0, 2] }],
  ];

  for (const kind of KINDS) {
    it(`sequenceStackForward(${kind}) equals the JS reference, with 1 and 2 threads`, async () => {
      for (const [name, shape, options] of shapes) {
        const p = problem(kind, 10 + KINDS.indexOf(kind), shape, options);
        const expected = await runStack(js, p);
        for (const b of [one, two]) {
          const actual = await runStack(b, p);
          const what = `${kind}, ${name}, ${nativeOf(b).threads} thread(s)`;
          expectClose(actual.output, expected.output, `${what}: output`);
          expectClose(actual.hN, expected.hN, `${what}: hN`);
          expect(actual.cN !== undefined, what).toBe(kind === 'lstm');
          if (actual.cN && expected.cN) expectClose(actual.cN, expected.cN, `${what}: cN`);
        }
      }
    });
  }

  it('sequenceForward without saved activations: same outputs, an empty saved, the backward still works with them', async () => {
    for (const kind of KINDS) {
      for (const [T, B] of [
        [1, 1],
        [6, 1],
        [6, 3],
      ]) {
        const p = problem(kind, 40, { T, B, I: 24, H: 48, L: 1 }, { state: true, lengths: B === 3 ? [6, 2, 0] : undefined });
        const s = stackArgs(two, p);
        const args = { ...s, ...s.layers[0], h0: s.h0 ?? two.fill(B * 48, 0), steps: T };
        const kept = sequenceKernels(two).forward(args);
        const unsaved = sequenceKernels(two).forward({ ...args, saveForBackward: false });
        expect(unsaved.saved.length).toBe(0);
        for (const name of ['output', 'hN', 'cN'] as const) {
          const a = kept[name];
          const c = unsaved[name];
          if (a && c) expect(Array.from(await two.read(c)), `${kind} T ${T} B ${B} ${name}`).toEqual(Array.from(await two.read(a)));
        }
        const ones = (n: number) => two.fill(n, 1);
        const dcN = kind === 'lstm' ? ones(B * 48) : undefined;
        const grads = sequenceKernels(two).backward({ ...args, saved: kept.saved, dOutput: ones(T * B * 48), dhN: ones(B * 48), dcN });
        expect((await two.read(grads.dWHh)).every(Number.isFinite)).toBe(true);
      }
    }
  });

  it('a 2-layer LSTM generating token by token gives the same logits through the stack as through the recorded path', async () => {
    const b = two;
    const model = new LSTM({ inputSize: 16, hiddenSize: 64, numLayers: 2, backend: b, seed: 5 });
    let fast = model.forward(tensor(new Float32Array(16).fill(0.1), [1, 1, 16], { backend: b })).state;
    let slow = fast;
    for (let step = 0; step < 4; step++) {
      const x = tensor(
        Float32Array.from({ length: 16 }, (_, i) => Math.sin(step + i)),
        [1, 1, 16],
        { backend: b },
      );
      const f = noGrad(() => tidy(() => model.forward(x, { state: fast })));
      const s = tidy(() => model.forward(x, { state: slow }));
      expectClose(await b.read(f.output.buffer), await b.read(s.output.buffer), `step ${step}`);
      fast = f.state;
      slow = s.state;
    }
  });

  it('a stack large enough for the worker thread (not run inline) gives the same result', async () => {
    const p = problem('lstm', 50, { T: 40, B: 1, I: 64, H: 128, L: 2 }, { state: true });
    const expected = await runStack(js, p);
    const actual = await runStack(two, p);
    expectClose(actual.output, expected.output, 'output', 1e-4);
    expectClose(actual.hN, expected.hN, 'hN', 1e-4);
  });

  it('rejects bad stack arguments with typed errors, and the addon rejects them without crashing', () => {
    const p = problem('gru', 60, { T: 2, B: 1, I: 3, H: 4, L: 2 }, { state: true });
    const args = stackArgs(two, p);
    const stack = (a: Partial<SequenceStackForwardArgs>) => stackKernels(two).forward({ ...args, ...a });
    expect(() => stack({ layers: [] })).toThrow(ShapeError);
    expect(() => stack({ kind: 'mgu' as never })).toThrow(ValueRangeError);
    expect(() => stack({ steps: -1 })).toThrow(ValueRangeError);
    expect(() => stack({ inputSize: 4 })).toThrow(ShapeError);
    expect(() => stack({ h0: two.fill(4, 0) })).toThrow(ShapeError);
    expect(() => stack({ layers: [args.layers[0], { ...args.layers[1], bHh: two.fill(3, 0) }] })).toThrow(/layers\[1\]\.bHh/);
    expect(() => stack({ layers: [args.layers[0], { ...args.layers[1], wIh: args.layers[0].wIh }] })).toThrow(ShapeError);
    expect(() => stack({ x: js.upload(p.x) })).toThrow(BackendMismatchError);
    expect(() => stack({ lengths: Int32Array.from([3]) })).toThrow(ValueRangeError);
    expect(() => stack({ lengths: Int32Array.from([1, 1]) })).toThrow(ShapeError);
    const gone = two.upload(p.x);
    two.dispose(gone);
    expect(() => stack({ x: gone })).toThrow(DisposedTensorError);
    expect(() => stack({ h0: null as never })).toThrow(BackendMismatchError);
    expect(() => stack({ h0: undefined })).not.toThrow();

    const engine = (nativeOf(two) as unknown as { engine: Record<string, (...a: unknown[]) => unknown> }).engine;
    const handle = (buffer: unknown) => (buffer as { handle: object }).handle;
    const x = handle(args.x);
    const w = args.layers.flatMap((l) => [handle(l.wIh), handle(l.wHh), null, null]);
    expect(() => engine.sequenceStackForward(3, 2, 1, 3, 4, x, w.slice(0, 3), null, null, null)).toThrow(/weights/);
    expect(() => engine.sequenceStackForward(3, 2, 1, 3, 4, x, [x, x, null, null], null, null, null)).toThrow(/elements/);
    expect(() => engine.sequenceStackForward(3, 2, 1, 3, 4, x, w, x, null, null)).toThrow(/elements/);
    expect(() => engine.sequenceStackForward(9, 2, 1, 3, 4, x, w, null, null, null)).toThrow(Error);
    expect(() => engine.sequenceStackForward(3, 2, 1, 3, 4, x, w, null, null, Int32Array.from([7]))).toThrow(/lengths/);
  });

  it('keeps working after a backend with helper threads is destroyed mid-use', async () => {
    const b = createNativeBackend({ threads: 2 });
    const p = problem('lstm', 70, { T: 1, B: 1, I: 32, H: 64, L: 2 }, { state: true });
    const first = await runStack(b, p);
    const pending = b.read(stackKernels(b).forward(stackArgs(b, p)).hN);
    b.destroy();
    expect(Array.from(await pending)).toEqual(Array.from(first.hN));
  });
});
