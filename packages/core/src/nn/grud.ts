/**
 * GRU-D (Che et al. 2018) as rnn-semantics.md specifies it: a GRU whose missing inputs decay from
 * their last observation toward the empirical mean, whose hidden state decays with the time since
 * each feature was observed, and which reads the mask as extra input. Built from core's
 * differentiable ops, so it runs on every backend; the last observed input travels in the cell
 * state beside `h` (`stateWidths [H, I]`).
 */
import type { Backend } from '../backend/interface.js';
import { describeShape, OptionsError, ShapeError, ValueRangeError } from '../errors.js';
import { cellStep } from '../ops/cell.js';
import { add, exp, mul, neg, relu, sub } from '../ops/elementwise.js';
import { linear } from '../ops/matmul.js';
import { concat, gatherRows, permute, reshape, slice } from '../ops/shape-ops.js';
import { checkOptions, describeValue, isPlainObject, type OptionSpec, type OptionsSchema, option, required } from '../options.js';
import type { Random } from '../random.js';
import { type Parameter, Tensor, tensor } from '../tensor.js';
import type { Cell } from './cells.js';
import { MODULE_OPTIONS, Module, type ModuleOptions } from './module.js';
import { RecurrentLayer, type RecurrentOutput } from './recurrent.js';
import { checkLengths, checkMask, checkSeries, deltasFrom, hostValues, type SeriesData, timestampsOf } from './time-aware.js';

export interface GRUDOptions extends ModuleOptions {
  /** Features per step, I. */
  inputSize: number;
  hiddenSize: number;
  /**
   * `x_mean` `[I]`: each feature's empirical mean over the training data, toward which a missing
   * input decays; a buffer (saved in the state dict as `x_mean`, not trained). Default zeros, the
   * mean of standardised data.
   */
  xMean?: ArrayLike<number>;
  /** `x`, `mask`, `delta`, `output` are `[B, T, ·]` (never the states), timestamps `[B, T]`. Default false. */
  batchFirst?: boolean;
}

export interface GRUDForwardOptions {
  /**
   * 1 where a value was observed, 0 where it is missing; `x`'s shape. Default: derived from `x`,
   * whose missing values are then NaN (read synchronously when `x` is a tensor, so on WebGPU pass
   * `x` as host data or give the mask).
   */
  mask?: SeriesData;
  /** δ, the time since each feature was last observed (`x`'s shape). Default: from `timestamps` and the mask. */
  delta?: SeriesData;
  /** Timestamps for δ when `delta` is not given: `[T]` or `[T, B]`, flat. Default `0, 1, …, T − 1`. */
  timestamps?: ArrayLike<number>;
  /** Initial hidden state `[1, B, H]`; zeros when omitted. */
  h0?: Tensor;
  /** Both initial states, `[h0 [1, B, H], xLast0 [1, B, I]]` (overrides h0); `xLast0` defaults to `x_mean`. */
  state?: Tensor[];
  /** Per-sequence lengths in [1, T] (packed-sequence semantics, as for every layer). */
  lengths?: ArrayLike<number>;
}

export interface GRUDOutput extends Omit<RecurrentOutput, 'cN' | 'lastCell'> {
  /** `[T, B, H]` (`[B, T, H]` with batchFirst); zero past each sequence's length. */
  output: Tensor;
  /** Final hidden state `[1, B, H]`. */
  hN: Tensor;
  /** Final last-observed input `[1, B, I]`. */
  xLast: Tensor;
  /** `[hN, xLast]`, what `state` takes to continue a sequence. */
  state: Tensor[];
}

/** A series option: its type here, its shape in `forward` (which knows the expected one). */
const SERIES_EXPECTED = 'a Tensor or host data { data, shape }';
const SERIES: OptionSpec = {
  expected: SERIES_EXPECTED,
  required: false,
  check(value, what) {
    if (!(value instanceof Tensor) && !(isPlainObject(value) && 'data' in value && 'shape' in value)) {
      throw new OptionsError(`${what} must be ${SERIES_EXPECTED}, received ${describeValue(value)}`);
    }
  },
};

const GRUD_OPTIONS: OptionsSchema<GRUDOptions> = {
  ...MODULE_OPTIONS,
  inputSize: required(option.positiveInteger),
  hiddenSize: required(option.positiveInteger),
  xMean: option.arrayLikeOfNumbers,
  batchFirst: option.boolean,
};

const FORWARD_OPTIONS: OptionsSchema<GRUDForwardOptions> = {
  mask: SERIES,
  delta: SERIES,
  timestamps: option.arrayLikeOfNumbers,
  h0: option.instance(Tensor, 'a Tensor'),
  state: option.arrayOf(Tensor, 'a Tensor'),
  lengths: option.arrayLikeOfNumbers,
};

