/**
 * The Backend interface, version 1.
 *
 * A backend owns memory (`BackendBuffer`s: flat arrays of its dtype) and runs coarse kernels on
 * it. Core never looks inside a buffer; it validates every argument (shapes, index ranges,
 * ownership) before calling a backend, so a backend may assume well-formed input and never
 * needs to defend against user mistakes.
 *
 * Execution model: every compute method *enqueues* work and returns its result buffers at
 * once; a backend may run the work later (a GPU queue, a worker thread) as long as work runs
 * in call order. Only `read` and `sync` wait, and they are the only async methods. A
 * synchronous backend (the JS reference) simply runs each call immediately.
 *
 * Ownership: every buffer a method returns is new and owned by the caller, who releases it
 * with `dispose`. Methods never dispose or retain their inputs. Methods whose names say "InPlace"
 * or that document an `out`/state argument write into buffers the caller passed.
 *
 * Layouts are row-major (C order). Gate blocks of fused cells follow PyTorch's order (see
 * `CellKind`).
 */

export type DType = 'float32' | 'float64';
export type FloatArray = Float32Array | Float64Array;

/** Opaque storage owned by one backend. `length` is its number of elements. */
export interface BackendBuffer {
  readonly length: number;
}

/**
 * Element-wise unary operations. `scale` multiplies by `param` (default 1); `clamp` clamps to
 * [param, param2] (a missing bound is unbounded); `step` is 1 where x > 0, else 0.
 */
export type UnaryOp =
  | 'copy'
  | 'neg'
  | 'exp'
  | 'log'
  | 'tanh'
  | 'sigmoid'
  | 'relu'
  | 'step'
  | 'sqrt'
  | 'square'
  | 'abs'
  | 'reciprocal'
  | 'scale'
  | 'clamp';

export type BinaryOp = 'add' | 'sub' | 'mul' | 'div';

/**
 * Fused recurrent cells. `gx = x·W_ihᵀ + b_ih` and `gh = h·W_hhᵀ + b_hh` are `[batch, G·hidden]`
 * with gate row-blocks in this order:
 * - `tanh`, `relu` (Elman, G = 1): `h' = act(gx + gh)`
 * - `lstm` (G = 4, blocks i, f, g, o): PyTorch's LSTM
 * - `gru` (G = 3, blocks r, z, n): PyTorch's GRU, reset applied after the matmul
 * - `ugrnn` (G = 2, blocks g, c): `c = tanh(gx_c + gh_c)`, `g = σ(gx_g + gh_g)`,
 *   `h' = g ⊙ h + (1 − g) ⊙ c`
 */
export type CellKind = 'tanh' | 'relu' | 'lstm' | 'gru' | 'ugrnn';

export const GATE_COUNT: Readonly<Record<CellKind, number>> = { tanh: 1, relu: 1, lstm: 4, gru: 3, ugrnn: 2 };

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
  /** Activations the backward pass needs, in a backend-chosen layout; pass it to `cellBackward`. */
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

/** Optional capabilities a backend may declare through `supports`. */
export type BackendFeature =
  /** `sequenceForward`/`sequenceBackward`: a whole single-direction layer in one call. */
  | 'fusedSequence'
  /** `sequenceStackForward`: a stack of single-direction layers in one call, for inference. */
  | 'fusedStack'
  /** float64 buffers (gradient checking). */
  | 'float64';

export interface SequenceForwardArgs {
  kind: CellKind;
  steps: number;
  batch: number;
  inputSize: number;
  hidden: number;
  /** `[steps, batch, inputSize]`. */
  x: BackendBuffer;
  /** `[G·hidden, inputSize]`, `[G·hidden, hidden]`, `[G·hidden]` (biases optional). */
  wIh: BackendBuffer;
  wHh: BackendBuffer;
  bIh?: BackendBuffer;
  bHh?: BackendBuffer;
  /** `[batch, hidden]`. */
  h0: BackendBuffer;
  /** LSTM only; zeros when omitted. */
  c0?: BackendBuffer;
  /**
   * Per-batch sequence lengths (each in [0, steps]), or omitted when all equal `steps`. Past its
   * length a sequence keeps its state and outputs zeros.
   */
  lengths?: Int32Array;
  /**
   * Default true. False says no `sequenceBackward` will follow (inference): the backend may
   * skip storing the per-step activations and return an empty (length 0) `saved`. A backend
   * may ignore it and save anyway. Meaningless for `sequenceBackward`'s own arguments.
   */
  saveForBackward?: boolean;
}

export interface SequenceForwardResult {
  /** `[steps, batch, hidden]`. */
  output: BackendBuffer;
  hN: BackendBuffer;
  cN?: BackendBuffer;
  /** Opaque workspace for `sequenceBackward` (empty when not saved); the caller disposes it. */
  saved: BackendBuffer;
}

