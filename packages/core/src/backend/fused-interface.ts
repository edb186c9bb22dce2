/**
 * The argument and result types of the optional whole-sequence kernels (`Backend.fused`): a
 * single-direction layer forward and backward through time, and a stack of layers for
 * inference. Part of the Backend interface (interface.ts re-exports them).
 */

import type { CellKind } from './constants.js';
import type { BackendBuffer } from './interface.js';

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
  /**
   * Opaque workspace for `fused.sequence.backward` in a backend-chosen layout (length 0 when
   * not saved); the caller disposes it. The checked wrapper only accepts it back in a backward
   * call with the same kind and sizes.
   */
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

/** A whole single-direction layer over all steps, and its backward pass through time. */
export interface FusedSequenceKernels {
  forward(args: SequenceForwardArgs): SequenceForwardResult;
  /** The forward call's arguments and `saved`, plus the output gradients. */
  backward(args: SequenceBackwardArgs): SequenceBackwardResult;
}

/**
 * Several layers in one call, for inference: the per-call overhead of single-sequence
 * generation is then paid once per step instead of once per layer (plus the state slicing
 * and stacking around each layer).
 */
export interface FusedStackKernels {
  forward(args: SequenceStackForwardArgs): SequenceStackForwardResult;
}
