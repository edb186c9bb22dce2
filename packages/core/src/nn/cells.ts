import { type CellKind, GATE_COUNT } from '../backend/constants.js';
import { OptionsError, ValueRangeError } from '../errors.js';
import { cellStep } from '../ops/cell.js';
import { add, mul, reciprocal, relu, sigmoid, sub, tanh } from '../ops/elementwise.js';
import { linear } from '../ops/matmul.js';
import { type OptionsSchema, option, required } from '../options.js';
import type { Parameter, Tensor } from '../tensor.js';
import { MODULE_OPTIONS, Module, type ModuleOptions } from './module.js';

/**
 * A recurrent cell, `state[t] = CELL(state[t-1], x[t])`. Anything implementing this gets
 * sequence unrolling, variable lengths, stacking, bidirectionality, residual stacking and BPTT
 * from `RecurrentLayer`. Parameters registered on the cell (a `Module`) appear in the layer as
 * `<name>_l<layer>[_reverse]`.
 */
export interface Cell extends Module {
  readonly inputSize: number;
  readonly hiddenSize: number;
  /** Number of state tensors; `state[0]` is the output `h`. */
  readonly stateSize: number;
  /**
   * The width of each state slot, `[batch, width]` (default: every slot `hiddenSize` wide).
   * `state[0]` is what a direction outputs per step, so its width is the layer's output size per
   * direction: an LSTM with a projection has `[projSize, hiddenSize]`; GRU-D carries the last
   * observed input beside `h`, `[hiddenSize, inputSize]`.
   */
  readonly stateWidths?: readonly number[];
  /** The state before step 0 for `batch` sequences, one tensor per slot (default: zeros). */
  initialState?(batch: number): Tensor[];
  /**
   * Optional work done once on the whole time-major input `[T, B, inputSize]` before the loop
   * (e.g. the input projection of all steps as one GEMM). Its result's slices along axis 0 are
   * what `step` receives as `xt`.
   */
  prepareInput?(x: Tensor): Tensor;
  /** One step: `xt` is `[B, inputSize]` (or a slice of `prepareInput`'s result). */
  step(xt: Tensor, state: readonly Tensor[]): Tensor[];
  /**
   * Set when the cell is exactly a fused backend cell with PyTorch's parameters, which lets a
   * backend that supports `'fusedSequence'` run the whole layer in one call.
   */
  readonly fused?: FusedCellWeights;
}

export interface FusedCellWeights {
  kind: CellKind;
  weightIh: Parameter;
  weightHh: Parameter;
  biasIh: Parameter | null;
  biasHh: Parameter | null;
}

export interface CellOptions extends ModuleOptions {
  inputSize: number;
  hiddenSize: number;
  /** Default true. */
  bias?: boolean;
  /**
   * Accepted and ignored, so a `RecurrentLayer` cell factory can pass its arguments straight
   * on: `cell: (args) => new LeakyCell({ ...args, tau: 4 })`.
   */
  layer?: number;
  direction?: number;
}

export const CELL_OPTIONS: OptionsSchema<CellOptions> = {
  ...MODULE_OPTIONS,
  inputSize: required(option.positiveInteger),
  hiddenSize: required(option.positiveInteger),
  bias: option.boolean,
  layer: option.nonNegativeInteger,
  direction: option.nonNegativeInteger,
};

export interface FusedCellOptions extends CellOptions {
  /** LSTM only: the forget gate's bias (see `forgetBiasInit`). Default: drawn like every bias. */
  forgetBias?: number;
}

const FUSED_CELL_OPTIONS: OptionsSchema<FusedCellOptions> = { ...CELL_OPTIONS, forgetBias: option.finiteNumber };

