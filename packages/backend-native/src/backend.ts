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
  DisposedTensorError,
  describeShape,
  GATE_COUNT,
  type GemmOptions,
  type OptimizerUpdate,
  RecurError,
  type SequenceBackwardArgs,
  type SequenceBackwardResult,
  type SequenceForwardArgs,
  type SequenceForwardResult,
  ShapeError,
  type UnaryOp,
  ValueRangeError,
} from '@recur/core';
import type { NativeAddon, NativeEngine, NativeHandle, SequenceCallArgs } from './addon.js';
import { NativeBuffer } from './buffer.js';
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
const CELL_KINDS: readonly CellKind[] = ['tanh', 'relu', 'lstm', 'gru', 'ugrnn'];
/** Blocks of `hidden` values saved per batch row by a cell's forward (layout in src/native/cells.h). */
const SAVED_BLOCKS: Readonly<Record<CellKind, number>> = { tanh: 1, relu: 1, lstm: 5, gru: 4, ugrnn: 2 };

function cellCode(method: string, kind: unknown): number {
  const code = CELL_KINDS.indexOf(kind as CellKind);
  if (code < 0) throw new ValueRangeError(`${method}: kind must be one of ${CELL_KINDS.join(', ')}, received ${String(kind)}`);
  return code;
}

/** Length of `sequenceForward`'s `saved` workspace: cells [T,B,S·H], hs [T+1,B,H], cs (LSTM). */
export function sequenceSavedLength(kind: CellKind, steps: number, batch: number, hidden: number): number {
  const states = (steps + 1) * batch * hidden;
  return steps * batch * SAVED_BLOCKS[kind] * hidden + (kind === 'lstm' ? 2 : 1) * states;
}

export class NativeBackend implements Backend {
  readonly name = 'native';
  readonly dtype = 'float32' as const;
  readonly description: string;
  /** Threads used by BLAS and the kernels. */
  readonly threads: number;
  private readonly engine: NativeEngine;
  private destroyed = false;
  /** Reused for optimizer hyper-parameters (C++ copies them during the call). */
  private readonly hyper = new Float64Array(8);

  constructor(addon: NativeAddon, options: NativeBackendOptions = {}) {
    const threads = options.threads === undefined ? availableParallelism() : options.threads;
    count('createBackend(native)', 'threads', threads, 1024);
    if (threads < 1) throw new ValueRangeError(`createBackend(native): threads must be at least 1, received ${threads}`);
    this.engine = new addon.NativeBackend(threads);
    this.threads = this.engine.threads;
    this.description = `native C++ (${this.engine.blas}; ${this.threads} threads; ${addon.simd}${addon.sanitized ? '; ASan+UBSan' : ''}; float32)`;
  }

  supports(feature: BackendFeature): boolean {
    return feature === 'fusedSequence';
  }

  // --- ownership ----------------------------------------------------------------------------

  private live(method: string): void {
    if (this.destroyed) throw new RecurError(`${method}: the native backend was destroyed`);
  }

  /** The handle of a live buffer made by this backend. */
  private h(method: string, name: string, buffer: unknown): NativeHandle {
    if (!(buffer instanceof NativeBuffer)) {
      throw new BackendMismatchError(
        `${method}: ${name} is not a buffer of the native backend (received ${buffer === null ? 'null' : typeof buffer === 'object' ? (buffer as object).constructor?.name : typeof buffer})`,
      );
    }
    if (buffer.owner !== this) throw new BackendMismatchError(`${method}: ${name} belongs to another native backend instance`);
    if (buffer.handle === null) throw new DisposedTensorError(`${method}: ${name} was disposed (${buffer.length} elements)`);
    return buffer.handle;
  }

