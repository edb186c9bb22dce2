import { FusedCell, LeakyCell } from './cells.js';
import { RecurrentLayer, type RecurrentLayerOptions } from './recurrent.js';

/** PyTorch's options, camelCased; the cell is fixed by the class. */
export type LayerOptions = Omit<RecurrentLayerOptions, 'cell'> & {
  /** Default true: `bias_ih_l*` and `bias_hh_l*`. */
  bias?: boolean;
};

/** Elman RNN, PyTorch's `nn.RNN`: `h' = act(W_ih x + b_ih + W_hh h + b_hh)`. */
export class RNN extends RecurrentLayer {
  constructor(options: LayerOptions & { nonlinearity?: 'tanh' | 'relu' }) {
    const kind = options.nonlinearity ?? 'tanh';
    super({ ...options, cell: (args) => new FusedCell(kind, { ...args, bias: options.bias }) });
  }
}

/** PyTorch's `nn.LSTM` (gate blocks i, f, g, o). `forward` returns `cN` too. */
export class LSTM extends RecurrentLayer {
  constructor(options: LayerOptions) {
    super({ ...options, cell: (args) => new FusedCell('lstm', { ...args, bias: options.bias }) });
  }
}

/** PyTorch's `nn.GRU` (gate blocks r, z, n; reset applied after the matmul). */
export class GRU extends RecurrentLayer {
  constructor(options: LayerOptions) {
    super({ ...options, cell: (args) => new FusedCell('gru', { ...args, bias: options.bias }) });
  }
}

/**
 * Update-gate RNN (Collins, Sohl-Dickstein & Sussillo 2016), gate blocks g, c:
 * `h' = g ⊙ h + (1 − g) ⊙ tanh(W_cx x + W_ch h + b_c)`, `g = σ(W_gx x + W_gh h + b_g)`.
 */
export class UGRNN extends RecurrentLayer {
  constructor(options: LayerOptions) {
    super({ ...options, cell: (args) => new FusedCell('ugrnn', { ...args, bias: options.bias }) });
  }
}

/** Leaky-integrator RNN with a per-unit time constant τ (fixed, or learned with `learnTau`). */
export class LeakyRNN extends RecurrentLayer {
  constructor(
    options: LayerOptions & {
      nonlinearity?: 'tanh' | 'relu';
      tau?: number | ArrayLike<number>;
      learnTau?: boolean;
    },
  ) {
    super({
      ...options,
      cell: (args) =>
        new LeakyCell({ ...args, bias: options.bias, nonlinearity: options.nonlinearity, tau: options.tau, learnTau: options.learnTau }),
    });
  }
}
