/**
 * The Backend interface, version 2: what a backend author implements. Users never call it
 * directly; they hold the checked form that `createBackend` returns (see `checkedBackend`).
 *
 * A backend owns memory (`BackendBuffer`s: flat arrays of its dtype) and runs coarse kernels on
 * it. Layouts are row-major (C order); gate blocks follow PyTorch's order (see `CELL_KINDS`).
 *
 * Execution: every compute method *enqueues* work and returns its result buffers at once; a
 * backend may run the work later (a GPU queue, a worker thread) as long as work runs in call
 * order. Only `read` and `sync` wait, and they are the only async methods; they settle from a
 * task of the event loop, never as a microtask of the call, so a loop that awaits only them
 * still lets timers, I/O and finalization callbacks run. A synchronous backend (the JS
 * reference) simply runs each call immediately. A backend that can wait by blocking the thread
 * offers `blocking.read` as well.
 *
 * Ownership: every buffer a method returns is new and owned by the caller, who releases it
 * with `dispose`. Methods never dispose or retain their inputs. Methods that take an `out`
 * buffer (or, for `optimizerStep`, the parameter and its state) write into buffers the caller
 * passed; `out` may alias an input only where the method says so.
 *
 * ## Errors and lifecycle
 *
 * Who checks what:
 * - Core validates every argument it derives from user input (shapes, index ranges, options)
 *   before it calls a backend, and `checkedBackend` (which `createBackend` applies to every
 *   backend) validates each call against this contract: buffer ownership and liveness, lengths
 *   implied by the sizes, op names, index ranges, finite hyper-parameters, and the allocation
 *   limit. A backend may therefore assume well-formed calls. Native code keeps only a guard
 *   that turns misuse or failure into a JS error, never an abort.
 * - Errors thrown for a call (all `RecurError` subclasses, the same on every backend):
 *   `ShapeError` (a length that does not match the sizes), `ValueRangeError` (an index, size,
 *   op name or hyper-parameter out of range), `BackendMismatchError` (a buffer this backend
 *   instance did not make), `DisposedTensorError` (a disposed buffer), `BackendDestroyedError`
 *   (any call after `destroy`), `OutOfMemoryError` (a result over the allocation limit or over
 *   `maxBufferLength`, checked before the backend allocates, or an allocation the device
 *   refused).
 * - Deferred failures: a backend that runs work later reports a failure of that work (device
 *   lost: `DeviceLostError`; memory: `OutOfMemoryError`; anything else: `BackendError`) by
 *   rejecting the next `read` or `sync`, or throwing from the next `blocking.read`, with the
 *   same error. Buffers written by failed work hold unspecified values. A lost device stays
 *   lost: every later `read`/`sync` rejects with `DeviceLostError`.
 * - `dispose` is idempotent, and a no-op after `destroy`; disposing a buffer of another backend
 *   throws `BackendMismatchError`. `destroy` is idempotent and releases everything; afterwards
 *   every other method throws (`read`/`sync` reject) `BackendDestroyedError`.
 * - Aliasing: `unary`'s `out` may be `x`; `gemm`'s `out` must not alias `a` or `b`. `read`
 *   resolves with a copy that later work does not change.
 * - Sizes: no buffer may exceed `maxBufferLength` elements; zero-length buffers are valid
 *   everywhere.
 */

import type { BinaryOp, CellKind, DType, UnaryOp } from './constants.js';
import type { FusedSequenceKernels, FusedStackKernels } from './fused-interface.js';

export type { BinaryOp, CellKind, DType, UnaryOp };
export type {
  FusedSequenceKernels,
  FusedStackKernels,
  SequenceBackwardArgs,
  SequenceBackwardResult,
  SequenceForwardArgs,
  SequenceForwardResult,
  SequenceStackForwardArgs,
  SequenceStackForwardResult,
  StackLayerWeights,
} from './fused-interface.js';

export type FloatArray = Float32Array | Float64Array;

/** Opaque storage owned by one backend. `length` is its number of elements. */
export interface BackendBuffer {
  readonly length: number;
}

export interface GemmOptions {
  /** Rows of op(A) and of C. */
  m: number;
  /** Columns of op(B) and of C. */
  n: number;
  /** Columns of op(A) = rows of op(B). */
  k: number;
  /** A is stored `[k, m]` and used transposed. */
  transA?: boolean;
  /** B is stored `[n, k]` and used transposed (the `x·Wᵀ` case). */
  transB?: boolean;
  /** Default 1. */
  alpha?: number;
  /** Default 0. Only meaningful with `out`; with beta 0, `out` is not read (NaN there does not leak). */
  beta?: number;
}