  /** The handle of a buffer of exactly `length` elements. */
  private sized(method: string, name: string, buffer: unknown, length: number, what?: string): NativeHandle {
    const handle = this.h(method, name, buffer);
    const actual = (buffer as NativeBuffer).length;
    if (actual !== length)
      throw new ShapeError(`${method}: ${name} must have ${length} elements${what ? ` (${what})` : ''}, received ${actual}`);
    return handle;
  }

  private optional(method: string, name: string, buffer: unknown, length: number, what?: string): NativeHandle | null {
    return buffer === undefined || buffer === null ? null : this.sized(method, name, buffer, length, what);
  }

  private wrap(handle: NativeHandle, length: number): NativeBuffer {
    return new NativeBuffer(this, handle, length);
  }

  // --- memory -------------------------------------------------------------------------------

  upload(data: ArrayLike<number>): BackendBuffer {
    this.live('upload');
    if (data === null || typeof data !== 'object' || typeof data.length !== 'number')
      throw new ShapeError(`upload: data must be an array-like of numbers, received ${String(data)}`);
    count('upload', 'data.length', data.length);
    const array = data instanceof Float32Array ? data : Float32Array.from(data);
    return this.wrap(this.engine.upload(array), array.length);
  }

  fill(length: number, value: number): BackendBuffer {
    this.live('fill');
    count('fill', 'length', length);
    real('fill', 'value', value, false);
    return this.wrap(this.engine.fill(length, value), length);
  }

