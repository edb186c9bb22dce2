import { type OptionsSchema, option } from '../options.js';
import { ELMAN_NONLINEARITIES, type ElmanNonlinearity, FusedCell, LeakyCell } from './cells.js';
import { type CellFactoryArgs, LAYER_OPTIONS, RecurrentLayer, type RecurrentLayerOptions } from './recurrent.js';
import { checkProjSize, ProjectedLSTMCell, ResetBeforeGRUCell, SigmoidElmanCell } from './variant-cells.js';

/** PyTorch's options, camelCased; the cell is fixed by the class. */
export type LayerOptions = Omit<RecurrentLayerOptions, 'cell'> & {
  /** Default true: `bias_ih_l*` and `bias_hh_l*`. */
  bias?: boolean;
};

export type RNNOptions = LayerOptions & {
  /** `tanh` (default), `relu` (both fused kernels) or `sigmoid` (a composite cell). */
  nonlinearity?: ElmanNonlinearity;
};

export type GRUOptions = LayerOptions & {
  /**
   * Default true: PyTorch's GRU, `n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))` (fused kernels).
   * false: the notes' and Cho et al.'s form, `n = tanh(W_in x + b_in + W_hn (r ⊙ h) + b_hn)`
   * (ONNX `linear_before_reset = 0`), a composite cell with the same parameters.
   */
  resetAfter?: boolean;
};

export type LSTMOptions = LayerOptions & {
  /**
   * PyTorch's `proj_size`: 0 (default) for none, else P < hiddenSize. Each layer then projects
   * `h = W_hr (o ⊙ tanh(c))` with `weight_hr_l{k} [P, H]`, `weight_hh_l{k}` is `[4H, P]`,
   * layer k > 0 reads D·P features, `output` is `[T, B, D·P]`, `hN` `[L·D, B, P]` and `cN`
   * `[L·D, B, H]`. A composite cell (`ProjectedLSTMCell`).
   */
  projSize?: number;
  /**
   * The forget gate's initial bias, in every layer and direction: the f block of `bias_ih_l*`
   * is set to it and that of `bias_hh_l*` to 0, so the gate's bias is exactly this value (1 is the
   * usual advice, Jozefowicz et al. 2015). The other values are PyTorch's draws, as without it.
   */
  forgetBias?: number;
};

export type LeakyRNNOptions = LayerOptions & {
  /** `tanh` (default), `relu` or `sigmoid`. */
  nonlinearity?: ElmanNonlinearity;
  /** Initial time constant τ ≥ 1: one number for every unit, or one per unit. Default 1. */
  tau?: number | ArrayLike<number>;
  /** Train τ (a parameter) instead of keeping it fixed (a buffer). Default false. */
  learnTau?: boolean;
};

const FUSED_LAYER_OPTIONS: OptionsSchema<LayerOptions> = { ...LAYER_OPTIONS, bias: option.boolean };
const RNN_OPTIONS: OptionsSchema<RNNOptions> = { ...FUSED_LAYER_OPTIONS, nonlinearity: option.oneOf(...ELMAN_NONLINEARITIES) };
const GRU_OPTIONS: OptionsSchema<GRUOptions> = { ...FUSED_LAYER_OPTIONS, resetAfter: option.boolean };
const LSTM_OPTIONS: OptionsSchema<LSTMOptions> = {
  ...FUSED_LAYER_OPTIONS,
  projSize: option.nonNegativeInteger,
  forgetBias: option.finiteNumber,
};
const LEAKY_RNN_OPTIONS: OptionsSchema<LeakyRNNOptions> = {
  ...RNN_OPTIONS,
  tau: option.either(option.finiteNumber, option.arrayLikeOfNumbers),
  learnTau: option.boolean,
};

// The options objects below reach `RecurrentLayer` without a `cell`: the subclass supplies it
// through the second argument, and `RecurrentLayer` checks the options against its schema
// before reading anything else from them (so the factories run on checked values only).

/**
 * Elman RNN, PyTorch's `nn.RNN`: `h' = act(W_ih x + b_ih + W_hh h + b_hh)`, act tanh, relu or
 * (the notes' variant, which PyTorch lacks) sigmoid, with PyTorch's names and init for all three.
 */
export class RNN extends RecurrentLayer {
  constructor(options: RNNOptions) {
    super(options as RecurrentLayerOptions, {
      where: 'RNN',
      schema: RNN_OPTIONS,
      cell: (args) => {
        const kind = options.nonlinearity ?? 'tanh';
        const cellOptions = { ...args, bias: options.bias };
        return kind === 'sigmoid' ? new SigmoidElmanCell(cellOptions) : new FusedCell(kind, cellOptions);
      },
    });
  }
}

/**
 * PyTorch's `nn.LSTM` (gate blocks i, f, g, o), with its `proj_size` as `projSize`, and
 * `forgetBias`. `forward` returns `cN` too.
 */
export class LSTM extends RecurrentLayer {
  constructor(options: LSTMOptions) {
    const projSize = options.projSize ?? 0;
    super(options as RecurrentLayerOptions, {
      where: 'LSTM',
      schema: LSTM_OPTIONS,
      cell: (args) => {
        const cellOptions = { ...args, bias: options.bias, forgetBias: options.forgetBias };
        if (projSize === 0) return new FusedCell('lstm', cellOptions);
        // Checked here too so the message names the layer's option, before any cell exists.
        if (args.layer === 0 && args.direction === 0) checkProjSize('LSTM', projSize, args.hiddenSize);
        return new ProjectedLSTMCell({ ...cellOptions, projSize });
      },
    });
  }
}

/** PyTorch's `nn.GRU` (gate blocks r, z, n; reset after the matmul unless `resetAfter: false`). */
export class GRU extends RecurrentLayer {
  constructor(options: GRUOptions) {
    super(options as RecurrentLayerOptions, {
      where: 'GRU',
      schema: GRU_OPTIONS,
      cell: (args) => {
        const cellOptions = { ...args, bias: options.bias };
        return (options.resetAfter ?? true) ? new FusedCell('gru', cellOptions) : new ResetBeforeGRUCell(cellOptions);
      },
    });
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

function fusedCell(kind: 'ugrnn', options: LayerOptions): (args: CellFactoryArgs) => FusedCell {
  return (args) => new FusedCell(kind, { ...args, bias: options.bias });
}
