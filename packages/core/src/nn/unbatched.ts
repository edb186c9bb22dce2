/**
 * Unbatched input, as PyTorch accepts it: `x [T, I]` (whatever `batchFirst` says), states
 * `[numLayers·D, width]`, output `[T, D·width]`. It runs as a batch of one.
 */
import { describeShape, ShapeError } from '../errors.js';
import { reshape } from '../ops/shape-ops.js';
import type { Tensor } from '../tensor.js';
import type { RecurrentForwardOptions, RecurrentOutput } from './recurrent.js';

export interface UnbatchedLayer {
  where: string;
  batchFirst: boolean;
  /** `numLayers · D`, the rows of every state. */
  rows: number;
  stateWidths: readonly number[];
  /** The batched forward. */
  forward(x: Tensor, options: RecurrentForwardOptions): RecurrentOutput;
}

/** `forward` of a `[T, I]` input; `input`'s width has been checked by the caller. */
export function unbatchedForward(layer: UnbatchedLayer, input: Tensor, options: RecurrentForwardOptions): RecurrentOutput {
  const [steps, features] = input.shape;
  const toBatch = (s: Tensor | undefined, slot: number, name: string): Tensor | undefined => {
    if (!s) return undefined;
    const expected = [layer.rows, layer.stateWidths[slot]];
    if (s.rank !== 2 || s.shape[0] !== expected[0] || s.shape[1] !== expected[1]) {
      throw new ShapeError(
        `${layer.where}.forward: ${name} must be ${describeShape(expected)} for unbatched input [T, I], received ${describeShape(s.shape)}`,
      );
    }
    return reshape(s, [expected[0], 1, expected[1]]);
  };
  const out = layer.forward(reshape(input, layer.batchFirst ? [1, steps, features] : [steps, 1, features]), {
    ...options,
    h0: toBatch(options.h0, 0, 'h0'),
    c0: toBatch(options.c0, 1, 'c0'),
    state: options.state?.map((s, slot) => toBatch(s, slot, `state[${slot}]`) as Tensor),
  });
  const unbatch = (s: Tensor) => reshape(s, [s.shape[0], s.shape[2]]);
  const flat = (s: Tensor) => reshape(s, [s.shape[1]]);
  const state = out.state.map(unbatch);
  return {
    output: reshape(out.output, [steps, out.output.shape[2]]),
    hN: state[0],
    cN: state[1],
    state,
    lastHidden: () => flat(out.lastHidden()),
    lastCell: () => flat(out.lastCell()),
  };
}
