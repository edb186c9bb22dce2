/**
 * The cell variants of the notes that no backend kernel computes: the sigmoid Elman cell, the
 * GRU with the reset gate applied before the recurrent matmul, and the LSTM with a projection.
 *
 * They are composite: written with core's differentiable ops, so every backend runs them through
 * `RecurrentLayer`'s generic unrolled path, forward and backward. A new fused `CellKind` would
 * need a forward and a backward kernel in each of the three backends (TypeScript, C++ and WGSL)
 * and their whole-sequence variants; for variants used far less than the PyTorch forms, the few
 * extra dispatches per step do not pay for that. The projected LSTM still runs its gates through
 * the fused LSTM step kernel (see `ProjectedLSTMCell`).
 */
import { OptionsError, ValueRangeError } from '../errors.js';
import { cellStep } from '../ops/cell.js';
import { add, mul, sigmoid, sub, tanh } from '../ops/elementwise.js';
import { linear } from '../ops/matmul.js';
import { slice } from '../ops/shape-ops.js';
import { type OptionsSchema, option, required } from '../options.js';
import { type Parameter, Tensor } from '../tensor.js';
import { CELL_OPTIONS, type Cell, type CellOptions, forgetBiasInit } from './cells.js';
import { Module, type ModuleOptionsCheck } from './module.js';

/**
 * PyTorch's parameters of a cell with `gates` row blocks: `weight_ih [G·H, I]`,
 * `weight_hh [G·H, R]` (R = H, or the projection size), `bias_ih [G·H]`, `bias_hh [G·H]`,
 * each drawn from U(−1/√H, 1/√H) in that order, as `torch.nn.RNNBase.reset_parameters` does.
 */
abstract class PyTorchGateCell extends Module {
  readonly inputSize: number;
  readonly hiddenSize: number;
  readonly weightIh: Parameter;
  readonly weightHh: Parameter;
  readonly biasIh: Parameter | null;
  readonly biasHh: Parameter | null;
  /** Draws U(−1/√H, 1/√H) from the cell's generator; later parameters (weight_hr) use it too. */
  protected readonly draw: (n: number) => Float64Array;

  protected constructor(
    options: CellOptions,
    check: ModuleOptionsCheck,
    gates: number,
    recurrentWidth: number,
    forgetBias?: number,
    /** Range checks that need several (already type-checked) options, run before any allocation. */
    validate?: () => void,
  ) {
    super(options, check);
    validate?.();
    this.inputSize = options.inputSize;
    this.hiddenSize = options.hiddenSize;
    const H = this.hiddenSize;
    const bound = 1 / Math.sqrt(H);
    this.draw = (n) => this.random.uniformArray(n, -bound, bound);
    const withBias = options.bias ?? true;
    if (forgetBias !== undefined && !withBias) throw new OptionsError(`${check.where}: option 'forgetBias' needs the biases (bias: true)`);
    this.weightIh = this.addParameter('weight_ih', this.draw, [gates * H, this.inputSize]);
    this.weightHh = this.addParameter('weight_hh', this.draw, [gates * H, recurrentWidth]);
    this.biasIh = withBias ? this.addParameter('bias_ih', forgetBiasInit(this.draw, H, forgetBias, 'ih'), [gates * H]) : null;
    this.biasHh = withBias ? this.addParameter('bias_hh', forgetBiasInit(this.draw, H, forgetBias, 'hh'), [gates * H]) : null;
  }

  /** The input side of every step at once: `x W_ihᵀ + b_ih`, `[T, B, G·H]`. */
  prepareInput(x: Tensor): Tensor {
    return linear(x, this.weightIh, this.biasIh);
  }
}

/** Rows `[start, start + length)` of a weight or bias (an absent bias stays absent). */
function rows(p: Parameter, start: number, length: number): Tensor;
function rows(p: Parameter | null, start: number, length: number): Tensor | null;
function rows(p: Parameter | null, start: number, length: number): Tensor | null {
  return p && slice(p, 0, start, length);
}

/**
 * The Elman cell with a logistic nonlinearity, `h' = σ(W_ih x + b_ih + W_hh h + b_hh)` (the
 * notes' variant; `RNN({ nonlinearity: 'sigmoid' })`), with PyTorch's names and init.
 */
export class SigmoidElmanCell extends PyTorchGateCell implements Cell {
  readonly stateSize = 1;

  constructor(options: CellOptions) {
    super(options, { where: 'SigmoidElmanCell', schema: CELL_OPTIONS }, 1, options.hiddenSize);
  }

  step(gx: Tensor, state: readonly Tensor[]): Tensor[] {
    return [sigmoid(add(gx, linear(state[0], this.weightHh, this.biasHh)))];
  }
}

