import { OptionsError, ShapeError, ValueRangeError } from '../errors.js';
import { add, relu, sigmoid, tanh } from '../ops/elementwise.js';
import { linear } from '../ops/matmul.js';
import { concat, slice } from '../ops/shape-ops.js';
import { isPlainObject, type OptionsSchema, option, required } from '../options.js';
import { type Parameter, Tensor } from '../tensor.js';
import { CELL_OPTIONS, type Cell, type CellOptions, ELMAN_NONLINEARITIES } from './cells.js';
import type { LayerOptions, RNNOptions } from './layers.js';
import { Module } from './module.js';
import {
  LAYER_OPTIONS,
  type RecurrentForwardOptions,
  RecurrentLayer,
  type RecurrentLayerOptions,
  type RecurrentOutput,
} from './recurrent.js';

/** The Elman nonlinearities `RNN` accepts (the list in cells.ts decides which are allowed). */
type Nonlinearity = NonNullable<RNNOptions['nonlinearity']>;

const ACTIVATIONS: Readonly<Record<string, (x: Tensor) => Tensor>> = { tanh, relu, sigmoid };

export interface DelayCellOptions extends CellOptions {
  /**
   * The delays d of the recurrent connections from `h_{t−d}`, distinct positive integers in any
   * order. Delay 1 (`weight_hh`, the Elman recurrence) is always present; listing it is optional.
   */
  delays: ArrayLike<number>;
  /** `tanh` (default) or any other nonlinearity `RNN` accepts. */
  nonlinearity?: Nonlinearity;
}

const DELAY_CELL_OPTIONS: OptionsSchema<DelayCellOptions> = {
  ...CELL_OPTIONS,
  delays: required(option.arrayLikeOfNumbers),
  nonlinearity: option.oneOf(...ELMAN_NONLINEARITIES),
};

/** The delays as a sorted list that starts with 1, each checked (`where` names the caller). */
export function checkDelays(where: string, delays: ArrayLike<number>): number[] {
  if (delays.length === 0) throw new ValueRangeError(`${where}: delays must hold at least one delay, e.g. [1, 4]`);
  const seen = new Map<number, number>();
  for (let i = 0; i < delays.length; i++) {
    const d = delays[i];
    if (!Number.isInteger(d) || d < 1) throw new ValueRangeError(`${where}: delays[${i}] = ${d} must be a positive integer`);
    const first = seen.get(d);
    if (first !== undefined) throw new ValueRangeError(`${where}: delays[${i}] = ${d} repeats delays[${first}]`);
    seen.set(d, i);
  }
  return [...new Set([1, ...seen.keys()])].sort((a, b) => a - b);
}

/**
 * The long-delay Elman cell of the spec:
 * `h_t = act(W_ih x_t + b_ih + W_hh h_{t−1} + b_hh + Σ_{d ∈ delays, d > 1} W_hh_d h_{t−d})`.
 *
 * Its state is `[h_{t−1}, history]`: `history` `[B, (dmax − 1)·H]` holds `h_{t−2}, …, h_{t−dmax}`
 * side by side (block `d − 2` is `h_{t−d}`), so `RecurrentLayer` carries, masks and reverses it
 * like any other state slot — a finished sequence keeps its whole history, so padding steps never
 * shift it. With `delays = [1]` there is no history slot and the cell is `RNN`'s.
 *
 * Parameters, in registration (and initialisation) order: `weight_ih [H, I]`, `weight_hh [H, H]`,
 * `bias_ih [H]`, `bias_hh [H]` — exactly `nn.RNN`'s, so its state dicts load into those — then
 * `weight_hh_d{d} [H, H]` for each delay d > 1 in increasing order (after the biases, as PyTorch
 * places LSTM's `weight_hr`), all drawn U(−1/√H, 1/√H) like Elman's.
 */
export class DelayCell extends Module implements Cell {
  readonly inputSize: number;
  readonly hiddenSize: number;
  readonly stateSize: number;
  readonly stateWidths: readonly number[];
  /** Every delay, increasing, starting with 1. */
  readonly delays: readonly number[];
  readonly weightIh: Parameter;
  readonly weightHh: Parameter;
  readonly biasIh: Parameter | null;
  readonly biasHh: Parameter | null;
  /** `[d, weight_hh_d{d}]` for each delay d > 1. */
  readonly delayed: readonly (readonly [number, Parameter])[];
  private readonly activation: (x: Tensor) => Tensor;

  constructor(options: DelayCellOptions) {
    super(options, { where: 'DelayCell', schema: DELAY_CELL_OPTIONS });
    this.inputSize = options.inputSize;
    this.hiddenSize = options.hiddenSize;
    this.delays = Object.freeze(checkDelays('DelayCell', options.delays));
    const H = this.hiddenSize;
    const longest = this.delays[this.delays.length - 1];
    this.stateWidths = Object.freeze(longest > 1 ? [H, (longest - 1) * H] : [H]);
    this.stateSize = this.stateWidths.length;
    const bound = 1 / Math.sqrt(H);
    const init = (n: number) => this.random.uniformArray(n, -bound, bound);
    this.weightIh = this.addParameter('weight_ih', init, [H, this.inputSize]);
    this.weightHh = this.addParameter('weight_hh', init, [H, H]);
    const withBias = options.bias ?? true;
    this.biasIh = withBias ? this.addParameter('bias_ih', init, [H]) : null;
    this.biasHh = withBias ? this.addParameter('bias_hh', init, [H]) : null;
    this.delayed = this.delays.filter((d) => d > 1).map((d) => [d, this.addParameter(`weight_hh_d${d}`, init, [H, H])] as const);
    this.activation = ACTIVATIONS[options.nonlinearity ?? 'tanh'];
  }

