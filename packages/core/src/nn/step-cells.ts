/**
 * Single-step modules with PyTorch's `nn.RNNCell`, `nn.LSTMCell` and `nn.GRUCell` interfaces:
 * parameters `weight_ih [G·H, I]`, `weight_hh [G·H, H]`, `bias_ih`, `bias_hh` (no layer
 * suffix), PyTorch's init, and `forward(x, state?)` for one time step, batched `[B, I]` or
 * unbatched `[I]`. The loop over time is the caller's (a decoder feeding back its own samples).
 */
import { describeShape, ShapeError } from '../errors.js';
import { reshape } from '../ops/shape-ops.js';
import { describeValue, type OptionsSchema, option, required } from '../options.js';
import { Tensor } from '../tensor.js';
import { type Cell, ELMAN_NONLINEARITIES, type ElmanNonlinearity, FusedCell } from './cells.js';
import { MODULE_OPTIONS, Module, type ModuleOptions } from './module.js';
import { ResetBeforeGRUCell, SigmoidElmanCell } from './variant-cells.js';

export interface StepCellOptions extends ModuleOptions {
  inputSize: number;
  hiddenSize: number;
  /** Default true: `bias_ih` and `bias_hh`. */
  bias?: boolean;
}

export interface RNNCellOptions extends StepCellOptions {
  /** `tanh` (default), `relu` or `sigmoid`. */
  nonlinearity?: ElmanNonlinearity;
}

export interface GRUCellOptions extends StepCellOptions {
  /** Default true, PyTorch's form; false applies the reset gate before the matmul (Cho et al.). */
  resetAfter?: boolean;
}

export interface LSTMCellOptions extends StepCellOptions {
  /** The forget gate's bias: the f block of `bias_ih` is set to it and that of `bias_hh` to 0. */
  forgetBias?: number;
}

const STEP_CELL_OPTIONS: OptionsSchema<StepCellOptions> = {
  ...MODULE_OPTIONS,
  inputSize: required(option.positiveInteger),
  hiddenSize: required(option.positiveInteger),
  bias: option.boolean,
};

/**
 * The shared part: an inner `Cell` whose parameters this module registers under the same names,
 * and the shape handling of one step (the unbatched form is the batched one with B = 1).
 */
abstract class StepModule extends Module {
  readonly inputSize: number;
  readonly hiddenSize: number;
  protected readonly cell: Cell;

  protected constructor(
    options: StepCellOptions,
    private readonly where: string,
    schema: OptionsSchema<StepCellOptions>,
    makeCell: (args: StepCellOptions) => Cell,
  ) {
    super(options, { where, schema });
    this.inputSize = options.inputSize;
    this.hiddenSize = options.hiddenSize;
    // The inner cell draws from this module's generator, so a seed gives PyTorch's init order.
    this.cell = makeCell({
      inputSize: this.inputSize,
      hiddenSize: this.hiddenSize,
      bias: options.bias,
      backend: this.backend,
      random: this.random,
    });
    for (const [name, p] of this.cell.namedParameters()) this.registerParameter(name, p);
  }

  /**
   * One step from `x` `[B, I]` or `[I]` and the state (zeros where `given` is undefined), each
   * `[B, H]` or `[H]` alike; returns the new state in the input's form.
   */
  protected run(x: Tensor, given: readonly (Tensor | undefined)[], names: readonly string[]): Tensor[] {
    if (!(x instanceof Tensor)) throw new ShapeError(`${this.where}.forward: input must be a Tensor, received ${describeValue(x)}`);
    const unbatched = x.rank === 1;
    if ((x.rank !== 1 && x.rank !== 2) || x.shape[x.rank - 1] !== this.inputSize) {
      throw new ShapeError(
        `${this.where}.forward: input must be [B, ${this.inputSize}] or [${this.inputSize}] (unbatched), received ${describeShape(x.shape)}`,
      );
    }
    const batch = unbatched ? 1 : x.shape[0];
    const H = this.hiddenSize;
    const state = given.map((s, i) => {
      if (s === undefined) return Tensor.fromBuffer(this.backend, this.backend.fill(batch * H, 0), [batch, H]);
      const expected = unbatched ? [H] : [batch, H];
      if (!(s instanceof Tensor) || s.shape.join() !== expected.join()) {
        const received = s instanceof Tensor ? describeShape(s.shape) : describeValue(s);
        throw new ShapeError(`${this.where}.forward: ${names[i]} must be ${describeShape(expected)} for this input, received ${received}`);
      }
      return unbatched ? reshape(s, [1, H]) : s;
    });
    const x2 = unbatched ? reshape(x, [1, this.inputSize]) : x;
    const gx = this.cell.prepareInput ? this.cell.prepareInput(x2) : x2;
    const next = this.cell.step(gx, state);
    return unbatched ? next.map((s) => reshape(s, [H])) : next;
  }
}