/**
 * The GRU-D cell. Its step input is `[x, m, δ]` side by side (so `inputSize` is 3·I for I
 * features): `RecurrentLayer` hands a cell one tensor per step, and GRU-D needs all three.
 * State: `[h [B, H], x_last [B, I]]`, `x_last` starting at `x_mean`.
 */
class GRUDCell extends Module implements Cell {
  readonly inputSize: number;
  readonly stateSize = 2;
  readonly stateWidths: readonly number[];
  readonly decayXWeight: Parameter;
  readonly decayXBias: Parameter;
  readonly decayHWeight: Parameter;
  readonly decayHBias: Parameter;
  readonly weightIh: Parameter;
  readonly weightHh: Parameter;
  readonly biasIh: Parameter;
  readonly biasHh: Parameter;
  readonly xMean: Parameter;

  constructor(
    readonly features: number,
    readonly hiddenSize: number,
    xMean: ArrayLike<number>,
    backend: Backend,
    random: Random,
  ) {
    super({ backend, random });
    const [I, H] = [features, hiddenSize];
    this.inputSize = 3 * I;
    this.stateWidths = [H, I];
    // Every parameter ~ U(−1/√H, 1/√H), drawn in the spec's order (which is the state dict's).
    const bound = 1 / Math.sqrt(H);
    const init = (n: number) => this.random.uniformArray(n, -bound, bound);
    this.decayXWeight = this.addParameter('decay_x_weight', init, [I]);
    this.decayXBias = this.addParameter('decay_x_bias', init, [I]);
    this.decayHWeight = this.addParameter('decay_h_weight', init, [H, I]);
    this.decayHBias = this.addParameter('decay_h_bias', init, [H]);
    this.weightIh = this.addParameter('weight_ih', init, [3 * H, 2 * I]);
    this.weightHh = this.addParameter('weight_hh', init, [3 * H, H]);
    this.biasIh = this.addParameter('bias_ih', init, [3 * H]);
    this.biasHh = this.addParameter('bias_hh', init, [3 * H]);
    this.xMean = this.addBuffer('x_mean', xMean, [I]);
  }

  initialState(batch: number): Tensor[] {
    const zeros = (width: number) => Tensor.fromBuffer(this.backend, this.backend.fill(batch * width, 0), [batch, width]);
    return [zeros(this.hiddenSize), add(zeros(this.features), this.xMean)];
  }

  /**
   * Everything that does not depend on the state, for all steps at once (a few large ops instead
   * of many small ones per step): the decays γ_x, γ_h and the terms of
   * `x̂ = m⊙x + (1−m)⊙(γ_x⊙x_last + (1−γ_x)⊙x_mean) = base + scale⊙x_last`
   * with `base = m⊙x + (1−m)⊙(1−γ_x)⊙x_mean` and `scale = (1−m)⊙γ_x`. Per step:
   * `[base, scale, m⊙x, 1−m, m, γ_h]`, 5I + H wide.
   */
  prepareInput(input: Tensor): Tensor {
    const I = this.features;
    const [x, m, delta] = [0, 1, 2].map((k) => slice(input, 2, k * I, I));
    const gammaX = exp(neg(relu(add(mul(delta, this.decayXWeight), this.decayXBias))));
    const gammaH = exp(neg(relu(linear(delta, this.decayHWeight, this.decayHBias))));
    const observed = mul(m, x);
    const missing = sub(1, m);
    const base = add(observed, mul(missing, mul(sub(1, gammaX), this.xMean)));
    return concat([base, mul(missing, gammaX), observed, missing, m, gammaH], 2);
  }

  step(prepared: Tensor, [h, xLast]: readonly Tensor[]): Tensor[] {
    const I = this.features;
    const [base, scale, observed, missing, m] = [0, 1, 2, 3, 4].map((k) => slice(prepared, 1, k * I, I));
    const gammaH = slice(prepared, 1, 5 * I, this.hiddenSize);
    const xHat = add(base, mul(scale, xLast));
    const hHat = mul(gammaH, h);
    const gx = linear(concat([xHat, m], 1), this.weightIh, this.biasIh);
    const gh = linear(hHat, this.weightHh, this.biasHh);
    // PyTorch's GRU step with ĥ as the previous state: h' = (1 − z)⊙n + z⊙ĥ.
    const [hNext] = cellStep('gru', gx, gh, hHat);
    // m⊙x + (1−m)⊙x_last: exact for a 0/1 mask, so x_last is the observed value itself.
    return [hNext, add(observed, mul(missing, xLast))];
  }
}

