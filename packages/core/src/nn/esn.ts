import { ValueRangeError } from '../errors.js';
import { add, scale, sub, tanh } from '../ops/elementwise.js';
import { linear } from '../ops/matmul.js';
import { type OptionsSchema, option, required } from '../options.js';
import type { Parameter, Tensor } from '../tensor.js';
import type { Cell } from './cells.js';
import { estimateSpectralRadius } from './esn-linalg.js';
import { MODULE_OPTIONS, Module, type ModuleOptions } from './module.js';
import { LAYER_OPTIONS, RecurrentLayer, type RecurrentLayerOptions } from './recurrent.js';

/** The reservoir's hyper-parameters, shared by `ESN` and `ESNCell`. */
export interface ReservoirOptions {
  /** ρ, the spectral radius `weight_hh` is scaled to (> 0). Default 0.9. */
  spectralRadius?: number;
  /** α in (0, 1]: `x_t = (1 − α) x_{t−1} + α x̃_t` (the leaky cell with τ = 1/α). Default 1. */
  leakRate?: number;
  /** `weight_ih` ~ U(−inputScaling, inputScaling) (> 0). Default 1. */
  inputScaling?: number;
  /** `bias_ih` ~ U(−biasScaling, biasScaling) (≥ 0; 0 keeps the bias at zero). Default 0. */
  biasScaling?: number;
  /**
   * Probability that an entry of `weight_hh` is non-zero, in (0, 1]. Default 0.1. A reservoir
   * too sparse to contain a cycle is nilpotent (spectral radius 0) and cannot be scaled: the
   * constructor then throws, and small reservoirs need a larger density.
   */
  density?: number;
}

const RESERVOIR_OPTIONS: OptionsSchema<ReservoirOptions> = {
  spectralRadius: option.positiveNumber,
  leakRate: option.numberIn(0, 1, '(]'),
  inputScaling: option.positiveNumber,
  biasScaling: option.nonNegativeNumber,
  density: option.numberIn(0, 1, '(]'),
};

export interface ESNCellOptions extends ModuleOptions, ReservoirOptions {
  inputSize: number;
  hiddenSize: number;
  /** Accepted and ignored, so a `RecurrentLayer` cell factory can pass its arguments on. */
  layer?: number;
  direction?: number;
}

const ESN_CELL_OPTIONS: OptionsSchema<ESNCellOptions> = {
  ...MODULE_OPTIONS,
  ...RESERVOIR_OPTIONS,
  inputSize: required(option.positiveInteger),
  hiddenSize: required(option.positiveInteger),
  layer: option.nonNegativeInteger,
  direction: option.nonNegativeInteger,
};

/**
 * One reservoir layer of an echo state network, a leaky tanh cell with fixed weights:
 * `x̃_t = tanh(W_ih u_t + b + W_hh x_{t−1})`, `x_t = (1 − α) x_{t−1} + α x̃_t`. Its parameters
 * `weight_ih [H, I]`, `weight_hh [H, H]` and `bias_ih [H]` are frozen (`requiresGrad` false):
 * gradients still flow through them to the input and the initial state.
 *
 * Not `LeakyCell`: that cell carries a second bias `bias_hh` and a `tau` buffer, which the
 * ESN's parameter set (named as in the spec) does not have.
 */
export class ESNCell extends Module implements Cell {
  readonly inputSize: number;
  readonly hiddenSize: number;
  readonly stateSize = 1;
  readonly leakRate: number;
  readonly weightIh: Parameter;
  readonly weightHh: Parameter;
  readonly biasIh: Parameter;

  constructor(options: ESNCellOptions) {
    super(options, { where: 'ESNCell', schema: ESN_CELL_OPTIONS });
    const { inputSize, hiddenSize } = options;
    const rho = options.spectralRadius ?? 0.9;
    const density = options.density ?? 0.1;
    const inputScaling = options.inputScaling ?? 1;
    const biasScaling = options.biasScaling ?? 0;
    this.inputSize = inputSize;
    this.hiddenSize = hiddenSize;
    this.leakRate = options.leakRate ?? 1;
    // Drawn in registration order (w_ih, w_hh, b), so one seed fixes the whole stack.
    this.weightIh = this.frozen('weight_ih', (n) => this.random.uniformArray(n, -inputScaling, inputScaling), [hiddenSize, inputSize]);
    this.weightHh = this.frozen('weight_hh', (n) => this.reservoir(n, hiddenSize, density, rho), [hiddenSize, hiddenSize]);
    this.biasIh = this.frozen('bias_ih', (n) => this.random.uniformArray(n, -biasScaling, biasScaling), [hiddenSize]);
  }

