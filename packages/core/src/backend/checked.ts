/**
 * `checkedBackend(backend)`: the Backend contract as code. Every call is validated (buffer
 * ownership and liveness, the lengths the sizes imply, op names, index ranges, hyper-parameters,
 * the allocation limit) before it reaches the backend, and lifecycle rules (`dispose` of a
 * foreign buffer, calls after `destroy`) are enforced here once, so every backend gives the same
 * typed error for the same misuse and a backend's own code may assume well-formed calls.
 * `createBackend` returns this form; core passes every backend it is given through it.
 */
import { BackendDestroyedError, ShapeError, ValueRangeError } from '../errors.js';
import { assertArrayLikeOfNumbers } from '../options.js';
import { checkedFused } from './checked-fused.js';
import { BufferLedger, dims, finite, indices, integer, notNaN, object, oneOf, optionalBoolean } from './checks.js';
import { BINARY_OPS, UNARY_OPS } from './constants.js';
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
  FloatArray,
  FusedKernels,
  GemmOptions,
  OptimizerUpdate,
  UnaryOp,
} from './interface.js';
import { checkCellSizes, checkCrossEntropy, checkGates, checkOptimizerStep, checkStateGradients } from './kernel-checks.js';

/** Buffers a backend holds for its caller (`memory()`). */
export interface MemoryInfo {
  /** Live buffers: made and not yet disposed. */
  buffers: number;
  /** Their total size in bytes (elements × bytes per element; pooled backends may hold more). */
  bytes: number;
}

const wrappers = new WeakMap<Backend, CheckedBackend>();

/**
 * The checked form of `backend` (itself when it is already checked). One wrapper exists per
 * backend instance, so tensors made through either name share a backend. Every tensor creation
 * passes through here, so a wrapper is recognised by a field pointing at itself: an object that
 * merely inherits from one (`Object.create(wrapper)`, a patched test double) is not one.
 */
export function checkedBackend(backend: Backend): CheckedBackend {
  if ((backend as { self?: unknown }).self === backend) return backend as CheckedBackend;
  let wrapper = wrappers.get(backend);
  if (!wrapper) {
    wrapper = new CheckedBackend(backend);
    wrappers.set(backend, wrapper);
  }
  return wrapper;
}

function rejection(error: unknown): Promise<never> {
  return Promise.reject(error);
}

export class CheckedBackend implements Backend {
  readonly name: string;
  readonly dtype: Backend['dtype'];
  readonly maxBufferLength: number;
  readonly fused: FusedKernels;
  readonly blocking: BlockingReads | undefined;
  private readonly ledger: BufferLedger;
  /** Itself: how `checkedBackend` tells a wrapper from an object that inherits from one. */
  readonly self: CheckedBackend = this;
  /** Where each `saved` of `cellForward` came from: its layout is the backend's, so only its provenance is checkable. */
  private readonly cellSaved = new WeakMap<BackendBuffer, string>();

  /** Use `checkedBackend(backend)`, which keeps one wrapper per backend. */
  constructor(
    /** The wrapped implementation (no checks): for backend tests and tools, never for user code. */
    readonly unchecked: Backend,
  ) {
    this.name = unchecked.name;
    this.dtype = unchecked.dtype;
    this.maxBufferLength = unchecked.maxBufferLength;
    this.ledger = new BufferLedger(unchecked);
    this.fused = checkedFused(unchecked, this.ledger);
    const blocking = unchecked.blocking;
    // Checked as `read` is; an exception is thrown, not returned as a rejected Promise.
    this.blocking = blocking && {
      read: (buffer) => {
        this.ledger.alive('blocking.read');
        return blocking.read(this.ledger.owned('blocking.read', 'buffer', buffer));
      },
    };
  }

  get description(): string {
    return this.unchecked.description;
  }

  /** The buffers this backend currently holds for its callers. */
  memory(): MemoryInfo {
    return { buffers: this.ledger.liveBuffers, bytes: this.ledger.liveBytes };
  }

  // --- memory -------------------------------------------------------------------------------

  upload(data: ArrayLike<number>): BackendBuffer {
    const M = 'upload';
    this.ledger.alive(M);
    if (data === null || typeof data !== 'object' || typeof data.length !== 'number') {
      throw new ShapeError(`${M}: data must be an array or typed array of numbers, received ${String(data)}`);
    }
    integer(M, 'data.length', data.length);
    // Typed arrays pass at once; core's tensor() hands over only typed arrays, so only direct callers' arrays are scanned.
    assertArrayLikeOfNumbers(data, `${M}: data`);
    this.ledger.allocation(M, 'the buffer', data.length);
    return this.ledger.adopt(this.unchecked.upload(data));
  }