/**
 * GRU-D (Che et al. 2018), one layer, for multivariate series with missing values:
 * ```
 * γ_x = exp(−max(0, w_x ⊙ δ_t + b_x))      γ_h = exp(−max(0, W_γh δ_t + b_γh))
 * x̂_t = m ⊙ x_t + (1 − m) ⊙ (γ_x ⊙ x_last + (1 − γ_x) ⊙ x_mean)      ĥ = γ_h ⊙ h_{t−1}
 * h_t = GRU([x̂_t ; m_t], ĥ)                  x_last ← m ⊙ x_t + (1 − m) ⊙ x_last
 * ```
 * Parameters `decay_x_weight_l0 [I]`, `decay_x_bias_l0 [I]`, `decay_h_weight_l0 [H, I]`,
 * `decay_h_bias_l0 [H]`, `weight_ih_l0 [3H, 2I]`, `weight_hh_l0 [3H, H]`, `bias_ih_l0`,
 * `bias_hh_l0` (gate blocks r, z, n), all ~ U(−1/√H, 1/√H); buffer `x_mean [I]`.
 *
 * ```ts
 * const grud = new GRUD({ inputSize: 7, hiddenSize: 32, xMean });
 * // x with NaN where a value is missing: the mask comes from the NaNs, δ from the timestamps.
 * const { output, hN } = grud.forward({ data: values, shape: [T, B, 7] }, { timestamps });
 * ```
 * `x` is a tensor or host data `{ data, shape }`; missing values may be NaN there, and never
 * reach the arithmetic: they are replaced by 0 before anything multiplies them. A tensor `x`
 * given with its `mask` is used as it is, without a read, so its entries must then be finite.
 */
export class GRUD extends Module {
  readonly inputSize: number;
  readonly hiddenSize: number;
  readonly batchFirst: boolean;
  /** The width of each state slot: `[H, I]` (`h`, then the last observed input). */
  readonly stateWidths: readonly number[];
  private readonly layer: RecurrentLayer;

  constructor(options: GRUDOptions) {
    super(options, { where: 'GRUD', schema: GRUD_OPTIONS });
    const I = options.inputSize;
    this.inputSize = I;
    this.hiddenSize = options.hiddenSize;
    this.batchFirst = options.batchFirst ?? false;
    this.stateWidths = [this.hiddenSize, I];
    const xMean = options.xMean ?? new Float64Array(I);
    if (xMean.length !== I) throw new ShapeError(`GRUD: xMean must hold inputSize = ${I} values, received ${xMean.length}`);
    for (let d = 0; d < I; d++) {
      if (!Number.isFinite(xMean[d])) throw new ValueRangeError(`GRUD: xMean[${d}] must be a finite number, received ${xMean[d]}`);
    }
    // The generic layer gives unrolling, variable lengths and BPTT; GRU-D is its one cell.
    this.layer = new RecurrentLayer({
      inputSize: 3 * I,
      hiddenSize: this.hiddenSize,
      backend: this.backend,
      cell: () => new GRUDCell(I, this.hiddenSize, xMean, this.backend, this.random),
    });
    const cell = this.layer.cells[0][0] as GRUDCell;
    for (const [name, p] of this.layer.namedParameters()) this.registerParameter(name, p);
    this.registerBuffer('x_mean', cell.xMean);
  }

  override train(mode = true): this {
    super.train(mode);
    this.layer.train(mode);
    return this;
  }

  forward(x: SeriesData, options: GRUDForwardOptions = {}): GRUDOutput {
    const where = 'GRUD.forward';
    checkOptions(where, options, FORWARD_OPTIONS);
    const given = checkSeries(where, 'x', x);
    if (given.shape[2] !== this.inputSize) {
      const expected = `${this.batchFirst ? '[B, T' : '[T, B'}, ${this.inputSize}]`;
      throw new ShapeError(`${where}: x must be ${expected}, received ${describeShape(given.shape)}`);
    }
    const shape = [...given.shape];
    const [steps, batch] = this.batchFirst ? [shape[1], shape[0]] : [shape[0], shape[1]];
    const lengths = checkLengths(where, options.lengths, steps, batch);
    const packed = concat(this.inputs(given, options, shape, steps, batch, lengths), 2);
    const out = this.layer.forward(packed, {
      h0: options.state ? undefined : options.h0,
      state: options.state,
      lengths: options.lengths === undefined ? undefined : lengths,
    });
    const output = this.batchFirst ? permute(out.output, [1, 0, 2]) : out.output;
    return { output, hN: out.state[0], xLast: out.state[1], state: out.state, lastHidden: out.lastHidden };
  }

