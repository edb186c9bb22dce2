import { recordOp } from '../autograd.js';
import type { BackendBuffer, CellKind, SequenceForwardArgs } from '../backend.js';
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
 * `[output, hN, cN]`. Callers check `backend.supports('fusedSequence')` and shapes first.
 */
export function fusedSequence(inputs: FusedSequenceInputs): Tensor[] {
  const { kind, x, weightIh, weightHh, biasIh, biasHh, h0, c0, lengths } = inputs;
  const backend = x.backend;
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
  const result = (backend.sequenceForward as NonNullable<typeof backend.sequenceForward>)(args());
  const saved = Tensor.fromBuffer(backend, result.saved, [result.saved.length]);
  const state = [batch, hidden];
  const outputs: [BackendBuffer, number[]][] = [
    [result.output, [steps, batch, hidden]],
    [result.hN, state],
  ];
  if (result.cN) outputs.push([result.cN, state]);
  return recordOp(
    `sequence:${kind}`,
    backend,
    [x, weightIh, weightHh, biasIh, biasHh, h0, c0 ?? null],
    outputs,
    ([dOut, dhN, dcN], needs) => {
      const owned: BackendBuffer[] = [];
      const orZeros = (g: Tensor | null, size: number) => {
        if (g) return g.buffer;
        const zeros = backend.fill(size, 0);
        owned.push(zeros);
        return zeros;
      };
      const grads = (backend.sequenceBackward as NonNullable<typeof backend.sequenceBackward>)({
        ...args(),
        saved: saved.buffer,
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
    },
  );
}