export interface CellForwardArgs {
  batch: number;
  hidden: number;
  gx: BackendBuffer;
  gh: BackendBuffer;
  /** `[batch, hidden]`, the previous hidden state. */
  h: BackendBuffer;
  /** `[batch, hidden]`, the previous cell state; LSTM only (zeros when omitted). */
  c?: BackendBuffer;
}

export interface CellForwardResult {
  h: BackendBuffer;
  /** LSTM only. */
  c?: BackendBuffer;
  /**
   * Activations the backward pass needs, in a backend-chosen layout (the JS and native backends
   * use `SAVED_BLOCKS`); pass it to `cellBackward` with the same kind and sizes.
   */
  saved: BackendBuffer;
}

export interface CellBackwardArgs {
  batch: number;
  hidden: number;
  saved: BackendBuffer;
  /** The inputs of the forward call (a backend whose `saved` already holds them may ignore these). */
  h: BackendBuffer;
  c?: BackendBuffer;
  /** Gradient wrt the new hidden state `[batch, hidden]`. */
  dh: BackendBuffer;
  /** Gradient wrt the new cell state (LSTM only; zeros when omitted). */
  dc?: BackendBuffer;
}

export interface CellBackwardResult {
  /** Gradients wrt `gx` and `gh`: distinct buffers even where their values are equal. */
  dgx: BackendBuffer;
  dgh: BackendBuffer;
  /**
   * The gradient reaching the previous hidden state element-wise, not through `gh` (core adds
   * `dgh·W_hh`): zero for Elman and LSTM, `z ⊙ dh` for GRU, `g ⊙ dh` for UGRNN.
   */
  dhPrev: BackendBuffer;
  /** LSTM only: `dc_total ⊙ f`. */
  dcPrev?: BackendBuffer;
}

export interface CrossEntropyArgs {
  rows: number;
  classes: number;
  logits: BackendBuffer;
  /** One class id per row, already checked to lie in [0, classes) or to be ignored. */
  targets: Int32Array;
  /** Rows whose target equals this contribute neither loss nor gradient. */
  ignoreIndex: number;
  /** Number of counted rows (> 0); the loss is a mean over them. */
  count: number;
}

export type OptimizerUpdate =
  | {
      kind: 'sgd';
      lr: number;
      momentum: number;
      dampening: number;
      nesterov: boolean;
      weightDecay: number;
      /** True on the first step, when the momentum buffer is initialised to the gradient. */
      firstStep: boolean;
    }
  | {
      kind: 'adam';
      lr: number;
      beta1: number;
      beta2: number;
      eps: number;
      weightDecay: number;
      /** AdamW: decay the weights directly instead of adding to the gradient. */
      decoupled: boolean;
      amsgrad: boolean;
      /** 1-based step count, for bias correction. */
      step: number;
    }
  | {
      kind: 'rmsprop';
      lr: number;
      alpha: number;
      eps: number;
      weightDecay: number;
      momentum: number;
      centered: boolean;
    };

/**
 * Reads that block the calling thread, for a backend that can wait synchronously (the JS
 * reference has nothing to wait for; the native one waits for its worker thread). A GPU backend
 * cannot block its thread on the device, and has none. Core's `itemSync`/`toArraySync` use it.
 */
export interface BlockingReads {
  /**
   * Waits, blocking the thread, for all earlier work on the buffer, and returns a copy of its
   * contents that later work does not change. Throws what `read` would reject with.
   */
  read(buffer: BackendBuffer): FloatArray;
}

/**
 * The optional fast paths a backend offers: core runs generic code (one `cellForward` per
 * step, one layer at a time) where a member is absent. `{}` declares none.
 */
export interface FusedKernels {
  readonly sequence?: FusedSequenceKernels;
  readonly stack?: FusedStackKernels;
}

export interface Backend {
  /** Registered name, e.g. `'js'`. */
  readonly name: string;
  /** Element type of every buffer this backend instance makes. */
  readonly dtype: DType;
  /** Human-readable description of the device (adapter name, BLAS, threads). */
  readonly description: string;
  /**
   * The most elements one buffer may hold on this backend (its addressing limit: 32-bit
   * indices, a device's binding size). The checked wrapper refuses larger results with
   * `OutOfMemoryError` before calling the backend.
   */
  readonly maxBufferLength: number;
  /** Optional whole-sequence kernels. */
  readonly fused: FusedKernels;
  /** Synchronous reads, where the backend can block for them (absent: only `read`). */
  readonly blocking?: BlockingReads;

  // --- memory -------------------------------------------------------------------------------