  /**
   * x (NaN-free), m and δ as time-major tensors `[T, B, I]`. Host values are read only where
   * something must be derived from them: the mask from x's NaNs, δ from the mask.
   */
  private inputs(
    x: SeriesData,
    options: GRUDForwardOptions,
    shape: number[],
    steps: number,
    batch: number,
    lengths: Int32Array,
  ): [Tensor, Tensor, Tensor] {
    const where = 'GRUD.forward';
    const mask = options.mask === undefined ? undefined : checkSeries(where, 'mask', options.mask, shape);
    const delta = options.delta === undefined ? undefined : checkSeries(where, 'delta', options.delta, shape);
    const timeMajor = (values: ArrayLike<number>) => (this.batchFirst ? swapLeadingAxes(values, shape) : values);
    const asTimeMajor = (t: Tensor) => (this.batchFirst ? permute(t, [1, 0, 2]) : t);
    const tmShape = [steps, batch, this.inputSize];
    const upload = (values: ArrayLike<number>) => tensor(values, tmShape, { backend: this.backend });

    const xHost =
      x instanceof Tensor && mask ? undefined : timeMajor(hostValues(where, 'x', x, 'pass x as host data { data, shape }, or its mask'));
    let maskHost: ArrayLike<number> | undefined;
    if (mask && (!(mask instanceof Tensor) || !delta)) {
      maskHost = checkMask(where, timeMajor(hostValues(where, 'mask', mask, 'pass the mask as host data { data, shape }, or delta')));
    }
    if (xHost) {
      for (let i = 0; i < xHost.length; i++) {
        const v = xHost[i];
        if (v === Number.POSITIVE_INFINITY || v === Number.NEGATIVE_INFINITY) {
          throw new ValueRangeError(`${where}: x holds ${v} at time-major index ${i}; missing values are NaN, observed ones finite`);
        }
        if (Number.isNaN(v) && maskHost?.[i] === 1) {
          throw new ValueRangeError(`${where}: x is NaN at time-major index ${i} where the mask says observed (1)`);
        }
      }
      if (!mask) maskHost = Float64Array.from(xHost, (v) => (Number.isNaN(v) ? 0 : 1));
    }

    let xT: Tensor;
    if (x instanceof Tensor) xT = xHost ? withoutNaN(asTimeMajor(x), xHost) : asTimeMajor(x);
    else xT = upload(Float64Array.from(xHost as ArrayLike<number>, (v) => (Number.isNaN(v) ? 0 : v)));
    const mT = mask instanceof Tensor ? asTimeMajor(mask) : upload(maskHost as ArrayLike<number>);
    let dT: Tensor;
    if (delta instanceof Tensor) {
      dT = asTimeMajor(delta);
    } else if (delta) {
      const values = timeMajor(delta.data);
      for (let i = 0; i < values.length; i++) {
        if (!Number.isFinite(values[i]))
          throw new ValueRangeError(`${where}: delta must be finite, received ${values[i]} at time-major index ${i}`);
      }
      dT = upload(values);
    } else {
      let stamps = options.timestamps ?? Float64Array.from({ length: steps }, (_, t) => t);
      if (this.batchFirst && stamps.length === steps * batch && steps > 1) stamps = swapLeadingAxes(stamps, [batch, steps]);
      const at = timestampsOf(where, stamps, steps, batch, lengths);
      dT = upload(deltasFrom(at, maskHost as ArrayLike<number>, tmShape, lengths));
    }
    return [xT, mT, dT];
  }
}

/** `[A, B, rest…]` host values reordered to `[B, A, rest…]` (batch-first ↔ time-major). */
function swapLeadingAxes(values: ArrayLike<number>, [a, b, ...rest]: readonly number[]): Float64Array {
  const inner = rest.reduce((p, d) => p * d, 1);
  const out = new Float64Array(values.length);
  for (let i = 0; i < a; i++) {
    for (let j = 0; j < b; j++) {
      for (let k = 0; k < inner; k++) out[(j * a + i) * inner + k] = values[(i * b + j) * inner + k];
    }
  }
  return out;
}

/**
 * `x` with its NaN entries replaced by 0, still differentiable with respect to `x`: a row gather
 * over its elements plus one zero row, since no arithmetic can remove a NaN (0·NaN = NaN).
 */
function withoutNaN(x: Tensor, values: ArrayLike<number>): Tensor {
  const zero = x.size;
  const index = Int32Array.from({ length: x.size }, (_, i) => (Number.isNaN(values[i]) ? zero : i));
  if (index.every((r, i) => r === i)) return x;
  const rows = concat([reshape(x, [x.size, 1]), Tensor.fromBuffer(x.backend, x.backend.fill(1, 0), [1, 1])], 0);
  return gatherRows(rows, index, x.shape);
}