const RNN_CELL_OPTIONS: OptionsSchema<RNNCellOptions> = { ...STEP_CELL_OPTIONS, nonlinearity: option.oneOf(...ELMAN_NONLINEARITIES) };

/** PyTorch's `nn.RNNCell`: `h' = act(W_ih x + b_ih + W_hh h + b_hh)`, act tanh, relu or sigmoid. */
export class RNNCell extends StepModule {
  readonly nonlinearity: ElmanNonlinearity;

  constructor(options: RNNCellOptions) {
    super(options, 'RNNCell', RNN_CELL_OPTIONS, (args) => {
      const kind = options.nonlinearity ?? 'tanh';
      return kind === 'sigmoid' ? new SigmoidElmanCell(args) : new FusedCell(kind, args);
    });
    this.nonlinearity = options.nonlinearity ?? 'tanh';
  }

  /** One step: `x` `[B, I]` (or `[I]`), `h` `[B, H]` (or `[H]`, zeros when omitted) → `h'`. */
  forward(x: Tensor, h?: Tensor): Tensor {
    return this.run(x, [h], ['h'])[0];
  }
}

const GRU_CELL_OPTIONS: OptionsSchema<GRUCellOptions> = { ...STEP_CELL_OPTIONS, resetAfter: option.boolean };

/** PyTorch's `nn.GRUCell` (gate blocks r, z, n); `resetAfter: false` gives the notes' form. */
export class GRUCell extends StepModule {
  readonly resetAfter: boolean;

  constructor(options: GRUCellOptions) {
    super(options, 'GRUCell', GRU_CELL_OPTIONS, (args) =>
      (options.resetAfter ?? true) ? new FusedCell('gru', args) : new ResetBeforeGRUCell(args),
    );
    this.resetAfter = options.resetAfter ?? true;
  }

  /** One step: `x` `[B, I]` (or `[I]`), `h` `[B, H]` (or `[H]`, zeros when omitted) → `h'`. */
  forward(x: Tensor, h?: Tensor): Tensor {
    return this.run(x, [h], ['h'])[0];
  }
}

const LSTM_CELL_OPTIONS: OptionsSchema<LSTMCellOptions> = { ...STEP_CELL_OPTIONS, forgetBias: option.finiteNumber };

/** PyTorch's `nn.LSTMCell` (gate blocks i, f, g, o). */
export class LSTMCell extends StepModule {
  constructor(options: LSTMCellOptions) {
    super(options, 'LSTMCell', LSTM_CELL_OPTIONS, (args) => new FusedCell('lstm', { ...args, forgetBias: options.forgetBias }));
  }

  /**
   * One step: `x` `[B, I]` (or `[I]`) and `[h, c]`, each `[B, H]` (or `[H]`; zeros when the
   * state is omitted) → `[h', c']`, PyTorch's tuple as an array.
   */
  forward(x: Tensor, state?: readonly [Tensor, Tensor]): [Tensor, Tensor] {
    if (state !== undefined && (!Array.isArray(state) || state.length !== 2)) {
      throw new ShapeError(`LSTMCell.forward: state must be [h, c] (two tensors) or omitted, received ${describeValue(state)}`);
    }
    const [h, c] = this.run(x, state ?? [undefined, undefined], ['state[0] (h)', 'state[1] (c)']);
    return [h, c];
  }
}
