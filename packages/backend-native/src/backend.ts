/**
 * `NativeBackend`: core's `Backend` interface on the C++ addon.
 *
 * Every compute method validates its arguments here (typed errors from `@recur/core`), then
 * calls the addon, which allocates the output buffers at once, enqueues the kernel on its
 * worker thread and returns. Only `read` and `sync` wait: their Promises settle when the
 * queue has run up to them, so training never blocks the event loop.
 */
import { availableParallelism } from 'node:os';
import {
  type Backend,
  type BackendBuffer,
  type BackendFeature,
  BackendMismatchError,
  type BinaryOp,
  type CellBackwardArgs,
  type CellBackwardResult,
  type CellForwardArgs,
  type CellForwardResult,
  type CellKind,
  type CrossEntropyArgs,
  describeShape,
  type GemmOptions,
  type OptimizerUpdate,
  type SequenceBackwardArgs,
  type SequenceBackwardResult,
  type SequenceForwardArgs,
  type SequenceForwardResult,
  type SequenceStackForwardArgs,
  type SequenceStackForwardResult,
  ShapeError,
  type UnaryOp,
  ValueRangeError,
} from '@recur/core';
import type { NativeAddon, NativeEngine } from './addon.js';
import { NativeBuffer } from './buffer.js';
import { cellBackward, cellForward } from './cells.js';
import { BufferChecks } from './checks.js';
import { optimizerCall } from './optimizer.js';
import { sequenceBackward, sequenceForward, sequenceStackForward } from './sequence.js';
import { count, indicesInRange, int32Array, product, real, shapeOf, sizeOf } from './validate.js';

export interface NativeBackendOptions {
  /**
   * Threads for BLAS and the element-wise kernels (default: the number of cores). OpenBLAS's
   * thread count is process-wide: the last backend created sets it.
   */
  threads?: number;
}

const UNARY_OPS: readonly UnaryOp[] = [
  'copy',
  'neg',
  'exp',
  'log',
  'tanh',
  'sigmoid',
  'relu',
  'step',
  'sqrt',
  'square',
  'abs',
  'reciprocal',
  'scale',
  'clamp',
];
const BINARY_OPS: readonly BinaryOp[] = ['add', 'sub', 'mul', 'div'];

export class NativeBackend implements Backend {
  readonly name = 'native';
  readonly dtype = 'float32' as const;
  readonly description: string;
  /** Threads used by BLAS and the kernels. */
  readonly threads: number;
  private readonly engine: NativeEngine;
  /** Ownership checks of buffer arguments (shared with the sequence methods in sequence.ts). */
  private readonly c: BufferChecks;
  /** Reused for optimizer hyper-parameters (C++ copies them during the call). */
  private readonly hyper = new Float64Array(8);

  constructor(addon: NativeAddon, options: NativeBackendOptions = {}) {
    const threads = options.threads === undefined ? availableParallelism() : options.threads;
    count('createBackend(native)', 'threads', threads, 1024);
    if (threads < 1) throw new ValueRangeError(`createBackend(native): threads must be at least 1, received ${threads}`);
    this.engine = new addon.NativeBackend(threads);
    this.c = new BufferChecks(this, this.engine);
    this.threads = this.engine.threads;
    this.description = `native C++ (${this.engine.blas}; ${this.threads} threads; ${addon.simd}${addon.sanitized ? '; ASan+UBSan' : ''}; float32)`;
  }

  supports(feature: BackendFeature): boolean {
    return feature === 'fusedSequence' || feature === 'fusedStack';
  }

  // --- memory -------------------------------------------------------------------------------

  upload(data: ArrayLike<number>): BackendBuffer {
    this.c.live('upload');
    if (data === null || typeof data !== 'object' || typeof data.length !== 'number')
      throw new ShapeError(`upload: data must be an array-like of numbers, received ${String(data)}`);
    count('upload', 'data.length', data.length);
    const array = data instanceof Float32Array ? data : Float32Array.from(data);
    return this.c.wrap(this.engine.upload(array), array.length);
  }

  fill(length: number, value: number): BackendBuffer {
    this.c.live('fill');
    count('fill', 'length', length);
    real('fill', 'value', value, false);
    return this.c.wrap(this.engine.fill(length, value), length);
  }