  read(buffer: BackendBuffer): Promise<Float32Array> {
    try {
      this.live('read');
      return this.engine.read(this.h('read', 'buffer', buffer));
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
    if (this.destroyed) return Promise.resolve();
    return this.engine.sync();
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.engine.destroy();
  }

  // --- dense math ---------------------------------------------------------------------------

  gemm(a: BackendBuffer, b: BackendBuffer, options: GemmOptions, out?: BackendBuffer): BackendBuffer {
    const M = 'gemm';
    this.live(M);
    if (options === null || typeof options !== 'object') throw new ValueRangeError('gemm: options must be an object');
    const m = count(M, 'm', options.m);
    const n = count(M, 'n', options.n);
    const k = count(M, 'k', options.k);
    const alpha = real(M, 'alpha', options.alpha ?? 1, false);
    const beta = real(M, 'beta', options.beta ?? 0, false);
    const transA = options.transA === true;
    const transB = options.transB === true;
    const ha = this.sized(M, 'a', a, product(M, 'A', m, k), transA ? `[k, m] = [${k}, ${m}]` : `[m, k] = [${m}, ${k}]`);
    const hb = this.sized(M, 'b', b, product(M, 'B', k, n), transB ? `[n, k] = [${n}, ${k}]` : `[k, n] = [${k}, ${n}]`);
    const ho = this.optional(M, 'out', out, product(M, 'C', m, n), `[m, n] = [${m}, ${n}]`);
    const result = this.engine.gemm(ha, hb, ho, m, n, k, transA, transB, alpha, beta);
    return out ?? this.wrap(result, m * n);
  }

  unary(op: UnaryOp, x: BackendBuffer, param?: number, param2?: number, out?: BackendBuffer): BackendBuffer {
    const M = `unary(${String(op)})`;
    this.live(M);
    const code = UNARY_OPS.indexOf(op);
    if (code < 0) throw new ValueRangeError(`unary: op must be one of ${UNARY_OPS.join(', ')}, received ${String(op)}`);
    const hx = this.h(M, 'x', x);
    const ho = this.optional(M, 'out', out, x.length, 'the length of x');
    let p = 0;
    let p2 = 0;
    if (op === 'scale') p = real(M, 'param', param ?? 1, false);
    if (op === 'clamp') {
      p = param === undefined ? Number.NEGATIVE_INFINITY : real(M, 'param', param, false);
      p2 = param2 === undefined ? Number.POSITIVE_INFINITY : real(M, 'param2', param2, false);
    }
    const result = this.engine.unary(code, hx, ho, p, p2);
    return out ?? this.wrap(result, x.length);
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
    this.live(M);
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
    const ha = this.h(M, 'a', a);
    const hb = this.h(M, 'b', b);
    if (size > 0) {
      const reach = (strides: number[]) => strides.reduce((s, st, d) => s + st * (shape[d] - 1), 0);
      if (reach(as) >= a.length)
        throw new ShapeError(`${M}: aStrides ${describeShape(as)} over ${describeShape(shape)} reach past a's ${a.length} elements`);
      if (reach(bs) >= b.length)
        throw new ShapeError(`${M}: bStrides ${describeShape(bs)} over ${describeShape(shape)} reach past b's ${b.length} elements`);
    }
    return this.wrap(this.engine.binary(code, ha, as, hb, bs, shape), size);
  }

  sumTo(x: BackendBuffer, inShape: readonly number[], outShape: readonly number[]): BackendBuffer {
    const M = 'sumTo';
    this.live(M);
    const ins = shapeOf(M, 'inShape', inShape);
    const outs = shapeOf(M, 'outShape', outShape);
    if (ins.length !== outs.length || outs.some((d, i) => d !== ins[i] && d !== 1)) {
      throw new ShapeError(
        `sumTo: outShape ${describeShape(outs)} must have the rank of inShape ${describeShape(ins)} with each dimension equal or 1`,
      );
    }
    const hx = this.sized(M, 'x', x, sizeOf(M, 'inShape', ins), `inShape ${describeShape(ins)}`);
    return this.wrap(this.engine.sumTo(hx, ins, outs), sizeOf(M, 'outShape', outs));
  }

  sumOfSquares(buffers: readonly BackendBuffer[]): BackendBuffer {
    const M = 'sumOfSquares';
    this.live(M);
    if (!Array.isArray(buffers)) throw new ShapeError('sumOfSquares: buffers must be an array');
    return this.wrap(this.engine.sumOfSquares(buffers.map((b, i) => this.h(M, `buffers[${i}]`, b))), 1);
  }

  // --- data movement ------------------------------------------------------------------------

  permute(x: BackendBuffer, shape: readonly number[], perm: readonly number[]): BackendBuffer {
    const M = 'permute';
    this.live(M);
    const s = shapeOf(M, 'shape', shape);
    const p = shapeOf(M, 'perm', perm);
    if (p.length !== s.length || new Set(p).size !== p.length || p.some((axis) => axis >= s.length)) {
      throw new ValueRangeError(`permute: perm ${describeShape(p)} must be a permutation of the ${s.length} axes`);
    }
    const hx = this.sized(M, 'x', x, sizeOf(M, 'shape', s), `shape ${describeShape(s)}`);
    return this.wrap(this.engine.permute(hx, s, p), x.length);
  }

  concat(xs: readonly BackendBuffer[], shapes: readonly (readonly number[])[], axis: number): BackendBuffer {
    const M = 'concat';
    this.live(M);
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
    const handles = xs.map((x, i) => this.sized(M, `xs[${i}]`, x, sizeOf(M, `shapes[${i}]`, ss[i]), `shape ${describeShape(ss[i])}`));
    const total = product(
      M,
      'the result',
      xs.reduce((t, x) => t + x.length, 0),
    );
    return this.wrap(this.engine.concat(handles, ss, axis), total);
  }

  slice(x: BackendBuffer, shape: readonly number[], axis: number, start: number, length: number): BackendBuffer {
    const M = 'slice';
    this.live(M);
    const s = shapeOf(M, 'shape', shape);
    count(M, 'axis', axis);
    if (axis >= s.length) throw new ValueRangeError(`slice: axis ${axis} outside a rank-${s.length} shape`);
    count(M, 'start', start);
    count(M, 'length', length);
    if (start + length > s[axis])
      throw new ValueRangeError(`slice: [${start}, ${start + length}) lies outside axis ${axis} of size ${s[axis]}`);
    const hx = this.sized(M, 'x', x, sizeOf(M, 'shape', s), `shape ${describeShape(s)}`);
    const outLength = (x.length / (s[axis] || 1)) * length;
    return this.wrap(this.engine.slice(hx, s, axis, start, length), s[axis] === 0 ? 0 : outLength);
  }

  gatherRows(x: BackendBuffer, width: number, index: Int32Array): BackendBuffer {
    const M = 'gatherRows';
    this.live(M);
    count(M, 'width', width);
    const hx = this.h(M, 'x', x);
    if (width === 0 ? x.length !== 0 : x.length % width !== 0)
      throw new ShapeError(`gatherRows: x has ${x.length} elements, not a multiple of width ${width}`);
    const idx = int32Array(M, 'index', index);
    indicesInRange(M, 'index', idx, width === 0 ? 0 : x.length / width);
    return this.wrap(this.engine.gatherRows(hx, width, idx), product(M, 'the result', idx.length, width));
  }

  scatterAddRows(g: BackendBuffer, width: number, index: Int32Array, rows: number): BackendBuffer {
    const M = 'scatterAddRows';
    this.live(M);
    count(M, 'width', width);
    count(M, 'rows', rows);
    const idx = int32Array(M, 'index', index);
    const hg = this.sized(M, 'g', g, product(M, 'g', idx.length, width), `[index.length, width] = [${idx.length}, ${width}]`);
    indicesInRange(M, 'index', idx, rows);
    return this.wrap(this.engine.scatterAddRows(hg, width, idx, rows), product(M, 'the result', rows, width));
  }

  // --- fused kernels ------------------------------------------------------------------------

  cellForward(kind: CellKind, args: CellForwardArgs): CellForwardResult {
    const M = `cellForward(${String(kind)})`;
    this.live(M);
    const code = cellCode(M, kind);
    const batch = count(M, 'batch', args.batch);
    const hidden = count(M, 'hidden', args.hidden);
    const width = product(M, 'gates', batch, GATE_COUNT[kind], hidden);
    const state = batch * hidden;
    const gx = this.sized(M, 'gx', args.gx, width, `[batch, ${GATE_COUNT[kind]}·hidden]`);
    const gh = this.sized(M, 'gh', args.gh, width, `[batch, ${GATE_COUNT[kind]}·hidden]`);
    const h = this.sized(M, 'h', args.h, state, '[batch, hidden]');
    const c = kind === 'lstm' ? this.optional(M, 'c', args.c, state, '[batch, hidden]') : null;
    const [hOut, cOut, saved] = this.engine.cellForward(code, batch, hidden, gx, gh, h, c);
    const result: CellForwardResult = { h: this.wrap(hOut, state), saved: this.wrap(saved, batch * SAVED_BLOCKS[kind] * hidden) };
    if (cOut) result.c = this.wrap(cOut, state);
    return result;
  }

  cellBackward(kind: CellKind, args: CellBackwardArgs): CellBackwardResult {
    const M = `cellBackward(${String(kind)})`;
    this.live(M);
    const code = cellCode(M, kind);
    const batch = count(M, 'batch', args.batch);
    const hidden = count(M, 'hidden', args.hidden);
    const width = product(M, 'gates', batch, GATE_COUNT[kind], hidden);
    const state = batch * hidden;
    const saved = this.sized(
      M,
      'saved',
      args.saved,
      product(M, 'saved', batch, SAVED_BLOCKS[kind], hidden),
      "the cell's forward workspace",
    );
    const h = this.sized(M, 'h', args.h, state, '[batch, hidden]');
    const c = kind === 'lstm' ? this.optional(M, 'c', args.c, state, '[batch, hidden]') : null;
    const dh = this.sized(M, 'dh', args.dh, state, '[batch, hidden]');
    const dc = kind === 'lstm' ? this.optional(M, 'dc', args.dc, state, '[batch, hidden]') : null;
    const [dgx, dgh, dhPrev, dcPrev] = this.engine.cellBackward(code, batch, hidden, saved, h, c, dh, dc);
    const result: CellBackwardResult = { dgx: this.wrap(dgx, width), dgh: this.wrap(dgh, width), dhPrev: this.wrap(dhPrev, state) };
    if (dcPrev) result.dcPrev = this.wrap(dcPrev, state);
    return result;
  }

  softmaxCrossEntropy(args: CrossEntropyArgs): { loss: BackendBuffer; dLogits: BackendBuffer } {
    const M = 'softmaxCrossEntropy';
    this.live(M);
    const rows = count(M, 'rows', args.rows);
    const classes = count(M, 'classes', args.classes);
    const logits = this.sized(M, 'logits', args.logits, product(M, 'logits', rows, classes), `[rows, classes] = [${rows}, ${classes}]`);
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
    return { loss: this.wrap(loss, 1), dLogits: this.wrap(dLogits, rows * classes) };
  }

  optimizerStep(update: OptimizerUpdate, param: BackendBuffer, grad: BackendBuffer, state: readonly BackendBuffer[]): void {
    const M = `optimizerStep(${String(update?.kind)})`;
    this.live(M);
    const hp = this.hyper;
    hp.fill(0);
    const num = (name: string, v: unknown) => real(M, name, v);
    let kind: number;
    let stateCount: number;
    switch (update?.kind) {
      case 'sgd':
        kind = 0;
        stateCount = 1;
        hp.set([
          num('lr', update.lr),
          num('momentum', update.momentum),
          num('dampening', update.dampening),
          num('weightDecay', update.weightDecay),
          update.nesterov ? 1 : 0,
          update.firstStep ? 1 : 0,
        ]);
        break;
      case 'adam':
        kind = 1;
        stateCount = 3;
        hp.set([
          num('lr', update.lr),
          num('beta1', update.beta1),
          num('beta2', update.beta2),
          num('eps', update.eps),
          num('weightDecay', update.weightDecay),
          update.decoupled ? 1 : 0,
          update.amsgrad ? 1 : 0,
          count(M, 'step', update.step),
        ]);
        if (update.step < 1) throw new ValueRangeError(`${M}: step is 1-based, received ${update.step}`);
        break;
      case 'rmsprop':
        kind = 2;
        stateCount = 3;
        hp.set([
          num('lr', update.lr),
          num('alpha', update.alpha),
          num('eps', update.eps),
          num('weightDecay', update.weightDecay),
          num('momentum', update.momentum),
          update.centered ? 1 : 0,
        ]);
        break;
      default:
        throw new ValueRangeError(
          `optimizerStep: update.kind must be sgd, adam or rmsprop, received ${String((update as { kind?: unknown })?.kind)}`,
        );
    }
    const hParam = this.h(M, 'param', param);
    const hGrad = this.sized(M, 'grad', grad, param.length, 'the length of param');
    if (!Array.isArray(state) || state.length < stateCount)
      throw new ShapeError(`${M}: expected ${stateCount} state buffers, received ${Array.isArray(state) ? state.length : String(state)}`);
    const hState = state.map((s, i) => this.sized(M, `state[${i}]`, s, param.length, 'the length of param'));
    this.engine.optimizerStep(kind, hp, hParam, hGrad, hState);
  }

  // --- fused sequence -----------------------------------------------------------------------

  private sequenceCall(M: string, args: SequenceForwardArgs): SequenceCallArgs {
    this.live(M);
    const code = cellCode(M, args.kind);
    const T = count(M, 'steps', args.steps);
    const B = count(M, 'batch', args.batch);
    const I = count(M, 'inputSize', args.inputSize);
    const H = count(M, 'hidden', args.hidden);
    const GH = product(M, 'gate rows', GATE_COUNT[args.kind], H);
    product(M, 'the saved workspace', sequenceSavedLength(args.kind, T, B, H));
    product(M, 'the input projection', T, B, GH);
    const x = this.sized(M, 'x', args.x, product(M, 'x', T, B, I), `[steps, batch, inputSize] = [${T}, ${B}, ${I}]`);
    const wIh = this.sized(M, 'wIh', args.wIh, product(M, 'wIh', GH, I), `[G·hidden, inputSize] = [${GH}, ${I}]`);
    const wHh = this.sized(M, 'wHh', args.wHh, product(M, 'wHh', GH, H), `[G·hidden, hidden] = [${GH}, ${H}]`);
    const bIh = this.optional(M, 'bIh', args.bIh, GH, '[G·hidden]');
    const bHh = this.optional(M, 'bHh', args.bHh, GH, '[G·hidden]');
    const h0 = this.sized(M, 'h0', args.h0, B * H, `[batch, hidden] = [${B}, ${H}]`);
    const c0 = args.kind === 'lstm' ? this.optional(M, 'c0', args.c0, B * H, `[batch, hidden] = [${B}, ${H}]`) : null;
    let lengths: Int32Array | null = null;
    if (args.lengths !== undefined && args.lengths !== null) {
      lengths = int32Array(M, 'lengths', args.lengths);
      if (lengths.length !== B) throw new ShapeError(`${M}: lengths must have one entry per batch row (${B}), received ${lengths.length}`);
      indicesInRange(M, 'lengths', lengths, T + 1);
    }
    return [code, T, B, I, H, x, wIh, wHh, bIh, bHh, h0, c0, lengths];
  }

  sequenceForward(args: SequenceForwardArgs): SequenceForwardResult {
    const M = `sequenceForward(${String(args?.kind)})`;
    const call = this.sequenceCall(M, args);
    const { kind, steps: T, batch: B, hidden: H } = args;
    const [output, hN, cN, saved] = this.engine.sequenceForward(...call);
    const result: SequenceForwardResult = {
      output: this.wrap(output, T * B * H),
      hN: this.wrap(hN, B * H),
      saved: this.wrap(saved, sequenceSavedLength(kind, T, B, H)),
    };
    if (cN) result.cN = this.wrap(cN, B * H);
    return result;
  }

  sequenceBackward(args: SequenceBackwardArgs): SequenceBackwardResult {
    const M = `sequenceBackward(${String(args?.kind)})`;
    const call = this.sequenceCall(M, args);
    const { kind, steps: T, batch: B, inputSize: I, hidden: H } = args;
    const GH = GATE_COUNT[kind] * H;
    const saved = this.sized(M, 'saved', args.saved, sequenceSavedLength(kind, T, B, H), "the forward call's workspace");
    const dOutput = this.sized(M, 'dOutput', args.dOutput, T * B * H, `[steps, batch, hidden] = [${T}, ${B}, ${H}]`);
    const dhN = this.sized(M, 'dhN', args.dhN, B * H, `[batch, hidden] = [${B}, ${H}]`);
    const dcN = kind === 'lstm' ? this.optional(M, 'dcN', args.dcN, B * H, `[batch, hidden] = [${B}, ${H}]`) : null;
    const [dx, dWIh, dWHh, dBIh, dBHh, dh0, dc0] = this.engine.sequenceBackward(...call, saved, dOutput, dhN, dcN);
    const result: SequenceBackwardResult = {
      dx: this.wrap(dx, T * B * I),
      dWIh: this.wrap(dWIh, GH * I),
      dWHh: this.wrap(dWHh, GH * H),
      dh0: this.wrap(dh0, B * H),
    };
    if (dBIh) result.dBIh = this.wrap(dBIh, GH);
    if (dBHh) result.dBHh = this.wrap(dBHh, GH);
    if (dc0) result.dc0 = this.wrap(dc0, B * H);
    return result;
  }
}
