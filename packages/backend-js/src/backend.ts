/**
 * `JsBackend`: the reference implementation of core's `Backend` interface. Every method runs
 * at once, synchronously, on typed arrays in host memory; the kernels live in the sibling
 * files and this class only allocates results and unwraps buffers.
 */

import { checkOptions, type OptionsSchema, option } from '@recur/core';
import type {
  Backend,
  BackendBuffer,
  BinaryOp,
  BlockingReads,
  CellBackwardArgs,
  CellBackwardResult,
  CellForwardArgs,
  CellForwardResult,
  CellKind,
  CrossEntropyArgs,
  DType,
  FloatArray,
  FusedKernels,
  GemmOptions,
  OptimizerUpdate,
  SequenceBackwardArgs,
  SequenceBackwardResult,
  SequenceForwardArgs,
  SequenceForwardResult,
  SequenceStackForwardArgs,
  SequenceStackForwardResult,
  UnaryOp,
} from '@recur/core/backend';
import { DTYPES, GATE_COUNT, SAVED_BLOCKS } from '@recur/core/backend';
import { type ArrayMaker, arrayMaker, dataOf, JsBuffer } from './buffer.js';
import { cellBackwardRow, cellForwardRow } from './cells.js';
import * as dense from './dense.js';
import { softmaxCrossEntropy } from './loss.js';
import * as movement from './movement.js';
import { optimizerStep } from './optimizers.js';
import { type SequenceArrays, sequenceBackward, sequenceForward, sequenceStackForward } from './sequence.js';
import { sizeOf } from './strided.js';

export interface JsBackendOptions {
  /** Element type of every buffer (default float32). */
  dtype?: DType;
}

const JS_OPTIONS: OptionsSchema<JsBackendOptions> = { dtype: option.oneOf(...DTYPES) };

const optional = (buffer: BackendBuffer | undefined) => (buffer ? dataOf(buffer) : undefined);

/**
 * Resolves on a later task of the event loop. `read` and `sync` settle there, not as a
 * microtask (which an `async` method returning at once would be): a loop that awaits only
 * reads then still lets timers, I/O and finalization callbacks run, among them core's safety
 * net for tensors dropped without `dispose()`, whose buffers would otherwise pile up for as long
 * as the loop runs. setImmediate in Node; elsewhere a MessageChannel, since a browser delays a
 * nested `setTimeout(0)` by at least 4 ms. Taken when this module loads, so that fake timers
 * installed later (a test's) cannot stall reads.
 */
const nextTask: () => Promise<void> = (() => {
  const immediate = globalThis.setImmediate;
  if (typeof immediate === 'function') return () => new Promise<void>((resolve) => immediate(resolve));
  if (typeof MessageChannel === 'function') {
    const waiting: (() => void)[] = [];
    const channel = new MessageChannel();
    channel.port1.onmessage = () => waiting.shift()?.();
    return () =>
      new Promise<void>((resolve) => {
        waiting.push(resolve);
        channel.port2.postMessage(null);
      });
  }
  const timeout = globalThis.setTimeout;
  return () => new Promise<void>((resolve) => timeout(resolve, 0));
})();

export class JsBackend implements Backend {
  readonly name = 'js';
  readonly dtype: DType;
  readonly description: string;
  private readonly make: ArrayMaker;

  constructor(options: JsBackendOptions = {}) {
    checkOptions("createBackend('js')", options, JS_OPTIONS);
    this.dtype = options.dtype ?? 'float32';
    this.description = `pure TypeScript reference (${this.dtype})`;
    this.make = arrayMaker(this.dtype);
  }

  /** Typed arrays of up to 2³¹ − 1 elements are allocatable in every JavaScript engine. */
  readonly maxBufferLength = 2 ** 31 - 1;

  readonly fused: FusedKernels = {
    sequence: { forward: (args) => this.sequenceForward(args), backward: (args) => this.sequenceBackward(args) },
    stack: { forward: (args) => this.sequenceStackForward(args) },
  };

  /** A new zero-filled buffer of `length` elements, and its array for the kernel to write. */
  private allocate(length: number): [JsBuffer, FloatArray] {
    const array = this.make(length);
    return [new JsBuffer(array), array];
  }

  private wrap(array: FloatArray): JsBuffer {
    return new JsBuffer(array);
  }

  // --- memory -------------------------------------------------------------------------------

  upload(data: ArrayLike<number>): BackendBuffer {
    const [buffer, array] = this.allocate(data.length);
    for (let i = 0; i < data.length; i++) array[i] = data[i];
    return buffer;
  }

