/**
 * `NativeBackend`: core's `Backend` interface on the C++ addon.
 *
 * Users get it through `createBackend('native')`, in the checked form that validates every
 * call against the contract; this class only translates calls (op names to the addon's codes,
 * buffers to handles) and wraps the handles the addon returns. The addon allocates output
 * buffers at once, enqueues each kernel on its worker thread and returns; only `read` and
 * `sync` wait, and their Promises settle when the queue has run up to them, so training never
 * blocks the event loop unless it asks to (`blocking.read`, behind `itemSync`). The C++ side
 * keeps a guard of its own: any misuse that slips past, or a failure (out of memory), becomes a
 * JS error, never an abort.
 */
import { availableParallelism } from 'node:os';
import {
  type Backend,
  type BackendBuffer,
  BINARY_OPS,
  type BinaryOp,
  type BlockingReads,
  type CellBackwardArgs,
  type CellBackwardResult,
  type CellForwardArgs,
  type CellForwardResult,
  type CellKind,
  type CrossEntropyArgs,
  type FusedKernels,
  type GemmOptions,
  type OptimizerUpdate,
  UNARY_OPS,
  type UnaryOp,
  ValueRangeError,
} from '@recur/core/backend';
import type { NativeAddon, NativeEngine } from './addon.js';
import { handleOf, NativeBuffer } from './buffer.js';
import { cellBackward, cellForward } from './cells.js';
import { packOptimizerUpdate } from './optimizer.js';
import { sequenceBackward, sequenceForward, sequenceStackForward } from './sequence.js';

export interface NativeBackendOptions {
  /**
   * Threads for BLAS and the element-wise kernels (default: the number of cores). OpenBLAS's
   * thread count is process-wide: the last backend created sets it.
   */
  threads?: number;
}

export class NativeBackend implements Backend {
  readonly name = 'native';
  readonly dtype = 'float32' as const;
  /** The C++ side indexes with 32-bit integers (BLAS's `int` dimensions). */
  readonly maxBufferLength = 2 ** 31 - 1;
  readonly description: string;
  /** Threads used by BLAS and the kernels. */
  readonly threads: number;
  readonly fused: FusedKernels;
  /** The JS thread waits for the worker to reach the read (src/native/native_reads.cpp). */
  readonly blocking: BlockingReads;
  private readonly engine: NativeEngine;
  /** Reused for optimizer hyper-parameters (C++ copies them during the call). */
  private readonly hyper = new Float64Array(8);

  constructor(addon: NativeAddon, options: NativeBackendOptions = {}) {
    const threads = options.threads ?? availableParallelism();
    if (!Number.isInteger(threads) || threads < 1 || threads > 1024) {
      throw new ValueRangeError(`createBackend('native'): threads must be an integer in [1, 1024], received ${String(threads)}`);
    }
    this.engine = new addon.NativeBackend(threads);
    this.threads = this.engine.threads;
    this.description = `native C++ (${this.engine.blas}; ${this.threads} threads; ${addon.simd}${addon.sanitized ? '; ASan+UBSan' : ''}; float32)`;
    const engine = this.engine;
    this.fused = {
      sequence: { forward: (args) => sequenceForward(engine, args), backward: (args) => sequenceBackward(engine, args) },
      stack: { forward: (args) => sequenceStackForward(engine, args) },
    };
    this.blocking = { read: (buffer) => engine.readBlocking(handleOf(buffer)) };
  }

  // --- memory -------------------------------------------------------------------------------

  upload(data: ArrayLike<number>): BackendBuffer {
    const array = data instanceof Float32Array ? data : Float32Array.from(data);
    return new NativeBuffer(this.engine.upload(array), array.length);
  }

  fill(length: number, value: number): BackendBuffer {
    return new NativeBuffer(this.engine.fill(length, value), length);
  }

  read(buffer: BackendBuffer): Promise<Float32Array> {
    return this.engine.read(handleOf(buffer));
  }

  dispose(buffer: BackendBuffer): void {
    const native = buffer as NativeBuffer;
    if (native.handle === null) return;
    const handle = native.handle;
    native.handle = null;
    this.engine.release(handle);
  }

  sync(): Promise<void> {
    return this.engine.sync();
  }

  destroy(): void {
    this.engine.destroy();
  }

  // --- dense math ---------------------------------------------------------------------------