/**
 * The GRU of Cho et al. (2014) and of the notes, with the reset gate applied to the state before
 * the recurrent matmul (ONNX `linear_before_reset = 0`):
 * `n = tanh(W_in x + b_in + W_hn (r ⊙ h) + b_hn)`; r, z and `h' = (1 − z) ⊙ n + z ⊙ h` as in
 * PyTorch's GRU, with its names, gate blocks (r, z, n) and init.
 */
export class ResetBeforeGRUCell extends PyTorchGateCell implements Cell {
  readonly stateSize = 1;

  constructor(options: CellOptions) {
    super(options, { where: 'ResetBeforeGRUCell', schema: CELL_OPTIONS }, 3, options.hiddenSize);
  }

  step(gx: Tensor, state: readonly Tensor[]): Tensor[] {
    const H = this.hiddenSize;
    const h = state[0];
    // r ⊙ h must exist before W_hn multiplies it, so the hidden side is two products: the r and z
    // rows of W_hh on h, then the n rows on r ⊙ h (slices of the one PyTorch-named parameter).
    const rz = sigmoid(add(slice(gx, 1, 0, 2 * H), linear(h, rows(this.weightHh, 0, 2 * H), rows(this.biasHh, 0, 2 * H))));
    const r = slice(rz, 1, 0, H);
    const z = slice(rz, 1, H, H);
    const n = tanh(add(slice(gx, 1, 2 * H, H), linear(mul(r, h), rows(this.weightHh, 2 * H, H), rows(this.biasHh, 2 * H, H))));
    // (1 − z) ⊙ n + z ⊙ h, written n + z ⊙ (h − n): one op fewer.
    return [add(n, mul(z, sub(h, n)))];
  }
}

export interface ProjectedLSTMCellOptions extends CellOptions {
  /** P, the width of the projected state h: 1 ≤ P < hiddenSize (PyTorch's `proj_size`). */
  projSize: number;
  /** The forget gate's bias (see `forgetBiasInit`). Default: drawn like every bias. */
  forgetBias?: number;
}

const PROJECTED_LSTM_CELL_OPTIONS: OptionsSchema<ProjectedLSTMCellOptions> = {
  ...CELL_OPTIONS,
  projSize: required(option.positiveInteger),
  forgetBias: option.finiteNumber,
};

/** Checks PyTorch's rule for `proj_size`: a projection narrower than the hidden state. */
export function checkProjSize(where: string, projSize: number, hiddenSize: number): void {
  if (projSize >= hiddenSize) {
    throw new ValueRangeError(`${where}: option 'projSize' must be smaller than hiddenSize (${hiddenSize}), received ${projSize}`);
  }
}

/**
 * The LSTM with a projection (Sak et al. 2014; PyTorch's `proj_size`): the gates and `c` as in the
 * LSTM, then `h' = W_hr (o ⊙ tanh(c'))` with `weight_hr [P, H]`, so the state is `h [B, P]` and
 * `c [B, H]` (`stateWidths = [P, H]`) and `weight_hh` is `[4H, P]`. Parameters in PyTorch's
 * order (`weight_ih`, `weight_hh`, `bias_ih`, `bias_hh`, `weight_hr`), all U(−1/√H, 1/√H).
 *
 * The gates run through the fused LSTM step kernel: it reads the previous h only through `gh`
 * (its element-wise `dhPrev` is zero by the backend contract), so a zero `[B, H]` stands in for
 * the kernel's h argument and the projected width never reaches it.
 */
export class ProjectedLSTMCell extends PyTorchGateCell implements Cell {
  readonly stateSize = 2;
  readonly stateWidths: readonly number[];
  readonly projSize: number;
  readonly weightHr: Parameter;

  constructor(options: ProjectedLSTMCellOptions) {
    const check = { where: 'ProjectedLSTMCell', schema: PROJECTED_LSTM_CELL_OPTIONS };
    super(options, check, 4, options.projSize, options.forgetBias, () =>
      checkProjSize('ProjectedLSTMCell', options.projSize, options.hiddenSize),
    );
    this.projSize = options.projSize;
    this.stateWidths = [this.projSize, this.hiddenSize];
    this.weightHr = this.addParameter('weight_hr', this.draw, [this.projSize, this.hiddenSize]);
  }

  step(gx: Tensor, state: readonly Tensor[]): Tensor[] {
    const [h, c] = state;
    const batch = h.shape[0];
    const gh = linear(h, this.weightHh, this.biasHh);
    const standIn = Tensor.fromBuffer(this.backend, this.backend.fill(batch * this.hiddenSize, 0), [batch, this.hiddenSize]);
    const [unprojected, cNext] = cellStep('lstm', gx, gh, standIn, c);
    return [linear(unprojected, this.weightHr), cNext];
  }
}