  fill(length: number, value: number): BackendBuffer {
    const [buffer, array] = this.allocate(length);
    array.fill(value);
    return buffer;
  }

  async read(buffer: BackendBuffer): Promise<FloatArray> {
    const copy = dataOf(buffer).slice(); // the values as of the call: later work may change them
    await nextTask();
    return copy;
  }

  /** Every call has already run, so a blocking read is an immediate copy. */
  readonly blocking: BlockingReads = { read: (buffer) => dataOf(buffer).slice() };

  dispose(buffer: BackendBuffer): void {
    if (buffer instanceof JsBuffer) buffer.dispose();
  }

  /** Every call has already run: there is no queue (it still settles on a later task: see `nextTask`). */
  async sync(): Promise<void> {
    await nextTask();
  }

  /** Nothing to release: buffers are garbage-collected arrays. */
  destroy(): void {}

  // --- dense math ---------------------------------------------------------------------------

  gemm(a: BackendBuffer, b: BackendBuffer, options: GemmOptions, out?: BackendBuffer): BackendBuffer {
    const [buffer, c] = out ? [out, dataOf(out)] : this.allocate(options.m * options.n);
    dense.gemm(dataOf(a), dataOf(b), c, options, out !== undefined);
    return buffer;
  }

  unary(op: UnaryOp, x: BackendBuffer, param?: number, param2?: number, out?: BackendBuffer): BackendBuffer {
    const [buffer, y] = out ? [out, dataOf(out)] : this.allocate(x.length);
    dense.unary(op, dataOf(x), y, param, param2);
    return buffer;
  }

  binary(
    op: BinaryOp,
    a: BackendBuffer,
    aStrides: readonly number[],
    b: BackendBuffer,
    bStrides: readonly number[],
    outShape: readonly number[],
  ): BackendBuffer {
    const [buffer, out] = this.allocate(sizeOf(outShape));
    dense.binary(op, dataOf(a), aStrides, dataOf(b), bStrides, outShape, out);
    return buffer;
  }

  sumTo(x: BackendBuffer, inShape: readonly number[], outShape: readonly number[]): BackendBuffer {
    const [buffer, out] = this.allocate(sizeOf(outShape));
    dense.sumTo(dataOf(x), inShape, outShape, out);
    return buffer;
  }

  sumOfSquares(buffers: readonly BackendBuffer[]): BackendBuffer {
    return this.upload([dense.sumOfSquares(buffers.map(dataOf))]);
  }

  // --- data movement ------------------------------------------------------------------------

  permute(x: BackendBuffer, shape: readonly number[], perm: readonly number[]): BackendBuffer {
    const [buffer, out] = this.allocate(x.length);
    movement.permute(dataOf(x), shape, perm, out);
    return buffer;
  }

  concat(xs: readonly BackendBuffer[], shapes: readonly (readonly number[])[], axis: number): BackendBuffer {
    const [buffer, out] = this.allocate(xs.reduce((total, x) => total + x.length, 0));
    movement.concat(xs.map(dataOf), shapes, axis, out);
    return buffer;
  }

  slice(x: BackendBuffer, shape: readonly number[], axis: number, start: number, length: number): BackendBuffer {
    const [buffer, out] = this.allocate(sizeOf(shape.map((d, i) => (i === axis ? length : d))));
    movement.slice(dataOf(x), shape, axis, start, length, out);
    return buffer;
  }

  gatherRows(x: BackendBuffer, width: number, index: Int32Array): BackendBuffer {
    const [buffer, out] = this.allocate(index.length * width);
    movement.gatherRows(dataOf(x), width, index, out);
    return buffer;
  }

  scatterAddRows(g: BackendBuffer, width: number, index: Int32Array, rows: number): BackendBuffer {
    const [buffer, out] = this.allocate(rows * width);
    movement.scatterAddRows(dataOf(g), width, index, out);
    return buffer;
  }

  // --- fused kernels ------------------------------------------------------------------------

  cellForward(kind: CellKind, args: CellForwardArgs): CellForwardResult {
    const { batch, hidden } = args;
    const [h, hOut] = this.allocate(batch * hidden);
    const [c, cOut] = kind === 'lstm' ? this.allocate(batch * hidden) : [undefined, undefined];
    const [saved, savedArray] = this.allocate(batch * SAVED_BLOCKS[kind] * hidden);
    const arrays = {
      gx: dataOf(args.gx),
      gh: dataOf(args.gh),
      h: dataOf(args.h),
      // A missing LSTM cell state reads as zeros.
      c: kind === 'lstm' ? (optional(args.c) ?? this.make(batch * hidden)) : undefined,
      hOut,
      cOut,
      saved: savedArray,
    };
    for (let row = 0; row < batch; row++) cellForwardRow(kind, hidden, arrays, row);
    return c ? { h, c, saved } : { h, saved };
  }