  gemm(a: BackendBuffer, b: BackendBuffer, options: GemmOptions, out?: BackendBuffer): BackendBuffer {
    const { m, n, k } = options;
    const result = this.engine.gemm(
      handleOf(a),
      handleOf(b),
      out ? handleOf(out) : null,
      m,
      n,
      k,
      options.transA === true,
      options.transB === true,
      options.alpha ?? 1,
      options.beta ?? 0,
    );
    return out ?? new NativeBuffer(result, m * n);
  }

  unary(op: UnaryOp, x: BackendBuffer, param?: number, param2?: number, out?: BackendBuffer): BackendBuffer {
    let p = 0;
    let p2 = 0;
    if (op === 'scale') p = param ?? 1;
    if (op === 'clamp') {
      p = param ?? Number.NEGATIVE_INFINITY;
      p2 = param2 ?? Number.POSITIVE_INFINITY;
    }
    const result = this.engine.unary(UNARY_OPS.indexOf(op), handleOf(x), out ? handleOf(out) : null, p, p2);
    return out ?? new NativeBuffer(result, x.length);
  }

  binary(
    op: BinaryOp,
    a: BackendBuffer,
    aStrides: readonly number[],
    b: BackendBuffer,
    bStrides: readonly number[],
    outShape: readonly number[],
  ): BackendBuffer {
    let size = 1;
    for (const d of outShape) size *= d;
    return new NativeBuffer(this.engine.binary(BINARY_OPS.indexOf(op), handleOf(a), aStrides, handleOf(b), bStrides, outShape), size);
  }

  sumTo(x: BackendBuffer, inShape: readonly number[], outShape: readonly number[]): BackendBuffer {
    let size = 1;
    for (const d of outShape) size *= d;
    return new NativeBuffer(this.engine.sumTo(handleOf(x), inShape, outShape), size);
  }

  sumOfSquares(buffers: readonly BackendBuffer[]): BackendBuffer {
    return new NativeBuffer(this.engine.sumOfSquares(buffers.map(handleOf)), 1);
  }

  // --- data movement ------------------------------------------------------------------------

  permute(x: BackendBuffer, shape: readonly number[], perm: readonly number[]): BackendBuffer {
    return new NativeBuffer(this.engine.permute(handleOf(x), shape, perm), x.length);
  }

  concat(xs: readonly BackendBuffer[], shapes: readonly (readonly number[])[], axis: number): BackendBuffer {
    let total = 0;
    for (const x of xs) total += x.length;
    return new NativeBuffer(this.engine.concat(xs.map(handleOf), shapes, axis), total);
  }

  slice(x: BackendBuffer, shape: readonly number[], axis: number, start: number, length: number): BackendBuffer {
    const outLength = shape[axis] === 0 ? 0 : (x.length / shape[axis]) * length;
    return new NativeBuffer(this.engine.slice(handleOf(x), shape, axis, start, length), outLength);
  }

  gatherRows(x: BackendBuffer, width: number, index: Int32Array): BackendBuffer {
    return new NativeBuffer(this.engine.gatherRows(handleOf(x), width, index), index.length * width);
  }

  scatterAddRows(g: BackendBuffer, width: number, index: Int32Array, rows: number): BackendBuffer {
    return new NativeBuffer(this.engine.scatterAddRows(handleOf(g), width, index, rows), rows * width);
  }

  // --- fused kernels ------------------------------------------------------------------------

  cellForward(kind: CellKind, args: CellForwardArgs): CellForwardResult {
    return cellForward(this.engine, kind, args);
  }

  cellBackward(kind: CellKind, args: CellBackwardArgs): CellBackwardResult {
    return cellBackward(this.engine, kind, args);
  }

  softmaxCrossEntropy(args: CrossEntropyArgs): { loss: BackendBuffer; dLogits: BackendBuffer } {
    const { rows, classes } = args;
    const [loss, dLogits] = this.engine.softmaxCrossEntropy(
      rows,
      classes,
      handleOf(args.logits),
      args.targets,
      args.ignoreIndex,
      args.count,
    );
    return { loss: new NativeBuffer(loss, 1), dLogits: new NativeBuffer(dLogits, rows * classes) };
  }

  optimizerStep(update: OptimizerUpdate, param: BackendBuffer, grad: BackendBuffer, state: readonly BackendBuffer[]): void {
    const kind = packOptimizerUpdate(update, this.hyper);
    this.engine.optimizerStep(kind, this.hyper, handleOf(param), handleOf(grad), state.map(handleOf));
  }
}