  /** The input projection of every step in one GEMM. */
  prepareInput(x: Tensor): Tensor {
    return linear(x, this.weightIh, this.biasIh);
  }

  step(gx: Tensor, state: readonly Tensor[]): Tensor[] {
    const H = this.hiddenSize;
    const [h, history] = state;
    let preActivation = add(gx, linear(h, this.weightHh, this.biasHh));
    for (const [d, weight] of this.delayed) preActivation = add(preActivation, linear(slice(history, 1, (d - 2) * H, H), weight));
    const next = this.activation(preActivation);
    if (!history) return [next];
    // The history moves one block right: h_{t−1} enters, h_{t−dmax} leaves.
    const kept = history.shape[1] - H;
    return [next, kept === 0 ? h : concat([h, slice(history, 1, 0, kept)], 1)];
  }
}

export type DelayRNNOptions = LayerOptions & {
  /** The delays d of the recurrent connections from `h_{t−d}` (1 is always present). */
  delays: ArrayLike<number>;
  /** `tanh` (default) or any other nonlinearity `RNN` accepts. */
  nonlinearity?: Nonlinearity;
};

const DELAY_RNN_OPTIONS: OptionsSchema<DelayRNNOptions> = {
  ...LAYER_OPTIONS,
  bias: option.boolean,
  delays: required(option.arrayLikeOfNumbers),
  nonlinearity: option.oneOf(...ELMAN_NONLINEARITIES),
};

/**
 * Long-delay recurrent network: Elman layers with recurrent connections from `h_{t−d}` for each
 * delay d (see `DelayCell`), with every `RecurrentLayer` option (`numLayers`, `bidirectional`,
 * `batchFirst`, `dropout`, `residual`, `bias`). Parameters: `weight_ih_l{k}`, `weight_hh_l{k}`,
 * `bias_ih_l{k}`, `bias_hh_l{k}`, then `weight_hh_d{d}_l{k}`, with `_reverse` for direction 1.
 *
 * States before the start are `h0` (zeros by default): `forward(x, { h0 })` fills the whole
 * history with it. `hN` is `[numLayers·D, B, H]`; `state[1]` (`[numLayers·D, B, (dmax − 1)·H]`)
 * is the rest of the history, which `forward(x, { state })` and `Sequential.forwardWithState`
 * carry so a sequence fed in chunks sees its delayed states across chunk boundaries. A reverse
 * direction's delays run backwards in time (it reads `h_{t+d}`), as it processes the sequence.
 *
 * ```ts
 * const rnn = new DelayRNN({ inputSize: 8, hiddenSize: 32, delays: [1, 12], numLayers: 2 });
 * const { output, hN } = rnn.forward(x); // x [T, B, 8] → output [T, B, 32]
 * ```
 */
export class DelayRNN extends RecurrentLayer {
  /** Every delay, increasing, starting with 1. */
  readonly delays: readonly number[];

  constructor(options: DelayRNNOptions) {
    super(options as unknown as RecurrentLayerOptions, {
      where: 'DelayRNN',
      schema: DELAY_RNN_OPTIONS,
      cell: (args) => {
        checkDelays('DelayRNN', options.delays);
        return new DelayCell({ ...args, bias: options.bias, delays: options.delays, nonlinearity: options.nonlinearity });
      },
    });
    this.delays = (this.cells[0][0] as DelayCell).delays;
  }

  /**
   * `RecurrentLayer.forward`, with `h0` standing for every state before the start (it fills the
   * history too). `c0` is refused: this cell has no cell state. The result has no `cN`.
   */
  override forward(input: Tensor, options: RecurrentForwardOptions = {}): RecurrentOutput {
    let given = options;
    if (isPlainObject(options)) {
      if (options.c0 !== undefined) {
        throw new OptionsError('DelayRNN.forward: c0 was given but DelayRNN has no cell state; h0 initialises h and its history');
      }
      const { h0 } = options;
      const longest = this.delays[this.delays.length - 1];
      // A malformed h0 is left to the base class, whose check names it.
      if (options.state === undefined && longest > 1 && h0 instanceof Tensor && h0.rank === 3 && h0.shape[2] === this.hiddenSize) {
        const history = longest === 2 ? h0 : concat(new Array<Tensor>(longest - 1).fill(h0), 2);
        given = { ...options, h0: undefined, state: [h0, history] };
      }
    }
    const out = super.forward(input, given);
    return {
      ...out,
      cN: undefined,
      lastCell: () => {
        throw new ShapeError('DelayRNN: lastCell(): DelayRNN has no cell state (its state[1] is the history of h)');
      },
    };
  }
}
