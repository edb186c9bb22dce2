/**
 * Loads the compiled addon (`build/Release/recur_native.node`), or records why it cannot be
 * loaded so that `createBackend('native')` can say what is missing and how to fix it. The
 * engines it makes are wrapped so that their errors arrive as @recur/core's typed errors
 * (src/errors.ts).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { registerErrorClasses } from './errors.js';
import type { NativeTables } from './tables.js';

/** A class C++ constructs an error with (`new Class(message)`). */
export type ErrorClass = new (message: string) => Error;

/** Opaque handle of one C++ buffer (a type-tagged `Napi::External`). */
export type NativeHandle = object;

/** The C++ `NativeBackend` class (src/native/native_backend.h); arguments are positional. */
export interface NativeEngine {
  readonly threads: number;
  readonly blas: string;
  upload(data: Float32Array): NativeHandle;
  fill(length: number, value: number): NativeHandle;
  release(handle: NativeHandle): void;
  read(handle: NativeHandle): Promise<Float32Array>;
  /** Blocks until the worker has run everything queued before it, then copies. */
  readBlocking(handle: NativeHandle): Float32Array;
  sync(): Promise<void>;
  destroy(): void;
  gemm(
    a: NativeHandle,
    b: NativeHandle,
    out: NativeHandle | null,
    m: number,
    n: number,
    k: number,
    transA: boolean,
    transB: boolean,
    alpha: number,
    beta: number,
  ): NativeHandle;
  unary(op: number, x: NativeHandle, out: NativeHandle | null, param: number, param2: number): NativeHandle;
  binary(
    op: number,
    a: NativeHandle,
    aStrides: readonly number[],
    b: NativeHandle,
    bStrides: readonly number[],
    outShape: readonly number[],
  ): NativeHandle;
  sumTo(x: NativeHandle, inShape: readonly number[], outShape: readonly number[]): NativeHandle;
  sumOfSquares(xs: NativeHandle[]): NativeHandle;
  permute(x: NativeHandle, shape: readonly number[], perm: readonly number[]): NativeHandle;
  concat(xs: NativeHandle[], shapes: readonly (readonly number[])[], axis: number): NativeHandle;
  slice(x: NativeHandle, shape: readonly number[], axis: number, start: number, length: number): NativeHandle;
  gatherRows(x: NativeHandle, width: number, index: Int32Array): NativeHandle;
  scatterAddRows(g: NativeHandle, width: number, index: Int32Array, rows: number): NativeHandle;
  cellForward(
    kind: number,
    batch: number,
    hidden: number,
    gx: NativeHandle,
    gh: NativeHandle,
    h: NativeHandle,
    c: NativeHandle | null,
  ): [NativeHandle, NativeHandle | null, NativeHandle];
  cellBackward(
    kind: number,
    batch: number,
    hidden: number,
    saved: NativeHandle,
    h: NativeHandle,
    c: NativeHandle | null,
    dh: NativeHandle,
    dc: NativeHandle | null,
  ): [NativeHandle, NativeHandle, NativeHandle, NativeHandle | null];
  softmaxCrossEntropy(
    rows: number,
    classes: number,
    logits: NativeHandle,
    targets: Int32Array,
    ignoreIndex: number,
    count: number,
  ): [NativeHandle, NativeHandle];
  optimizerStep(kind: number, hyper: Float64Array, param: NativeHandle, grad: NativeHandle, state: NativeHandle[]): void;
  sequenceForward(...args: [...SequenceCallArgs, save: boolean]): [NativeHandle, NativeHandle, NativeHandle | null, NativeHandle];
  sequenceStackForward(
    kind: number,
    steps: number,
    batch: number,
    inputSize: number,
    hidden: number,
    x: NativeHandle,
    /** Per layer: wIh, wHh, bIh, bHh (null where absent). */
    weights: (NativeHandle | null)[],
    h0: NativeHandle | null,
    c0: NativeHandle | null,
    lengths: Int32Array | null,
  ): [NativeHandle, NativeHandle, NativeHandle | null];
  sequenceBackward(
    ...args: [...SequenceCallArgs, saved: NativeHandle, dOutput: NativeHandle, dhN: NativeHandle, dcN: NativeHandle | null]
  ): [NativeHandle, NativeHandle, NativeHandle, NativeHandle | null, NativeHandle | null, NativeHandle, NativeHandle | null];
}

export type SequenceCallArgs = [
  kind: number,
  steps: number,
  batch: number,
  inputSize: number,
  hidden: number,
  x: NativeHandle,
  wIh: NativeHandle,
  wHh: NativeHandle,
  bIh: NativeHandle | null,
  bHh: NativeHandle | null,
  h0: NativeHandle,
  c0: NativeHandle | null,
  lengths: Int32Array | null,
];

export interface NativeAddon {
  NativeBackend: new (threads?: number) => NativeEngine;
  openmp: boolean;
  simd: string;
  sanitized: boolean;
  /** Bytes in use on the process's malloc heap (glibc), or -1. */
  mallocInUse(): number;
  /** The op tables compiled in (checked against core's constants when a backend is created). */
  tables?: NativeTables;
  /** Registers the classes C++ constructs its errors with (src/errors.ts). */
  setErrorClasses(classes: { outOfMemory: ErrorClass; destroyed: ErrorClass; backendError: ErrorClass }): void;
}

export const INSTALL_HINT =
  'install the prerequisites (Debian/Ubuntu, as root: apt-get install -y cmake g++ libopenblas-dev), then build the addon: pnpm --filter @recur/backend-native rebuild-native';

/** Where the addon is looked for: `RECUR_NATIVE_ADDON` (a path to a .node file) or the package's build/Release. */
export function addonPath(): string {
  const override = process.env.RECUR_NATIVE_ADDON;
  if (override) return override;
  return fileURLToPath(new URL('../build/Release/recur_native.node', import.meta.url));
}

let loaded: { addon: NativeAddon } | { error: string } | undefined;

/** The addon, or the reason it is unavailable. Loaded once. */
export function loadAddon(): { addon: NativeAddon } | { error: string } {
  if (loaded) return loaded;
  const path = addonPath();
  if (!existsSync(path)) {
    loaded = { error: `the native addon is not built (no ${path}); ${INSTALL_HINT}` };
    return loaded;
  }
  // OpenMP reads this once, when the addon (and libgomp with it) loads: idle kernel threads
  // must sleep, not spin against OpenBLAS's threads (see src/native/parallel.h).
  process.env.OMP_WAIT_POLICY ??= 'passive';
  // OpenBLAS reads this once too. Its idle threads spin (calling sched_yield) for 2^28 cycles,
  // about 0.1 s, after start-up and after every parallel call, taking a core from the JS
  // thread and the single-sequence helpers (src/native/team.h): generating the first few
  // hundred tokens took 150 µs/token instead of 122 on 2 cores. 2^22 cycles (about 2 ms) still
  // bridges the gaps between the back-to-back GEMMs of a training step (throughput unchanged).
  process.env.OPENBLAS_THREAD_TIMEOUT ??= '22';
  try {
    const addon = createRequire(import.meta.url)(path) as NativeAddon;
    registerErrorClasses(addon);
    loaded = { addon };
  } catch (error) {
    loaded = { error: `the native addon at ${path} failed to load (${(error as Error).message}); ${INSTALL_HINT}` };
  }
  return loaded;
}
