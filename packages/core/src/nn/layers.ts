import { type OptionsSchema, option } from '../options.js';
import { ELMAN_NONLINEARITIES, FusedCell, LeakyCell } from './cells.js';
import { type CellFactoryArgs, LAYER_OPTIONS, RecurrentLayer, type RecurrentLayerOptions } from './recurrent.js';

/** PyTorch's options, camelCased; the cell is fixed by the class. */
export type LayerOptions = Omit<RecurrentLayerOptions, 'cell'> & {
  /** Default true: `bias_ih_l*` and `bias_hh_l*`. */
  bias?: boolean;
};

export type RNNOptions = LayerOptions & {
  /** `tanh` (default) or `relu`. */
  nonlinearity?: 'tanh' | 'relu';
};

export type LeakyRNNOptions = LayerOptions & {
  /** `tanh` (default) or `relu`. */
  nonlinearity?: 'tanh' | 'relu';
  /** Initial time constant τ ≥ 1: one number for every unit, or one per unit. Default 1. */
  tau?: number | ArrayLike<number>;
  /** Train τ (a parameter) instead of keeping it fixed (a buffer). Default false. */
  learnTau?: boolean;
};

const FUSED_LAYER_OPTIONS: OptionsSchema<LayerOptions> = { ...LAYER_OPTIONS, bias: option.boolean };
const RNN_OPTIONS: OptionsSchema<RNNOptions> = { ...FUSED_LAYER_OPTIONS, nonlinearity: option.oneOf(...ELMAN_NONLINEARITIES) };
const LEAKY_RNN_OPTIONS: OptionsSchema<LeakyRNNOptions> = {
  ...RNN_OPTIONS,
  tau: option.either(option.finiteNumber, option.arrayLikeOfNumbers),
  learnTau: option.boolean,
};

// The options objects below reach `RecurrentLayer` without a `cell`: the subclass supplies it
// through the second argument, and `RecurrentLayer` checks the options against its schema
// before reading anything else from them (so the factories run on checked values only).

/** Elman RNN, PyTorch's `nn.RNN`: `h' = act(W_ih x + b_ih + W_hh h + b_hh)`. */
export class RNN extends RecurrentLayer {
  constructor(options: RNNOptions) {
    super(options as RecurrentLayerOptions, {
      where: 'RNN',
      schema: RNN_OPTIONS,
      cell: (args) => new FusedCell(options.nonlinearity ?? 'tanh', { ...args, bias: options.bias }),
    });
  }
}

/** PyTorch's `nn.LSTM` (gate blocks i, f, g, o). `forward` returns `cN` too. */
export class LSTM extends RecurrentLayer {
  constructor(options: LayerOptions) {
    super(options as RecurrentLayerOptions, { where: 'LSTM', schema: FUSED_LAYER_OPTIONS, cell: fusedCell('lstm', options) });
  }
}

/** PyTorch's `nn.GRU` (gate blocks r, z, n; reset applied after the matmul). */
export class GRU extends RecurrentLayer {
  constructor(options: LayerOptions) {
    super(options as RecurrentLayerOptions, { where: 'GRU', schema: FUSED_LAYER_OPTIONS, cell: fusedCell('gru', options) });
  }
}

/**
 * Update-gate RNN (Collins, Sohl-Dickstein & Sussillo 2016), gate blocks g, c:
 * `h' = g ⊙ h + (1 − g) ⊙ tanh(W_cx x + W_ch h + b_c)`, `g = σ(W_gx x + W_gh h + b_g)`.
 */
export class UGRNN extends RecurrentLayer {
  constructor(options: LayerOptions) {
    super(options as RecurrentLayerOptions, { where: 'UGRNN', schema: FUSED_LAYER_OPTIONS, cell: fusedCell('ugrnn', options) });
  }
}

/** Leaky-integrator RNN with a per-unit time constant τ (fixed, or learned with `learnTau`). */
export class LeakyRNN extends RecurrentLayer {
  constructor(options: LeakyRNNOptions) {
    super(options as RecurrentLayerOptions, {
      where: 'LeakyRNN',
      schema: LEAKY_RNN_OPTIONS,
      cell: (args) =>
        new LeakyCell({ ...args, bias: options.bias, nonlinearity: options.nonlinearity, tau: options.tau, learnTau: options.learnTau }),
    });
  }
}

function fusedCell(kind: 'lstm' | 'gru' | 'ugrnn', options: LayerOptions): (args: CellFactoryArgs) => FusedCell {
  return (args) => new FusedCell(kind, { ...args, bias: options.bias });
}
