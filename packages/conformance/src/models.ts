import {
  add,
  type Backend,
  type Cell,
  type CellFactoryArgs,
  GRU,
  LeakyRNN,
  LSTM,
  linear,
  Module,
  mul,
  type Parameter,
  RecurrentLayer,
  RNN,
  sigmoid,
  sub,
  type Tensor,
  tanh,
  UGRNN,
} from '@recur/core';

/** Every cell the suite exercises: the built-ins plus a user-defined one. */
export const CELL_TYPES = ['rnn-tanh', 'rnn-relu', 'lstm', 'gru', 'ugrnn', 'leaky', 'leaky-learned', 'custom-mgu'] as const;
export type CellType = (typeof CELL_TYPES)[number];

export interface ModelShape {
  inputSize: number;
  hiddenSize: number;
  numLayers: number;
  bidirectional: boolean;
  residual: boolean;
  batchFirst?: boolean;
  bias?: boolean;
}

/**
 * A minimal gated unit (Zhou et al. 2016) written by a "user" from core's differentiable ops:
 * `f = σ(W_f x + U_f h + b_f)`, `h' = (1 − f) ⊙ h + f ⊙ tanh(W_h x + U_h (f ⊙ h) + b_h)`.
 * It proves that any `Cell` gets unrolling, stacking, lengths and BPTT from `RecurrentLayer`.
 */
export class MinimalGatedCell extends Module implements Cell {
  readonly stateSize = 1;
  readonly inputSize: number;
  readonly hiddenSize: number;
  private readonly wF: Parameter;
  private readonly uF: Parameter;
  private readonly bF: Parameter;
  private readonly wH: Parameter;
  private readonly uH: Parameter;
  private readonly bH: Parameter;

  constructor(args: CellFactoryArgs) {
    super(args);
    this.inputSize = args.inputSize;
    this.hiddenSize = args.hiddenSize;
    const H = args.hiddenSize;
    const I = args.inputSize;
    const u = (n: number) => args.random.uniformArray(n, -1 / Math.sqrt(H), 1 / Math.sqrt(H));
    this.wF = this.addParameter('weight_f', u(H * I), [H, I]);
    this.uF = this.addParameter('recurrent_f', u(H * H), [H, H]);
    this.bF = this.addParameter('bias_f', u(H), [H]);
    this.wH = this.addParameter('weight_h', u(H * I), [H, I]);
    this.uH = this.addParameter('recurrent_h', u(H * H), [H, H]);
    this.bH = this.addParameter('bias_h', u(H), [H]);
  }

  step(x: Tensor, [h]: readonly Tensor[]): Tensor[] {
    const f = sigmoid(add(linear(x, this.wF, this.bF), linear(h, this.uF)));
    const candidate = tanh(add(linear(x, this.wH, this.bH), linear(mul(f, h), this.uH)));
    return [add(h, mul(f, sub(candidate, h)))];
  }
}

/** Builds a layer of the given cell type; the same `seed` gives the same parameters everywhere. */
export function buildModel(type: CellType, shape: ModelShape, backend: Backend, seed: number): RecurrentLayer {
  const common = { ...shape, backend, seed };
  switch (type) {
    case 'rnn-tanh':
      return new RNN({ ...common, nonlinearity: 'tanh' });
    case 'rnn-relu':
      return new RNN({ ...common, nonlinearity: 'relu' });
    case 'lstm':
      return new LSTM(common);
    case 'gru':
      return new GRU(common);
    case 'ugrnn':
      return new UGRNN(common);
    case 'leaky':
      return new LeakyRNN({ ...common, tau: Array.from({ length: shape.hiddenSize }, (_, i) => 1 + i) });
    case 'leaky-learned':
      return new LeakyRNN({ ...common, tau: Array.from({ length: shape.hiddenSize }, (_, i) => 1.5 + i / 2), learnTau: true });
    case 'custom-mgu':
      return new RecurrentLayer({ ...common, cell: (args) => new MinimalGatedCell(args) });
  }
}