/** The weights of one layer of a `sequenceStackForward` stack (shapes as in `SequenceForwardArgs`). */
export interface StackLayerWeights {
  wIh: BackendBuffer;
  wHh: BackendBuffer;
  bIh?: BackendBuffer;
  bHh?: BackendBuffer;
}

/**
 * `layers.length` single-direction layers of one cell kind, each layer's output the next
 * one's input: exactly `sequenceForward` per layer, with the states of all layers stacked.
 * Forward only (nothing is saved for a backward pass).
 */
export interface SequenceStackForwardArgs {
  kind: CellKind;
  steps: number;
  batch: number;
  /** Input features of layer 0; the other layers take `hidden`. */
  inputSize: number;
  hidden: number;
  /** `[steps, batch, inputSize]`. */
  x: BackendBuffer;
  /** Layer 0's `wIh` is `[G·hidden, inputSize]`, the others' `[G·hidden, hidden]`. */
  layers: readonly StackLayerWeights[];
  /** `[layers, batch, hidden]`; zeros when omitted. */
  h0?: BackendBuffer;
  /** LSTM only, `[layers, batch, hidden]`; zeros when omitted. */
  c0?: BackendBuffer;
  /** As in `SequenceForwardArgs`, for every layer. */
  lengths?: Int32Array;
}

export interface SequenceStackForwardResult {
  /** The last layer's output `[steps, batch, hidden]`. */
  output: BackendBuffer;
  /** `[layers, batch, hidden]`. */
  hN: BackendBuffer;
  /** LSTM only, `[layers, batch, hidden]`. */
  cN?: BackendBuffer;
}

/**
 * The forward call's arguments again (weights unchanged since the forward call), its `saved`
 * workspace, and the gradients of its outputs (`dcN` LSTM only; zeros when omitted).
 */
export interface SequenceBackwardArgs extends SequenceForwardArgs {
  saved: BackendBuffer;
  dOutput: BackendBuffer;
  dhN: BackendBuffer;
  dcN?: BackendBuffer;
}

export interface SequenceBackwardResult {
  dx: BackendBuffer;
  dWIh: BackendBuffer;
  dWHh: BackendBuffer;
  dBIh?: BackendBuffer;
  dBHh?: BackendBuffer;
  dh0: BackendBuffer;
  dc0?: BackendBuffer;
}

export interface Backend {
  /** Registered name, e.g. `'js'`. */
  readonly name: string;
  /** Element type of every buffer this backend instance makes. */
  readonly dtype: DType;
  /** Human-readable description of the device (adapter name, BLAS, threads). */
  readonly description: string;

  /** Whether an optional feature is available. Core falls back to generic code when not. */
  supports(feature: BackendFeature): boolean;

  // --- memory -------------------------------------------------------------------------------

  /** Copies host data into a new buffer (converting to the backend's dtype). */
  upload(data: ArrayLike<number>): BackendBuffer;
  /** A new buffer of `length` elements, all equal to `value`. */
  fill(length: number, value: number): BackendBuffer;
  /** Resolves with a copy of the buffer's contents once all earlier work on it has run. */
  read(buffer: BackendBuffer): Promise<FloatArray>;
  /** Releases a buffer. Idempotent. The buffer must not be used afterwards. */
  dispose(buffer: BackendBuffer): void;
  /** Resolves once every call made so far has run. */
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

  /** One time step of a fused cell (see `CellKind`). */
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
   * semantics for each kind. State buffers (same length as `param`, created zero by the
   * caller, always all passed whether or not the options use them): sgd `[momentum]`;
   * adam `[m, v, vMax]`; rmsprop `[squareAvg, momentum, gradAvg]`.
   */
  optimizerStep(update: OptimizerUpdate, param: BackendBuffer, grad: BackendBuffer, state: readonly BackendBuffer[]): void;

  // --- optional fast paths (see `supports`) -------------------------------------------------

  /** A whole single-direction layer over all steps. Requires `supports('fusedSequence')`. */
  sequenceForward?(args: SequenceForwardArgs): SequenceForwardResult;
  /** Its backward pass through time. Requires `supports('fusedSequence')`. */
  sequenceBackward?(args: SequenceBackwardArgs): SequenceBackwardResult;
  /**
   * Several fused layers in one call, for inference: the per-call overhead of single-sequence
   * generation is then paid once per step instead of once per layer (plus the state slicing
   * and stacking around each layer). Requires `supports('fusedStack')`.
   */
  sequenceStackForward?(args: SequenceStackForwardArgs): SequenceStackForwardResult;

  /** Releases every resource of the backend. */
  destroy(): void;
}
