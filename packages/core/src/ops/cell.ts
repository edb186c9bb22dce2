import { recordOp } from '../autograd.js';
import { type CellKind, GATE_COUNT } from '../backend/constants.js';
import { describeShape, ShapeError } from '../errors.js';
import { commonBackend, Tensor } from '../tensor.js';

/**
 * One step of a fused cell (see `CellKind`): from the gate pre-activations `gx` `[B, G·H]`
 * (input side, biases included) and `gh` (hidden side), and the previous state `h` (and `c`
 * for LSTM), returns the new state `[h]` or `[h, c]`.
 */
export function cellStep(kind: CellKind, gx: Tensor, gh: Tensor, h: Tensor, c?: Tensor): Tensor[] {
  const backend = c ? commonBackend('cellStep', gx, gh, h, c) : commonBackend('cellStep', gx, gh, h);
  const [batch, hidden] = h.shape;
  const width = GATE_COUNT[kind] * hidden;
  for (const [name, t, cols] of [
    ['gx', gx, width],
    ['gh', gh, width],
    ['c', c, hidden],
  ] as const) {
    if (t && (t.rank !== 2 || t.shape[0] !== batch || t.shape[1] !== cols)) {
      throw new ShapeError(`cellStep(${kind}): ${name} must be [${batch}, ${cols}], received ${describeShape(t.shape)}`);
    }
  }
  if ((kind === 'lstm') !== (c !== undefined)) {
    throw new ShapeError(`cellStep(${kind}): a cell state c is ${kind === 'lstm' ? 'required' : 'only valid for lstm'}`);
  }
  const result = backend.cellForward(kind, { batch, hidden, gx: gx.buffer, gh: gh.buffer, h: h.buffer, c: c?.buffer });
  // The saved activations live as a tensor so the enclosing tidy scope frees them.
  const saved = Tensor.fromBuffer(backend, result.saved, [result.saved.length]);
  const outputs: [Tensor['buffer'], number[]][] = [[result.h, [batch, hidden]]];
  if (result.c) outputs.push([result.c, [batch, hidden]]);
  return recordOp(`cell:${kind}`, backend, [gx, gh, h, c ?? null], outputs, ([dh, dc], needs) => {
    const zeros = () => backend.fill(batch * hidden, 0);
    const dhBuffer = dh?.buffer ?? zeros();
    const dcBuffer = kind === 'lstm' ? (dc?.buffer ?? zeros()) : undefined;
    const grads = backend.cellBackward(kind, { batch, hidden, saved: saved.buffer, h: h.buffer, c: c?.buffer, dh: dhBuffer, dc: dcBuffer });
    if (!dh) backend.dispose(dhBuffer);
    if (dcBuffer && !dc) backend.dispose(dcBuffer);
    const wrap = (need: boolean, buffer: Tensor['buffer'] | undefined, shape: number[]) => {
      if (!buffer) return null;
      if (!need) {
        backend.dispose(buffer);
        return null;
      }
      return Tensor.fromBuffer(backend, buffer, shape);
    };
    return [
      wrap(needs[0], grads.dgx, [batch, width]),
      wrap(needs[1], grads.dgh, [batch, width]),
      wrap(needs[2], grads.dhPrev, [batch, hidden]),
      wrap(needs[3], grads.dcPrev, [batch, hidden]),
    ];
  });
}