  read(buffer: BackendBuffer): Promise<Float32Array> {
    try {
      this.c.live('read');
      return this.engine.read(this.c.handle('read', 'buffer', buffer));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  dispose(buffer: BackendBuffer): void {
    if (!(buffer instanceof NativeBuffer)) throw new BackendMismatchError('dispose: not a buffer of the native backend');
    if (buffer.handle === null) return;
    const handle = buffer.handle;
    buffer.handle = null;
    this.engine.release(handle);
  }

  sync(): Promise<void> {
    if (this.c.destroyed) return Promise.resolve();
    return this.engine.sync();
  }

  destroy(): void {
    if (this.c.destroyed) return;
    this.c.destroyed = true;
    this.engine.destroy();
  }

  // --- dense math ---------------------------------------------------------------------------

  gemm(a: BackendBuffer, b: BackendBuffer, options: GemmOptions, out?: BackendBuffer): BackendBuffer {
    const M = 'gemm';
    this.c.live(M);
    if (options === null || typeof options !== 'object') throw new ValueRangeError('gemm: options must be an object');
    const m = count(M, 'm', options.m);
    const n = count(M, 'n', options.n);
    const k = count(M, 'k', options.k);
    const alpha = real(M, 'alpha', options.alpha ?? 1, false);
    const beta = real(M, 'beta', options.beta ?? 0, false);
    const transA = options.transA === true;
    const transB = options.transB === true;
    const ha = this.c.sized(M, 'a', a, product(M, 'A', m, k), () => (transA ? `[k, m] = [${k}, ${m}]` : `[m, k] = [${m}, ${k}]`));
    const hb = this.c.sized(M, 'b', b, product(M, 'B', k, n), () => (transB ? `[n, k] = [${n}, ${k}]` : `[k, n] = [${k}, ${n}]`));
    const ho = this.c.optional(M, 'out', out, product(M, 'C', m, n), () => `[m, n] = [${m}, ${n}]`);
    const result = this.engine.gemm(ha, hb, ho, m, n, k, transA, transB, alpha, beta);
    return out ?? this.c.wrap(result, m * n);
  }

  unary(op: UnaryOp, x: BackendBuffer, param?: number, param2?: number, out?: BackendBuffer): BackendBuffer {
    const M = `unary(${String(op)})`;
    this.c.live(M);
    const code = UNARY_OPS.indexOf(op);
    if (code < 0) throw new ValueRangeError(`unary: op must be one of ${UNARY_OPS.join(', ')}, received ${String(op)}`);
    const hx = this.c.handle(M, 'x', x);
    const ho = this.c.optional(M, 'out', out, x.length, () => 'the length of x');
    let p = 0;
    let p2 = 0;
    if (op === 'scale') p = real(M, 'param', param ?? 1, false);
    if (op === 'clamp') {
      p = param === undefined ? Number.NEGATIVE_INFINITY : real(M, 'param', param, false);
      p2 = param2 === undefined ? Number.POSITIVE_INFINITY : real(M, 'param2', param2, false);
    }
    const result = this.engine.unary(code, hx, ho, p, p2);
    return out ?? this.c.wrap(result, x.length);
  }

  binary(
    op: BinaryOp,
    a: BackendBuffer,
    aStrides: readonly number[],
    b: BackendBuffer,
    bStrides: readonly number[],
    outShape: readonly number[],
  ): BackendBuffer {
    const M = `binary(${String(op)})`;
    this.c.live(M);
    const code = BINARY_OPS.indexOf(op);
    if (code < 0) throw new ValueRangeError(`binary: op must be one of ${BINARY_OPS.join(', ')}, received ${String(op)}`);
    const shape = shapeOf(M, 'outShape', outShape);
    const as = shapeOf(M, 'aStrides', aStrides);
    const bs = shapeOf(M, 'bStrides', bStrides);
    if (as.length !== shape.length || bs.length !== shape.length) {
      throw new ShapeError(
        `${M}: strides must have the rank of outShape ${describeShape(shape)}, received ${describeShape(as)} and ${describeShape(bs)}`,
      );
    }
    const size = sizeOf(M, 'outShape', shape);
    const ha = this.c.handle(M, 'a', a);
    const hb = this.c.handle(M, 'b', b);
    if (size > 0) {
      const reach = (strides: number[]) => strides.reduce((s, st, d) => s + st * (shape[d] - 1), 0);
      if (reach(as) >= a.length)
        throw new ShapeError(`${M}: aStrides ${describeShape(as)} over ${describeShape(shape)} reach past a's ${a.length} elements`);
      if (reach(bs) >= b.length)
        throw new ShapeError(`${M}: bStrides ${describeShape(bs)} over ${describeShape(shape)} reach past b's ${b.length} elements`);
    }
    return this.c.wrap(this.engine.binary(code, ha, as, hb, bs, shape), size);
  }

  sumTo(x: BackendBuffer, inShape: readonly number[], outShape: readonly number[]): BackendBuffer {
    const M = 'sumTo';
    this.c.live(M);
    const ins = shapeOf(M, 'inShape', inShape);
    const outs = shapeOf(M, 'outShape', outShape);
    if (ins.length !== outs.length || outs.some((d, i) => d !== ins[i] && d !== 1)) {
      throw new ShapeError(
        `sumTo: outShape ${describeShape(outs)} must have the rank of inShape ${describeShape(ins)} with each dimension equal or 1`,
      );
    }
    const hx = this.c.sized(M, 'x', x, sizeOf(M, 'inShape', ins), () => `inShape ${describeShape(ins)}`);
    return this.c.wrap(this.engine.sumTo(hx, ins, outs), sizeOf(M, 'outShape', outs));
  }

  sumOfSquares(buffers: readonly BackendBuffer[]): BackendBuffer {
    const M = 'sumOfSquares';
    this.c.live(M);
    if (!Array.isArray(buffers)) throw new ShapeError('sumOfSquares: buffers must be an array');
    return this.c.wrap(this.engine.sumOfSquares(buffers.map((b, i) => this.c.handle(M, `buffers[${i}]`, b))), 1);
  }

  // --- data movement ------------------------------------------------------------------------

  permute(x: BackendBuffer, shape: readonly number[], perm: readonly number[]): BackendBuffer {
    const M = 'permute';
    this.c.live(M);
    const s = shapeOf(M, 'shape', shape);
    const p = shapeOf(M, 'perm', perm);
    if (p.length !== s.length || new Set(p).size !== p.length || p.some((axis) => axis >= s.length)) {
      throw new ValueRangeError(`permute: perm ${describeShape(p)} must be a permutation of the ${s.length} axes`);
    }
    const hx = this.c.sized(M, 'x', x, sizeOf(M, 'shape', s), () => `shape ${describeShape(s)}`);
    return this.c.wrap(this.engine.permute(hx, s, p), x.length);
  }

  concat(xs: readonly BackendBuffer[], shapes: readonly (readonly number[])[], axis: number): BackendBuffer {
    const M = 'concat';
    this.c.live(M);
    if (!Array.isArray(xs) || !Array.isArray(shapes) || xs.length === 0 || xs.length !== shapes.length) {
      throw new ShapeError('concat: need a non-empty array of buffers and one shape per buffer');
    }
    const ss = shapes.map((s, i) => shapeOf(M, `shapes[${i}]`, s));
    const rank = ss[0].length;
    count(M, 'axis', axis);
    if (axis >= rank) throw new ValueRangeError(`concat: axis ${axis} outside a rank-${rank} shape`);
    for (let i = 1; i < ss.length; i++) {
      if (ss[i].length !== rank || ss[i].some((d, j) => j !== axis && d !== ss[0][j])) {
        throw new ShapeError(
          `concat: shapes[${i}] ${describeShape(ss[i])} must match shapes[0] ${describeShape(ss[0])} except on axis ${axis}`,
        );
      }
    }
    const handles = xs.map((x, i) =>
      this.c.sized(M, `xs[${i}]`, x, sizeOf(M, `shapes[${i}]`, ss[i]), () => `shape ${describeShape(ss[i])}`),
    );
    const total = product(
      M,
      'the result',
      xs.reduce((t, x) => t + x.length, 0),
    );
    return this.c.wrap(this.engine.concat(handles, ss, axis), total);
  }

  slice(x: BackendBuffer, shape: readonly number[], axis: number, start: number, length: number): BackendBuffer {
    const M = 'slice';
    this.c.live(M);
    const s = shapeOf(M, 'shape', shape);
    count(M, 'axis', axis);
    if (axis >= s.length) throw new ValueRangeError(`slice: axis ${axis} outside a rank-${s.length} shape`);
    count(M, 'start', start);
    count(M, 'length', length);
    if (start + length > s[axis])
      throw new ValueRangeError(`slice: [${start}, ${start + length}) lies outside axis ${axis} of size ${s[axis]}`);
    const hx = this.c.sized(M, 'x', x, sizeOf(M, 'shape', s), () => `shape ${describeShape(s)}`);
    const outLength = (x.length / (s[axis] || 1)) * length;
    return this.c.wrap(this.engine.slice(hx, s, axis, start, length), s[axis] === 0 ? 0 : outLength);
  }

  gatherRows(x: BackendBuffer, width: number, index: Int32Array): BackendBuffer {
    const M = 'gatherRows';
    this.c.live(M);
    count(M, 'width', width);
    const hx = this.c.handle(M, 'x', x);
    if (width === 0 ? x.length !== 0 : x.length % width !== 0)
      throw new ShapeError(`gatherRows: x has ${x.length} elements, not a multiple of width ${width}`);
    const idx = int32Array(M, 'index', index);
    indicesInRange(M, 'index', idx, width === 0 ? 0 : x.length / width);
    return this.c.wrap(this.engine.gatherRows(hx, width, idx), product(M, 'the result', idx.length, width));
  }

  scatterAddRows(g: BackendBuffer, width: number, index: Int32Array, rows: number): BackendBuffer {
    const M = 'scatterAddRows';
    this.c.live(M);
    count(M, 'width', width);
    count(M, 'rows', rows);
    const idx = int32Array(M, 'index', index);
    const hg = this.c.sized(M, 'g', g, product(M, 'g', idx.length, width), () => `[index.length, width] = [${idx.length}, ${width}]`);
    indicesInRange(M, 'index', idx, rows);
    return this.c.wrap(this.engine.scatterAddRows(hg, width, idx, rows), product(M, 'the result', rows, width));
  }

  // --- fused kernels ------------------------------------------------------------------------

  cellForward(kind: CellKind, args: CellForwardArgs): CellForwardResult {
    return cellForward(this.c, kind, args);
  }

  cellBackward(kind: CellKind, args: CellBackwardArgs): CellBackwardResult {
    return cellBackward(this.c, kind, args);
  }

  softmaxCrossEntropy(args: CrossEntropyArgs): { loss: BackendBuffer; dLogits: BackendBuffer } {
    const M = 'softmaxCrossEntropy';
    this.c.live(M);
    const rows = count(M, 'rows', args.rows);
    const classes = count(M, 'classes', args.classes);
    const logits = this.c.sized(
      M,
      'logits',
      args.logits,
      product(M, 'logits', rows, classes),
      () => `[rows, classes] = [${rows}, ${classes}]`,
    );
    const targets = int32Array(M, 'targets', args.targets);
    if (targets.length !== rows) throw new ShapeError(`${M}: targets must have one entry per row (${rows}), received ${targets.length}`);
    const ignoreIndex = real(M, 'ignoreIndex', args.ignoreIndex);
    for (let i = 0; i < rows; i++) {
      const t = targets[i];
      if (t !== ignoreIndex && (t < 0 || t >= classes))
        throw new ValueRangeError(`${M}: targets[${i}] = ${t} lies outside [0, ${classes}) and is not the ignore index ${ignoreIndex}`);
    }
    const countRows = real(M, 'count', args.count);
    if (countRows <= 0) throw new ValueRangeError(`${M}: count must be positive, received ${countRows}`);
    const [loss, dLogits] = this.engine.softmaxCrossEntropy(rows, classes, logits, targets, ignoreIndex, countRows);
    return { loss: this.c.wrap(loss, 1), dLogits: this.c.wrap(dLogits, rows * classes) };
  }

  optimizerStep(update: OptimizerUpdate, param: BackendBuffer, grad: BackendBuffer, state: readonly BackendBuffer[]): void {
    const M = `optimizerStep(${String(update?.kind)})`;
    this.c.live(M);
    const hp = this.hyper;
    const { kind, stateCount } = optimizerCall(M, update, hp);
    const hParam = this.c.handle(M, 'param', param);
    const hGrad = this.c.sized(M, 'grad', grad, param.length, () => 'the length of param');
    if (!Array.isArray(state) || state.length < stateCount)
      throw new ShapeError(`${M}: expected ${stateCount} state buffers, received ${Array.isArray(state) ? state.length : String(state)}`);
    const hState = state.map((s, i) => this.c.sized(M, `state[${i}]`, s, param.length, () => 'the length of param'));
    this.engine.optimizerStep(kind, hp, hParam, hGrad, hState);
  }

  // --- fused sequence -----------------------------------------------------------------------

  sequenceForward(args: SequenceForwardArgs): SequenceForwardResult {
    return sequenceForward(this.c, args);
  }

  sequenceBackward(args: SequenceBackwardArgs): SequenceBackwardResult {
    return sequenceBackward(this.c, args);
  }

  sequenceStackForward(args: SequenceStackForwardArgs): SequenceStackForwardResult {
    return sequenceStackForward(this.c, args);
  }
}