  fill(length: number, value: number): BackendBuffer {
    const M = 'fill';
    this.ledger.alive(M);
    integer(M, 'length', length);
    if (typeof value !== 'number') throw new ValueRangeError(`${M}: value must be a number, received ${typeof value}`);
    this.ledger.allocation(M, 'the buffer', length);
    return this.ledger.adopt(this.unchecked.fill(length, value));
  }

  read(buffer: BackendBuffer): Promise<FloatArray> {
    try {
      this.ledger.alive('read');
      return this.unchecked.read(this.ledger.owned('read', 'buffer', buffer));
    } catch (error) {
      return rejection(error);
    }
  }

  dispose(buffer: BackendBuffer): void {
    if (this.ledger.destroyed) return;
    if (this.ledger.release('dispose', buffer)) this.unchecked.dispose(buffer);
  }

  sync(): Promise<void> {
    if (this.ledger.destroyed) return rejection(new BackendDestroyedError(`sync: the ${this.name} backend was destroyed`));
    return this.unchecked.sync();
  }

  destroy(): void {
    if (this.ledger.destroyed) return;
    this.ledger.destroyed = true;
    this.unchecked.destroy();
  }

  // --- dense math ---------------------------------------------------------------------------

  gemm(a: BackendBuffer, b: BackendBuffer, options: GemmOptions, out?: BackendBuffer): BackendBuffer {
    const M = 'gemm';
    this.ledger.alive(M);
    object(M, 'options', options);
    const m = integer(M, 'm', options.m);
    const n = integer(M, 'n', options.n);
    const k = integer(M, 'k', options.k);
    optionalBoolean(M, 'transA', options.transA);
    optionalBoolean(M, 'transB', options.transB);
    if (options.alpha !== undefined) finite(M, 'alpha', options.alpha);
    if (options.beta !== undefined) finite(M, 'beta', options.beta);
    const { transA, transB } = options;
    this.ledger.sized(M, 'a', a, m * k, () => (transA ? `[k, m] = [${k}, ${m}]` : `[m, k] = [${m}, ${k}]`));
    this.ledger.sized(M, 'b', b, k * n, () => (transB ? `[n, k] = [${n}, ${k}]` : `[k, n] = [${k}, ${n}]`));
    if (out !== undefined) {
      this.ledger.sized(M, 'out', out, m * n, () => `[m, n] = [${m}, ${n}]`);
      if (out === a || out === b) throw new ShapeError(`${M}: out must not alias a or b`);
      return this.unchecked.gemm(a, b, options, out);
    }
    this.ledger.allocation(M, `the product [${m}, ${n}]`, m * n);
    return this.ledger.adopt(this.unchecked.gemm(a, b, options));
  }

  unary(op: UnaryOp, x: BackendBuffer, param?: number, param2?: number, out?: BackendBuffer): BackendBuffer {
    const M = 'unary';
    this.ledger.alive(M);
    oneOf(M, 'op', op, UNARY_OPS);
    this.ledger.owned(M, 'x', x);
    if (op === 'scale' && param !== undefined) finite(M, 'param (the scale factor)', param);
    if (op === 'clamp') {
      if (param !== undefined) notNaN(M, 'param (the lower bound)', param);
      if (param2 !== undefined) notNaN(M, 'param2 (the upper bound)', param2);
    }
    if (out !== undefined) {
      this.ledger.sized(M, 'out', out, x.length, () => 'the length of x');
      return this.unchecked.unary(op, x, param, param2, out);
    }
    this.ledger.allocation(M, 'the result', x.length);
    return this.ledger.adopt(this.unchecked.unary(op, x, param, param2));
  }