  /** Copies host data into a new buffer (converting to the backend's dtype). */
  upload(data: ArrayLike<number>): BackendBuffer;
  /** A new buffer of `length` elements, all equal to `value`. */
  fill(length: number, value: number): BackendBuffer;
  /** Resolves with a copy of the buffer's contents once all earlier work on it has run. */
  read(buffer: BackendBuffer): Promise<FloatArray>;
  /** Releases a buffer. Idempotent. The buffer must not be used afterwards. */
  dispose(buffer: BackendBuffer): void;
  /** Resolves once every call made so far has run; rejects with a deferred failure (see above). */
  sync(): Promise<void>;

  // --- dense math ---------------------------------------------------------------------------

  /**
   * `C = alpha·op(A)·op(B) + beta·C` with `C` `[m, n]`. Without `out` a new C is returned
   * (beta ignored); with `out` the product is accumulated into it and `out` is returned.
   */
  gemm(a: BackendBuffer, b: BackendBuffer, options: GemmOptions, out?: BackendBuffer): BackendBuffer;
  /**
   * Element-wise `op(x)`. With `out` (which may be `x` itself) the result is written there and
   * `out` returned. `param`/`param2` are `scale`'s factor and `clamp`'s bounds.
   */
  unary(op: UnaryOp, x: BackendBuffer, param?: number, param2?: number, out?: BackendBuffer): BackendBuffer;
  /**
   * Element-wise `a op b` over `outShape`; operand elements are addressed through the given
   * strides (0 on broadcast dimensions), so broadcasting needs no copies.
   */
  binary(
    op: BinaryOp,
    a: BackendBuffer,
    aStrides: readonly number[],
    b: BackendBuffer,
    bStrides: readonly number[],
    outShape: readonly number[],
  ): BackendBuffer;
  /**
   * Sums `x` (shape `inShape`) down to `outShape`, which has the same rank with each dimension
   * equal to the input's or 1 (the reverse of broadcasting).
   */
  sumTo(x: BackendBuffer, inShape: readonly number[], outShape: readonly number[]): BackendBuffer;
  /** Sum of squares of every element of every buffer, as a new 1-element buffer. */
  sumOfSquares(buffers: readonly BackendBuffer[]): BackendBuffer;

  // --- data movement ------------------------------------------------------------------------

  /** Axis permutation: `out` has shape `perm.map(i => shape[i])`. */
  permute(x: BackendBuffer, shape: readonly number[], perm: readonly number[]): BackendBuffer;
  /** Concatenation along `axis`; all shapes agree except on that axis. */
  concat(xs: readonly BackendBuffer[], shapes: readonly (readonly number[])[], axis: number): BackendBuffer;
  /** The sub-array `[start, start + length)` along `axis`. */
  slice(x: BackendBuffer, shape: readonly number[], axis: number, start: number, length: number): BackendBuffer;
  /** Rows of a `[rows, width]` matrix picked by `index` (all in range): `out[i] = x[index[i]]`. */
  gatherRows(x: BackendBuffer, width: number, index: Int32Array): BackendBuffer;
  /** The adjoint of `gatherRows`: a new `[rows, width]` matrix with `out[index[i]] += g[i]`. */
  scatterAddRows(g: BackendBuffer, width: number, index: Int32Array, rows: number): BackendBuffer;

  // --- fused RNN, loss and optimizer kernels ------------------------------------------------

  /** One time step of a fused cell (see `CELL_KINDS`). */
  cellForward(kind: CellKind, args: CellForwardArgs): CellForwardResult;
  /** Gradients of one fused cell step, from its `saved` activations. */
  cellBackward(kind: CellKind, args: CellBackwardArgs): CellBackwardResult;
  /**
   * Mean softmax cross-entropy over counted rows (a 1-element buffer in the backend's dtype)
   * and its gradient wrt the logits, `(softmax − onehot) / count` (zero on ignored rows).
   * Stable for any finite logits.
   */
  softmaxCrossEntropy(args: CrossEntropyArgs): { loss: BackendBuffer; dLogits: BackendBuffer };
  /**
   * Updates `param` and its optimizer `state` buffers in place from `grad`, with PyTorch's
   * semantics for each kind. State buffers: `OPTIMIZER_STATE_COUNT[kind]` of them, each as
   * long as `param`, created zero by the caller, always all passed whether or not the options
   * use them.
   */
  optimizerStep(update: OptimizerUpdate, param: BackendBuffer, grad: BackendBuffer, state: readonly BackendBuffer[]): void;

  /** Releases every resource of the backend. Idempotent. */
  destroy(): void;
}
