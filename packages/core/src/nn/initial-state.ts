/**
 * Learned initial states (`learnInitialState: true`): per layer k, one parameter per state slot,
 * `h0_l{k}` `[D, 1, width]` (and `c0_l{k}` for LSTM-like cells), broadcast over the batch and
 * used for every slot the caller does not pass.
 */
import { add } from '../ops/elementwise.js';
import { concat } from '../ops/shape-ops.js';
import { Tensor } from '../tensor.js';

/** The parameter name of a slot's learned start in layer `layer`: `h0_l0`, `c0_l1`, `state2_l0`. */
export function learnedStateName(slot: number, layer: number): string {
  return `${slot === 0 ? 'h0' : slot === 1 ? 'c0' : `state${slot}`}_l${layer}`;
}

/**
 * Fills the slots the caller left undefined with the learned starts: per slot, the layers'
 * `[D, 1, W]` parameters stacked to `[L·D, 1, W]` and broadcast to `[L·D, B, W]` by adding zeros
 * (recorded, so each sequence's gradient sums into the parameter). The result is then an
 * ordinary given state, which keeps both fused paths correct: `fusedSequence` and `fusedStack`
 * take it as their `h0`/`c0` instead of starting from zeros.
 */
export function withLearnedStates(learned: readonly Tensor[][], given: (Tensor | undefined)[], batch: number): (Tensor | undefined)[] {
  if (learned.length === 0) return given;
  return given.map((s, slot) => {
    if (s) return s;
    const perLayer = learned.map((layer) => layer[slot]);
    const start = perLayer.length === 1 ? perLayer[0] : concat(perLayer, 0);
    const [rows, , width] = start.shape;
    if (batch === 1) return start;
    const backend = start.backend;
    return add(Tensor.fromBuffer(backend, backend.fill(rows * batch * width, 0), [rows, batch, width]), start);
  });
}
