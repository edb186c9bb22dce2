import { isGradEnabled, recordOp, willRecord } from '../autograd.js';
import type { BackendBuffer, CellKind, SequenceForwardArgs, StackLayerWeights } from '../backend/interface.js';
import { RecurError } from '../errors.js';
import { Tensor } from '../tensor.js';

export interface FusedSequenceInputs {
  kind: CellKind;
  /** `[T, B, I]`, time-major. */
  x: Tensor;
  weightIh: Tensor;
  weightHh: Tensor;
  biasIh: Tensor | null;
  biasHh: Tensor | null;
  h0: Tensor;
  c0?: Tensor;
  lengths?: Int32Array;
}

/**
 * A whole single-direction layer through the backend's `sequenceForward` fast path, recorded
 * as one autograd node whose backward is `sequenceBackward`. Returns `[output, hN]` or
 * `[output, hN, cN]`. Callers check that `backend.fused.sequence` exists and the shapes first.
 */
export function fusedSequence(inputs: FusedSequenceInputs): Tensor[] {
  const { kind, x, weightIh, weightHh, biasIh, biasHh, h0, c0, lengths } = inputs;
  const backend = x.backend;
  const kernels = backend.fused.sequence;
  if (!kernels) throw new RecurError(`fusedSequence: the ${backend.name} backend has no fused sequence kernels`);
  const [steps, batch, inputSize] = x.shape;
  const hidden = weightHh.shape[1];
  // Built when needed: a parameter's buffer may be replaced between forward and backward.
  const args = (): SequenceForwardArgs => ({
    kind,
    steps,
    batch,
    inputSize,
    hidden,
    x: x.buffer,
    wIh: weightIh.buffer,
    wHh: weightHh.buffer,
    bIh: biasIh?.buffer,
    bHh: biasHh?.buffer,
    h0: h0.buffer,
    c0: c0?.buffer,
    lengths,
  });
  const inputTensors = [x, weightIh, weightHh, biasIh, biasHh, h0, c0 ?? null];
  const forwardArgs = args();
  const recording = willRecord(inputTensors);
  if (!recording) forwardArgs.saveForBackward = false;
  const result = kernels.forward(forwardArgs);
  // Only a recorded node's backward reads `saved`; otherwise it is released at once.
  let saved: Tensor | null = null;
  if (recording) saved = Tensor.fromBuffer(backend, result.saved, [result.saved.length]);
  else backend.dispose(result.saved);
  const state = [batch, hidden];
  const outputs: [BackendBuffer, number[]][] = [
    [result.output, [steps, batch, hidden]],
    [result.hN, state],
  ];
  if (result.cN) outputs.push([result.cN, state]);
  return recordOp(`sequence:${kind}`, backend, inputTensors, outputs, ([dOut, dhN, dcN], needs) => {
    const owned: BackendBuffer[] = [];
    const orZeros = (g: Tensor | null, size: number) => {
      if (g) return g.buffer;
      const zeros = backend.fill(size, 0);
      owned.push(zeros);
      return zeros;
    };
    const grads = kernels.backward({
      ...args(),
      saved: (saved as Tensor).buffer,
      dOutput: orZeros(dOut, steps * batch * hidden),
      dhN: orZeros(dhN, batch * hidden),
      dcN: kind === 'lstm' ? orZeros(dcN ?? null, batch * hidden) : undefined,
    });
    for (const b of owned) backend.dispose(b);
    const wrap = (need: boolean, buffer: BackendBuffer | undefined, like: Tensor | null | undefined) => {
      if (!buffer) return null;
      if (!need || !like) {
        backend.dispose(buffer);
        return null;
      }
      return Tensor.fromBuffer(backend, buffer, like.shape);
    };
    return [
      wrap(needs[0], grads.dx, x),
      wrap(needs[1], grads.dWIh, weightIh),
      wrap(needs[2], grads.dWHh, weightHh),
      wrap(needs[3], grads.dBIh, biasIh),
      wrap(needs[4], grads.dBHh, biasHh),
      wrap(needs[5], grads.dh0, h0),
      wrap(needs[6], grads.dc0, c0),
    ];
  });
}

export interface FusedStackInputs {
  kind: CellKind;
  /** `[T, B, I]`, time-major. */
  x: Tensor;
  /** Per layer, its weights (layer 0's `weightIh` is `[G·H, I]`, the others' `[G·H, H]`). */
  layers: readonly { weightIh: Tensor; weightHh: Tensor; biasIh: Tensor | null; biasHh: Tensor | null }[];
  /** `[L, B, H]`; zeros when omitted. */
  h0?: Tensor;
  /** LSTM only, `[L, B, H]`; zeros when omitted. */
  c0?: Tensor;
  lengths?: Int32Array;
}

/**
 * A stack of single-direction fused layers through the backend's `sequenceStackForward`, for
 * inference only: returns `[output, hN]` or `[output, hN, cN]` (states `[L, B, H]`) with no
 * autograd node, and throws if a gradient would be recorded. Callers check that
 * `backend.fused.stack` exists and the shapes first.
 */
export function fusedStack(inputs: FusedStackInputs): Tensor[] {
  const { kind, x, layers, h0, c0, lengths } = inputs;
  const backend = x.backend;
  const kernels = backend.fused.stack;
  if (!kernels) throw new RecurError(`fusedStack: the ${backend.name} backend has no fused stack kernel`);
  if (isGradEnabled() && (x.requiresGrad || h0?.requiresGrad || c0?.requiresGrad || layers.some(layerRequiresGrad))) {
    throw new RecurError(
      'fusedStack: forward only, but an input requires a gradient; run it under noGrad() or use fusedSequence per layer',
    );
  }
  const steps = x.shape[0];
  const batch = x.shape[1];
  const hidden = layers[0].weightHh.shape[1];
  const weights: StackLayerWeights[] = [];
  for (const l of layers) weights.push({ wIh: l.weightIh.buffer, wHh: l.weightHh.buffer, bIh: l.biasIh?.buffer, bHh: l.biasHh?.buffer });
  const result = kernels.forward({
    kind,
    steps,
    batch,
    inputSize: x.shape[2],
    hidden,
    x: x.buffer,
    layers: weights,
    h0: h0?.buffer,
    c0: c0?.buffer,
    lengths,
  });
  const state = [layers.length, batch, hidden];
  const out = [Tensor.fromBuffer(backend, result.output, [steps, batch, hidden]), Tensor.fromBuffer(backend, result.hN, state)];
  if (result.cN) out.push(Tensor.fromBuffer(backend, result.cN, state));
  return out;
}

function layerRequiresGrad(l: FusedStackInputs['layers'][number]): boolean {
  return l.weightIh.requiresGrad || l.weightHh.requiresGrad || !!l.biasIh?.requiresGrad || !!l.biasHh?.requiresGrad;
}