  cellBackward(kind: CellKind, args: CellBackwardArgs): CellBackwardResult {
    const { batch, hidden } = args;
    const width = GATE_COUNT[kind] * hidden;
    const [dgx, dgxArray] = this.allocate(batch * width);
    const [dgh, dghArray] = this.allocate(batch * width);
    const [dhPrevBuffer, dhPrev] = this.allocate(batch * hidden);
    const [dcPrevBuffer, dcPrev] = kind === 'lstm' ? this.allocate(batch * hidden) : [undefined, undefined];
    const arrays = {
      saved: dataOf(args.saved),
      h: dataOf(args.h),
      c: kind === 'lstm' ? (optional(args.c) ?? this.make(batch * hidden)) : undefined,
      dh: dataOf(args.dh),
      dc: optional(args.dc),
      dgx: dgxArray,
      dgh: dghArray,
      dhPrev,
      dcPrev,
    };
    for (let row = 0; row < batch; row++) cellBackwardRow(kind, hidden, arrays, row);
    return dcPrevBuffer ? { dgx, dgh, dhPrev: dhPrevBuffer, dcPrev: dcPrevBuffer } : { dgx, dgh, dhPrev: dhPrevBuffer };
  }

  softmaxCrossEntropy(args: CrossEntropyArgs): { loss: BackendBuffer; dLogits: BackendBuffer } {
    const [dLogits, dLogitsArray] = this.allocate(args.rows * args.classes);
    const loss = softmaxCrossEntropy({ ...args, logits: dataOf(args.logits), dLogits: dLogitsArray });
    return { loss: this.upload([loss]), dLogits };
  }

  optimizerStep(update: OptimizerUpdate, param: BackendBuffer, grad: BackendBuffer, state: readonly BackendBuffer[]): void {
    optimizerStep(update, dataOf(param), dataOf(grad), state.map(dataOf));
  }

  // --- fused sequence -----------------------------------------------------------------------

  private sequenceArrays(args: SequenceForwardArgs): SequenceArrays {
    return {
      ...args,
      x: dataOf(args.x),
      wIh: dataOf(args.wIh),
      wHh: dataOf(args.wHh),
      bIh: optional(args.bIh),
      bHh: optional(args.bHh),
      h0: dataOf(args.h0),
      c0: optional(args.c0),
    };
  }

  private sequenceForward(args: SequenceForwardArgs): SequenceForwardResult {
    const result = sequenceForward(this.sequenceArrays(args), this.make);
    // The activations are computed either way; not saving them only means not handing them out.
    const saved = args.saveForBackward === false ? this.make(0) : result.saved;
    const forward: SequenceForwardResult = { output: this.wrap(result.output), hN: this.wrap(result.hN), saved: this.wrap(saved) };
    if (result.cN) forward.cN = this.wrap(result.cN);
    return forward;
  }

  private sequenceStackForward(args: SequenceStackForwardArgs): SequenceStackForwardResult {
    const result = sequenceStackForward(
      {
        ...args,
        x: dataOf(args.x),
        layers: args.layers.map((l) => ({ wIh: dataOf(l.wIh), wHh: dataOf(l.wHh), bIh: optional(l.bIh), bHh: optional(l.bHh) })),
        h0: optional(args.h0),
        c0: args.kind === 'lstm' ? optional(args.c0) : undefined,
      },
      this.make,
    );
    const stack: SequenceStackForwardResult = { output: this.wrap(result.output), hN: this.wrap(result.hN) };
    if (result.cN) stack.cN = this.wrap(result.cN);
    return stack;
  }

  private sequenceBackward(args: SequenceBackwardArgs): SequenceBackwardResult {
    const grads = { dOutput: dataOf(args.dOutput), dhN: dataOf(args.dhN), dcN: optional(args.dcN) };
    const result = sequenceBackward(this.sequenceArrays(args), dataOf(args.saved), grads, this.make);
    const backward: SequenceBackwardResult = {
      dx: this.wrap(result.dx),
      dWIh: this.wrap(result.dWIh),
      dWHh: this.wrap(result.dWHh),
      dh0: this.wrap(result.dh0),
    };
    if (result.dBIh) backward.dBIh = this.wrap(result.dBIh);
    if (result.dBHh) backward.dBHh = this.wrap(result.dBHh);
    if (result.dc0) backward.dc0 = this.wrap(result.dc0);
    return backward;
  }
}
