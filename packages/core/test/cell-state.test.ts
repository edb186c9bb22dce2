/**
 * The cell-state mechanism: a cell declares the width of each state slot (`stateWidths`) and
 * may supply its own initial state (`initialState`); a layer over it sizes, checks and carries
 * those states, and feeds layer k + 1 with layer k's `state[0]`.
 */
import { add, Module, RecurrentLayer, ShapeError, type Tensor, tensor } from '@recur/core';
import { describe, expect, it } from 'vitest';
import { expectError, f64, values } from './helpers.js';

const backend = f64();

/**
 * A toy cell with two slots of different widths: `h [B, 2]` = the running sum of the input's
 * two features, and `count [B, 3]`, every entry the steps taken plus a start of 10 (its own
 * initial state), so the test can see both the widths and where the start came from.
 */
class CountingCell extends Module {
  readonly inputSize = 2;
  readonly hiddenSize = 2;
  readonly stateSize = 2;
  readonly stateWidths = [2, 3];
  initialState(batch: number): Tensor[] {
    return [
      tensor(new Float64Array(batch * 2), [batch, 2], { backend }),
      tensor(new Float64Array(batch * 3).fill(10), [batch, 3], { backend }),
    ];
  }
  step(x: Tensor, state: readonly Tensor[]): Tensor[] {
    return [add(state[0], x), add(state[1], 1)];
  }
}

describe('cell state of any width', () => {
  const layer = () => new RecurrentLayer({ inputSize: 2, hiddenSize: 2, numLayers: 2, backend, cell: () => new CountingCell({ backend }) });
  const x = tensor([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], [3, 2, 2], { backend });

  it("sizes each slot by its width, starts from the cell's initial state, and feeds state[0] to the next layer", async () => {
    const out = layer().forward(x);
    expect(out.state.map((s) => s.shape)).toEqual([
      [2, 2, 2],
      [2, 2, 3],
    ]);
    // Layer 0's running sums: t0 [1, 2] [3, 4], t1 [6, 8] [10, 12], t2 [15, 18] [21, 24];
    // layer 1 sums those again.
    expect(await values(out.output)).toEqual([1, 2, 3, 4, 7, 10, 13, 16, 22, 28, 34, 40]);
    expect(await values(out.state[1])).toEqual(new Array(12).fill(13));
  });

  it('checks given states against the slot widths, and uses them instead of the cell’s', async () => {
    const counts = tensor(new Float64Array(2 * 2 * 3).fill(-5), [2, 2, 3], { backend });
    const out = layer().forward(x, { state: [tensor(new Float64Array(8), [2, 2, 2], { backend }), counts] });
    expect(await values(out.state[1])).toEqual(new Array(12).fill(-2));
    expectError(
      () =>
        layer().forward(x, {
          state: [tensor(new Float64Array(8), [2, 2, 2], { backend }), tensor(new Float64Array(8), [2, 2, 2], { backend })],
        }),
      ShapeError,
      'must be [2, 2, 3]',
    );
  });
});