/**
 * The initial values of an LSTM bias with the forget bias set (Gers et al. 2000; Jozefowicz et
 * al. 2015 advise 1): the f block (rows H…2H) of `bias_ih` is `b` and that of `bias_hh` is 0, so
 * the two biases, which only ever appear summed, give the forget gate exactly `b` (Keras's
 * `unit_forget_bias`, which has one bias vector, gives the same pre-activation). Every value is
 * drawn first and then overwritten, so the other parameters are those of the same seed without
 * a forget bias.
 */
export function forgetBiasInit(
  draw: (n: number) => Float64Array,
  hidden: number,
  forgetBias: number | undefined,
  which: 'ih' | 'hh',
): (n: number) => Float64Array {
  if (forgetBias === undefined) return draw;
  return (n) => draw(n).fill(which === 'ih' ? forgetBias : 0, hidden, 2 * hidden);
}

/**
 * The nonlinearities of Elman cells (and of the leaky cell's candidate). tanh and relu have fused
 * backend kernels; sigmoid is the notes' variant, a composite cell (`SigmoidElmanCell`).
 */
export const ELMAN_NONLINEARITIES = ['tanh', 'relu', 'sigmoid'] as const;
export type ElmanNonlinearity = (typeof ELMAN_NONLINEARITIES)[number];

/** Each Elman nonlinearity as a differentiable op. */
export const ELMAN_ACTIVATIONS: Readonly<Record<ElmanNonlinearity, (x: Tensor) => Tensor>> = { tanh, relu, sigmoid };

const CELL_KIND = option.oneOf(...(Object.keys(GATE_COUNT) as CellKind[]));

export function assertPositiveInteger(value: number, argument: string): void {
  if (!Number.isInteger(value) || value < 1) {
    throw new ValueRangeError(`${argument} must be a positive integer, received ${value}`);
  }
}

/**
 * The cells that map onto a backend's fused kernels: Elman (tanh, relu), LSTM, GRU and UGRNN,
 * with PyTorch's parameters `weight_ih [G·H, I]`, `weight_hh [G·H, H]`, `bias_ih`, `bias_hh`
 * and PyTorch's default initialisation U(−1/√H, 1/√H) in that order.
 */
export class FusedCell extends Module implements Cell {
  readonly inputSize: number;
  readonly hiddenSize: number;
  readonly stateSize: number;
  readonly fused: FusedCellWeights;

  constructor(
    readonly kind: CellKind,
    options: FusedCellOptions,
  ) {
    super(options, { where: 'FusedCell', schema: FUSED_CELL_OPTIONS });
    CELL_KIND.check(kind, 'FusedCell: kind');
    const forget = options.forgetBias;
    const withBias = options.bias ?? true;
    if (forget !== undefined && kind !== 'lstm') {
      throw new OptionsError(`FusedCell: option 'forgetBias' is for the LSTM cell only, received it for kind '${kind}'`);
    }
    if (forget !== undefined && !withBias) throw new OptionsError("FusedCell: option 'forgetBias' needs the biases (bias: true)");
    this.inputSize = options.inputSize;
    this.hiddenSize = options.hiddenSize;
    this.stateSize = kind === 'lstm' ? 2 : 1;
    const rows = GATE_COUNT[kind] * this.hiddenSize;
    const bound = 1 / Math.sqrt(this.hiddenSize);
    const init = (n: number) => this.random.uniformArray(n, -bound, bound);
    const weightIh = this.addParameter('weight_ih', init, [rows, this.inputSize]);
    const weightHh = this.addParameter('weight_hh', init, [rows, this.hiddenSize]);
    const biasIh = withBias ? this.addParameter('bias_ih', forgetBiasInit(init, this.hiddenSize, forget, 'ih'), [rows]) : null;
    const biasHh = withBias ? this.addParameter('bias_hh', forgetBiasInit(init, this.hiddenSize, forget, 'hh'), [rows]) : null;
    this.fused = { kind, weightIh, weightHh, biasIh, biasHh };
  }

  prepareInput(x: Tensor): Tensor {
    return linear(x, this.fused.weightIh, this.fused.biasIh);
  }