  /** A parameter that is never trained: PyTorch's `requires_grad_(False)`, so it stays in `parameters()`. */
  private frozen(name: string, init: (n: number) => ArrayLike<number>, shape: number[]): Parameter {
    const p = this.addParameter(name, init, shape);
    p.requiresGrad = false;
    return p;
  }

  /** Sparse U(−1, 1) entries (each non-zero with probability `density`), scaled to radius ρ. */
  private reservoir(count: number, size: number, density: number, rho: number): Float64Array {
    const w = new Float64Array(count);
    // One draw decides each entry's presence and a second its value, row by row.
    for (let i = 0; i < count; i++) if (this.random.next() < density) w[i] = this.random.uniform(-1, 1);
    const radius = estimateSpectralRadius(w, size);
    if (radius === 0) {
      throw new ValueRangeError(
        `ESN: the reservoir drawn with hiddenSize ${size} and density ${density} is nilpotent (spectral radius 0: too sparse to contain a cycle) and cannot be scaled to spectralRadius ${rho}; raise density or change seed`,
      );
    }
    const factor = rho / radius;
    for (let i = 0; i < count; i++) w[i] *= factor;
    return w;
  }

  prepareInput(x: Tensor): Tensor {
    return linear(x, this.weightIh, this.biasIh);
  }

  step(gx: Tensor, state: readonly Tensor[]): Tensor[] {
    const h = state[0];
    const candidate = tanh(add(gx, linear(h, this.weightHh)));
    // x + α(x̃ − x) is the leaky update with one multiply; α = 1 skips it.
    return [this.leakRate === 1 ? candidate : add(h, scale(sub(candidate, h), this.leakRate))];
  }
}

export interface ESNOptions extends ModuleOptions, ReservoirOptions {
  inputSize: number;
  hiddenSize: number;
  /** Stacked reservoirs: layer k + 1 is driven by the states of layer k. Default 1. */
  numLayers?: number;
  /** Input and output are `[B, T, ·]` instead of `[T, B, ·]` (never the states). Default false. */
  batchFirst?: boolean;
}

const ESN_OPTIONS: OptionsSchema<ESNOptions> = {
  ...MODULE_OPTIONS,
  ...RESERVOIR_OPTIONS,
  inputSize: LAYER_OPTIONS.inputSize,
  hiddenSize: LAYER_OPTIONS.hiddenSize,
  numLayers: LAYER_OPTIONS.numLayers,
  batchFirst: LAYER_OPTIONS.batchFirst,
};

/**
 * Echo state network (Jaeger 2001): stacked fixed random reservoirs of leaky tanh units, as a
 * `RecurrentLayer` of `ESNCell`s. Parameters `weight_ih_l{k} [H, I_k]`, `weight_hh_l{k} [H, H]`,
 * `bias_ih_l{k} [H]` are frozen; `weight_hh` is sparse (`density`) and scaled to
 * `spectralRadius` (see `estimateSpectralRadius` for how the radius is measured).
 * `forward(x, { h0, lengths })` returns `{ output, hN }` like every layer; `output` holds the
 * last layer's states, the input of a readout trained by `fitRidge`. Deterministic from `seed`.
 * Bidirectional reservoirs, dropout and residual stacking are not part of the model (options
 * for them are rejected); build a `RecurrentLayer` of `ESNCell`s for variants.
 */
export class ESN extends RecurrentLayer {
  /** α, as given (default 1). */
  readonly leakRate: number;
  /** The spectral radius the reservoirs were scaled to at construction (not re-measured after `loadStateDict`). */
  readonly spectralRadius: number;

  constructor(options: ESNOptions) {
    // `RecurrentLayer` checks the options against ESN_OPTIONS before the factory runs.
    super(options as RecurrentLayerOptions, {
      where: 'ESN',
      schema: ESN_OPTIONS,
      cell: (args) =>
        new ESNCell({
          ...args,
          spectralRadius: options.spectralRadius,
          leakRate: options.leakRate,
          inputScaling: options.inputScaling,
          biasScaling: options.biasScaling,
          density: options.density,
        }),
    });
    this.leakRate = options.leakRate ?? 1;
    this.spectralRadius = options.spectralRadius ?? 0.9;
  }
}

// The readout and the radius estimate, so that `index.ts` re-exports the whole ESN from here.
export { estimateSpectralRadius } from './esn-linalg.js';
export { type FitRidgeOptions, fitRidge, type RidgeData } from './ridge.js';