  binary(
    op: BinaryOp,
    a: BackendBuffer,
    aStrides: readonly number[],
    b: BackendBuffer,
    bStrides: readonly number[],
    outShape: readonly number[],
  ): BackendBuffer {
    const M = 'binary';
    this.ledger.alive(M);
    oneOf(M, 'op', op, BINARY_OPS);
    const size = dims(M, 'outShape', outShape);
    dims(M, 'aStrides', aStrides);
    dims(M, 'bStrides', bStrides);
    if (aStrides.length !== outShape.length || bStrides.length !== outShape.length) {
      throw new ShapeError(
        `${M}: aStrides and bStrides must have the rank of outShape (${outShape.length}), received ${aStrides.length} and ${bStrides.length}`,
      );
    }
    this.ledger.owned(M, 'a', a);
    this.ledger.owned(M, 'b', b);
    if (size > 0) {
      for (const [name, strides, operand] of [
        ['aStrides', aStrides, a],
        ['bStrides', bStrides, b],
      ] as const) {
        let last = 0;
        for (let d = 0; d < outShape.length; d++) last += strides[d] * (outShape[d] - 1);
        if (last >= operand.length) {
          throw new ShapeError(
            `${M}: ${name} [${strides.join(', ')}] over outShape [${outShape.join(', ')}] reach element ${last}, past the operand's ${operand.length}`,
          );
        }
      }
    }
    this.ledger.allocation(M, 'the result', size);
    return this.ledger.adopt(this.unchecked.binary(op, a, aStrides, b, bStrides, outShape));
  }

  sumTo(x: BackendBuffer, inShape: readonly number[], outShape: readonly number[]): BackendBuffer {
    const M = 'sumTo';
    this.ledger.alive(M);
    const inSize = dims(M, 'inShape', inShape);
    const outSize = dims(M, 'outShape', outShape);
    if (inShape.length !== outShape.length || outShape.some((d, i) => d !== inShape[i] && d !== 1)) {
      throw new ShapeError(
        `${M}: outShape [${outShape.join(', ')}] must have the rank of inShape [${inShape.join(', ')}] with each dimension equal to it or 1`,
      );
    }
    this.ledger.sized(M, 'x', x, inSize, () => `inShape [${inShape.join(', ')}]`);
    this.ledger.allocation(M, 'the result', outSize);
    return this.ledger.adopt(this.unchecked.sumTo(x, inShape, outShape));
  }

  sumOfSquares(buffers: readonly BackendBuffer[]): BackendBuffer {
    const M = 'sumOfSquares';
    this.ledger.alive(M);
    if (!Array.isArray(buffers)) throw new ShapeError(`${M}: buffers must be an array of buffers`);
    for (let i = 0; i < buffers.length; i++) this.ledger.owned(M, `buffers[${i}]`, buffers[i]);
    return this.ledger.adopt(this.unchecked.sumOfSquares(buffers));
  }

  // --- data movement ------------------------------------------------------------------------

  permute(x: BackendBuffer, shape: readonly number[], perm: readonly number[]): BackendBuffer {
    const M = 'permute';
    this.ledger.alive(M);
    const size = dims(M, 'shape', shape);
    dims(M, 'perm', perm);
    if (perm.length !== shape.length || new Set(perm).size !== perm.length || perm.some((axis) => axis >= shape.length)) {
      throw new ValueRangeError(`${M}: perm [${perm.join(', ')}] must be a permutation of the ${shape.length} axes`);
    }
    this.ledger.sized(M, 'x', x, size, () => `shape [${shape.join(', ')}]`);
    this.ledger.allocation(M, 'the result', size);
    return this.ledger.adopt(this.unchecked.permute(x, shape, perm));
  }

  concat(xs: readonly BackendBuffer[], shapes: readonly (readonly number[])[], axis: number): BackendBuffer {
    const M = 'concat';
    this.ledger.alive(M);
    if (!Array.isArray(xs) || !Array.isArray(shapes) || xs.length === 0 || xs.length !== shapes.length) {
      throw new ShapeError(`${M}: xs must be a non-empty array of buffers with one shape per buffer in shapes`);
    }
    const first: readonly number[] = Array.isArray(shapes[0]) ? shapes[0] : [];
    const rank = first.length;
    integer(M, 'axis', axis, 0, rank - 1);
    let total = 0;
    for (let i = 0; i < xs.length; i++) {
      const size = dims(M, `shapes[${i}]`, shapes[i]);
      const shape: readonly number[] = shapes[i];
      if (shape.length !== rank || shape.some((d, j) => j !== axis && d !== first[j])) {
        throw new ShapeError(`${M}: shapes[${i}] [${shape.join(', ')}] must match shapes[0] [${first.join(', ')}] except on axis ${axis}`);
      }
      this.ledger.sized(M, `xs[${i}]`, xs[i], size, () => `shapes[${i}]`);
      total += size;
    }
    this.ledger.allocation(M, 'the result', total);
    return this.ledger.adopt(this.unchecked.concat(xs, shapes, axis));
  }