  step(gx: Tensor, state: readonly Tensor[]): Tensor[] {
    const gh = linear(state[0], this.fused.weightHh, this.fused.biasHh);
    return cellStep(this.kind, gx, gh, state[0], state[1]);
  }
}

export interface LeakyCellOptions extends CellOptions {
  /** `tanh` (default), `relu` or `sigmoid`. */
  nonlinearity?: ElmanNonlinearity;
  /** Initial time constant τ ≥ 1: one number for every unit, or one per unit. Default 1. */
  tau?: number | ArrayLike<number>;
  /**
   * Train τ (a parameter `tau`) instead of keeping it fixed (a buffer `tau`). Default false.
   * The optimizer is not constrained: τ below 1 makes the update overshoot, so keep learning
   * rates for τ small or clamp it between steps.
   */
  learnTau?: boolean;
}

const LEAKY_CELL_OPTIONS: OptionsSchema<LeakyCellOptions> = {
  ...CELL_OPTIONS,
  nonlinearity: option.oneOf(...ELMAN_NONLINEARITIES),
  tau: option.either(option.finiteNumber, option.arrayLikeOfNumbers),
  learnTau: option.boolean,
};

/**
 * Leaky-integrator Elman cell: `h' = (1 − 1/τ) ⊙ h + (1/τ) ⊙ act(W_ih x + b_ih + W_hh h + b_hh)`
 * with a per-unit time constant τ (τ = 1 is the Elman cell). Built from core's differentiable
 * ops, so it also shows how a user-defined cell is written.
 */
export class LeakyCell extends Module implements Cell {
  readonly inputSize: number;
  readonly hiddenSize: number;
  readonly stateSize = 1;
  readonly weightIh: Parameter;
  readonly weightHh: Parameter;
  readonly biasIh: Parameter | null;
  readonly biasHh: Parameter | null;
  readonly tau: Parameter;
  private readonly activation: (x: Tensor) => Tensor;

  constructor(options: LeakyCellOptions) {
    super(options, { where: 'LeakyCell', schema: LEAKY_CELL_OPTIONS });
    this.inputSize = options.inputSize;
    this.hiddenSize = options.hiddenSize;
    const H = this.hiddenSize;
    const bound = 1 / Math.sqrt(H);
    const init = (n: number) => this.random.uniformArray(n, -bound, bound);
    this.weightIh = this.addParameter('weight_ih', init, [H, this.inputSize]);
    this.weightHh = this.addParameter('weight_hh', init, [H, H]);
    const withBias = options.bias ?? true;
    this.biasIh = withBias ? this.addParameter('bias_ih', init, [H]) : null;
    this.biasHh = withBias ? this.addParameter('bias_hh', init, [H]) : null;
    const tau =
      typeof options.tau === 'number' || options.tau === undefined ? new Array<number>(H).fill(options.tau ?? 1) : Array.from(options.tau);
    if (tau.length !== H || tau.some((t) => !(t >= 1))) {
      throw new ValueRangeError(`LeakyCell: tau must be a number ≥ 1 or ${H} numbers ≥ 1, received ${JSON.stringify(options.tau)}`);
    }
    this.tau = options.learnTau ? this.addParameter('tau', tau, [H]) : this.addBuffer('tau', tau, [H]);
    this.activation = ELMAN_ACTIVATIONS[options.nonlinearity ?? 'tanh'];
  }

  prepareInput(x: Tensor): Tensor {
    return linear(x, this.weightIh, this.biasIh);
  }

  step(gx: Tensor, state: readonly Tensor[]): Tensor[] {
    const h = state[0];
    const candidate = this.activation(add(gx, linear(h, this.weightHh, this.biasHh)));
    // h + (1/τ)(candidate − h) is the leaky update with one multiply.
    return [add(h, mul(reciprocal(this.tau), sub(candidate, h)))];
  }
}