  slice(x: BackendBuffer, shape: readonly number[], axis: number, start: number, length: number): BackendBuffer {
    const M = 'slice';
    this.ledger.alive(M);
    const size = dims(M, 'shape', shape);
    integer(M, 'axis', axis, 0, shape.length - 1);
    integer(M, 'start', start, 0, shape[axis]);
    integer(M, 'length', length, 0, shape[axis] - start);
    this.ledger.sized(M, 'x', x, size, () => `shape [${shape.join(', ')}]`);
    const result = shape[axis] === 0 ? 0 : (size / shape[axis]) * length;
    this.ledger.allocation(M, 'the result', result);
    return this.ledger.adopt(this.unchecked.slice(x, shape, axis, start, length));
  }

  gatherRows(x: BackendBuffer, width: number, index: Int32Array): BackendBuffer {
    const M = 'gatherRows';
    this.ledger.alive(M);
    integer(M, 'width', width);
    this.ledger.owned(M, 'x', x);
    if (width === 0 ? x.length !== 0 : x.length % width !== 0) {
      throw new ShapeError(`${M}: x has ${x.length} elements, not a whole number of rows of width ${width}`);
    }
    indices(M, 'index', index, 0, width === 0 ? 0 : x.length / width);
    this.ledger.allocation(M, 'the result', index.length * width);
    return this.ledger.adopt(this.unchecked.gatherRows(x, width, index));
  }

  scatterAddRows(g: BackendBuffer, width: number, index: Int32Array, rows: number): BackendBuffer {
    const M = 'scatterAddRows';
    this.ledger.alive(M);
    integer(M, 'width', width);
    integer(M, 'rows', rows);
    indices(M, 'index', index, 0, rows);
    this.ledger.sized(M, 'g', g, index.length * width, () => `[index.length, width] = [${index.length}, ${width}]`);
    this.ledger.allocation(M, 'the result', rows * width);
    return this.ledger.adopt(this.unchecked.scatterAddRows(g, width, index, rows));
  }

  // --- fused kernels ------------------------------------------------------------------------

  cellForward(kind: CellKind, args: CellForwardArgs): CellForwardResult {
    const M = 'cellForward';
    this.ledger.alive(M);
    const sizes = checkCellSizes(this.ledger, M, kind, args);
    checkGates(this.ledger, M, kind, sizes, args);
    this.ledger.allocation(M, 'the saved activations', sizes.saved);
    const result = this.unchecked.cellForward(kind, args);
    this.ledger.adopt(result.h);
    this.ledger.adopt(result.c);
    this.ledger.adopt(result.saved);
    this.cellSaved.set(result.saved, `${kind}, batch ${sizes.batch}, hidden ${sizes.hidden}`);
    return result;
  }

  cellBackward(kind: CellKind, args: CellBackwardArgs): CellBackwardResult {
    const M = 'cellBackward';
    this.ledger.alive(M);
    const sizes = checkCellSizes(this.ledger, M, kind, args);
    this.ledger.owned(M, 'saved', args.saved);
    const signature = `${kind}, batch ${sizes.batch}, hidden ${sizes.hidden}`;
    const from = this.cellSaved.get(args.saved);
    if (from !== signature) {
      throw new ShapeError(
        `${M}: saved must come from cellForward with the same kind and sizes (${signature}); ${from ? `it came from one with ${from}` : 'it did not come from cellForward'}`,
      );
    }
    checkStateGradients(this.ledger, M, kind, sizes, args);
    this.ledger.allocation(M, 'the gate gradients', sizes.gates);
    const result = this.unchecked.cellBackward(kind, args);
    this.ledger.adopt(result.dgx);
    this.ledger.adopt(result.dgh);
    this.ledger.adopt(result.dhPrev);
    this.ledger.adopt(result.dcPrev);
    return result;
  }

  softmaxCrossEntropy(args: CrossEntropyArgs): { loss: BackendBuffer; dLogits: BackendBuffer } {
    const M = 'softmaxCrossEntropy';
    this.ledger.alive(M);
    checkCrossEntropy(this.ledger, M, args);
    this.ledger.allocation(M, 'the logits gradient', args.rows * args.classes);
    const result = this.unchecked.softmaxCrossEntropy(args);
    this.ledger.adopt(result.loss);
    this.ledger.adopt(result.dLogits);
    return result;
  }

  optimizerStep(update: OptimizerUpdate, param: BackendBuffer, grad: BackendBuffer, state: readonly BackendBuffer[]): void {
    const M = 'optimizerStep';
    this.ledger.alive(M);
    checkOptimizerStep(this.ledger, M, update, param, grad, state);
    this.unchecked.optimizerStep(update, param, grad, state);
  }
}
