import type { Backend } from '../backend/interface.js';
import { describeShape, NonFiniteError, ShapeError, ValueRangeError } from '../errors.js';
import { checkOptions, describeValue, type OptionsSchema, option } from '../options.js';
import { Random } from '../random.js';
import { Tensor } from '../tensor.js';
import { choleskySolve } from './esn-linalg.js';
import { Linear } from './linear.js';

export interface FitRidgeOptions {
  /** The ridge penalty α > 0 on the weights (never on the intercept). Default 1e-6. */
  alpha?: number;
  /** Fit an unpenalised intercept (the `Linear`'s bias). Default true. */
  fitIntercept?: boolean;
  /** Steps at the start of every sequence left out of the fit (the reservoir's transient). Default 0. */
  washout?: number;
  /** Per-sequence lengths: steps at or past `lengths[b]` (padding) are left out. Default: none. */
  lengths?: ArrayLike<number>;
  /** Where the returned `Linear` lives. Default: the first states chunk's backend. */
  backend?: Backend;
}

const FIT_RIDGE_OPTIONS: OptionsSchema<FitRidgeOptions> = {
  alpha: option.positiveNumber,
  fitIntercept: option.boolean,
  washout: option.nonNegativeInteger,
  lengths: option.arrayLikeOfNumbers,
  backend: option.backend,
};

/** Time-major `[T, B, F]` (or `[T, F]`, one sequence), whole or as consecutive chunks of steps. */
export type RidgeData = Tensor | Iterable<Tensor> | AsyncIterable<Tensor>;

/** Rows gathered per block before they are added to the Gram matrix (a few MiB at F = 1000). */
const BLOCK_ROWS = 256;

/**
 * Fits a linear readout by ridge regression in closed form, the usual readout of an `ESN`:
 * `W, b = argmin ‖Y − X Wᵀ − 1 bᵀ‖² + α ‖W‖²` over the rows of `states` X and `targets` Y
 * (every step of every sequence after `washout`, within `lengths`), returned as a `Linear`
 * (`weight [O, F]`, `bias [O]` unless `fitIntercept` is false) on the states' backend.
 *
 * `states` and `targets` are time-major tensors, `[T, B, F]` and `[T, B, O]`, or iterables
 * (sync or async) of such tensors holding consecutive chunks of steps of the same sequences,
 * paired in order: a long series is then never in memory at once. Each pair of chunks is read
 * in full before the next is requested, so a generator may dispose the chunk it yielded last
 * when it resumes. `washout` and `lengths` count steps from the start of the whole series.
 *
 * The values are read to the host and accumulated in float64 whatever the backend's dtype:
 * the Gram matrix XᵀX and XᵀY (about F² + F·O numbers, independent of T), with every row first
 * shifted by the mean of the first chunk, so that centring afterwards (XᶜᵀXᶜ = XᵀX − n x̄x̄ᵀ)
 * does not cancel away the variance of states with a large mean. The system
 * (XᶜᵀXᶜ + αI) Wᵀ = XᶜᵀYᶜ is solved by Cholesky (the matrix is positive definite for α > 0),
 * and b = ȳ − W x̄.
 */
export async function fitRidge(states: RidgeData, targets: RidgeData, options: FitRidgeOptions = {}): Promise<Linear> {
  checkOptions('fitRidge', options, FIT_RIDGE_OPTIONS);
  const alpha = options.alpha ?? 1e-6;
  const fitIntercept = options.fitIntercept ?? true;
  const washout = options.washout ?? 0;
  const xs = chunks(states, 'states');
  const ys = chunks(targets, 'targets');
  let acc: Accumulator | undefined;
  let steps = 0;
  let batch = 0;
  let backend: Backend | undefined;
  let finished = false;
  try {
    for (let index = 0; ; index++) {
      const [x, y] = await Promise.all([xs.next(), ys.next()]);
      if (x.done || y.done) {
        if (x.done !== y.done) {
          throw new ShapeError(
            `fitRidge: states and targets must hold as many chunks; ${x.done ? 'states' : 'targets'} ended after ${index}`,
          );
        }
        break;
      }
      const where = index === 0 && states instanceof Tensor ? '' : ` chunk ${index}`;
      const [xShape, yShape] = [checkChunk(x.value, `states${where}`), checkChunk(y.value, `targets${where}`)];
      if (xShape[0] !== yShape[0] || xShape[1] !== yShape[1]) {
        throw new ShapeError(
          `fitRidge: targets${where} must have the steps and batch of states${where} (${describeShape(xShape.slice(0, 2))}), received ${describeShape(y.value.shape)}`,
        );
      }
      if (!acc) {
        [batch, backend] = [xShape[1], options.backend ?? x.value.backend];
        checkLengths(options.lengths, batch);
        if (x.value === states && washout >= xShape[0]) {
          throw new ValueRangeError(`fitRidge: washout (${washout}) must be less than the number of steps (${xShape[0]})`);
        }
        acc = new Accumulator(xShape[2], yShape[2], fitIntercept);
      } else if (xShape[1] !== batch || xShape[2] !== acc.features || yShape[2] !== acc.outputs) {
        throw new ShapeError(
          `fitRidge: states${where} is ${describeShape(x.value.shape)} and targets${where} ${describeShape(y.value.shape)}, but chunk 0 had batch ${batch}, ${acc.features} features and ${acc.outputs} outputs`,
        );
      }
      const [xData, yData] = await Promise.all([x.value.toArray(), y.value.toArray()]);
      acc.add(xData, yData, xShape[0], batch, steps, washout, options.lengths, where);
      steps += xShape[0];
    }
    finished = true;
  } finally {
    // Stopped by an error: let the caller's generators run their cleanup (finally blocks).
    if (!finished) await Promise.all([xs.return?.(), ys.return?.()]);
  }
  if (!acc || !backend) throw new ShapeError('fitRidge: states and targets hold no chunks');
  const tooLong = options.lengths ? Array.from(options.lengths).findIndex((n) => n > steps) : -1;
  if (tooLong >= 0) {
    throw new ValueRangeError(`fitRidge: lengths[${tooLong}] = ${options.lengths?.[tooLong]} exceeds the ${steps} steps of the series`);
  }
  if (acc.rows === 0) {
    throw new ValueRangeError(
      `fitRidge: washout (${washout}) leaves no rows to fit: the series have ${steps} steps${options.lengths ? ` and lengths [${Array.from(options.lengths).join(', ')}]` : ''}`,
    );
  }
  return acc.solve(alpha, backend);
}

/** The values of `data` as an async iterator of tensors, each checked when it arrives. */
function chunks(data: RidgeData, what: string): AsyncIterator<Tensor> | Iterator<Tensor> {
  if (data instanceof Tensor) return [data][Symbol.iterator]();
  if (data !== null && typeof data === 'object') {
    if (Symbol.asyncIterator in data) return data[Symbol.asyncIterator]();
    if (Symbol.iterator in data) return data[Symbol.iterator]();
  }
  throw new ShapeError(`fitRidge: ${what} must be a Tensor or an iterable of Tensors, received ${describeValue(data)}`);
}

function checkChunk(chunk: unknown, what: string): number[] {
  if (!(chunk instanceof Tensor)) throw new ShapeError(`fitRidge: ${what} must be a Tensor, received ${describeValue(chunk)}`);
  if (chunk.rank === 2) return [chunk.shape[0], 1, chunk.shape[1]];
  if (chunk.rank !== 3) throw new ShapeError(`fitRidge: ${what} must be [T, B, F] (or [T, F]), received ${describeShape(chunk.shape)}`);
  return [...chunk.shape];
}

function checkLengths(lengths: ArrayLike<number> | undefined, batch: number): void {
  if (lengths === undefined) return;
  if (lengths.length !== batch)
    throw new ShapeError(`fitRidge: lengths must hold one length per sequence (${batch}), received ${lengths.length}`);
  for (let b = 0; b < batch; b++) {
    if (!Number.isInteger(lengths[b]) || lengths[b] < 1)
      throw new ValueRangeError(`fitRidge: lengths[${b}] = ${lengths[b]} must be a positive integer`);
  }
}

/** Streaming sums of shifted rows: n, Σx, Σy, XᵀX (upper triangle) and XᵀY, all float64. */
class Accumulator {
  rows = 0;
  private shiftX: Float64Array | null = null;
  private shiftY: Float64Array | null = null;
  private readonly sumX: Float64Array;
  private readonly sumY: Float64Array;
  /** `features` rounded up to a multiple of 4: XᵀX is `padded × padded`, tiled 4 × 4. */
  private readonly padded: number;
  private readonly gram: Float64Array;
  private readonly cross: Float64Array;
  private readonly blockX: Float64Array;
  private readonly blockY: Float64Array;

  constructor(
    readonly features: number,
    readonly outputs: number,
    private readonly fitIntercept: boolean,
  ) {
    this.sumX = new Float64Array(features);
    this.sumY = new Float64Array(outputs);
    this.padded = Math.ceil(features / 4) * 4;
    this.gram = new Float64Array(this.padded * this.padded);
    this.cross = new Float64Array(features * outputs);
    // Feature-major blocks (one contiguous run of rows per feature) for the dot products.
    this.blockX = new Float64Array(this.padded * BLOCK_ROWS);
    this.blockY = new Float64Array(outputs * BLOCK_ROWS);
  }

  /** Adds the kept rows of one chunk of `steps` steps starting at global step `start`. */
  add(
    x: ArrayLike<number>,
    y: ArrayLike<number>,
    steps: number,
    batch: number,
    start: number,
    washout: number,
    lengths: ArrayLike<number> | undefined,
    where: string,
  ): void {
    const kept: number[] = [];
    for (let t = Math.max(0, washout - start); t < steps; t++) {
      for (let b = 0; b < batch; b++) if (!lengths || start + t < lengths[b]) kept.push(t * batch + b);
    }
    if (kept.length === 0) return;
    const [F, O] = [this.features, this.outputs];
    for (const row of kept) {
      checkFinite(x, row * F, F, `states${where}`, batch);
      checkFinite(y, row * O, O, `targets${where}`, batch);
    }
    if (!this.shiftX || !this.shiftY) [this.shiftX, this.shiftY] = [this.shiftFrom(x, kept, F), this.shiftFrom(y, kept, O)];
    for (let first = 0; first < kept.length; first += BLOCK_ROWS) {
      const rows = kept.slice(first, first + BLOCK_ROWS);
      this.fillBlock(this.blockX, x, rows, F, this.shiftX, this.sumX);
      this.fillBlock(this.blockY, y, rows, O, this.shiftY, this.sumY);
      this.accumulate(rows.length);
      this.rows += rows.length;
    }
  }

  /** The mean of the kept rows (zero without an intercept, where the rows must not be moved). */
  private shiftFrom(data: ArrayLike<number>, kept: number[], width: number): Float64Array {
    const shift = new Float64Array(width);
    if (!this.fitIntercept) return shift;
    for (const row of kept) for (let f = 0; f < width; f++) shift[f] += data[row * width + f];
    for (let f = 0; f < width; f++) shift[f] /= kept.length;
    return shift;
  }

  private fillBlock(
    block: Float64Array,
    data: ArrayLike<number>,
    rows: number[],
    width: number,
    shift: Float64Array,
    sum: Float64Array,
  ): void {
    for (let r = 0; r < rows.length; r++) {
      const base = rows[r] * width;
      for (let f = 0; f < width; f++) {
        const v = data[base + f] - shift[f];
        block[f * BLOCK_ROWS + r] = v;
        sum[f] += v;
      }
    }
  }

  /**
   * XᵀX and XᵀY of the current block of `count` rows. XᵀX is built from 4 × 4 tiles on and
   * above the diagonal: each loaded value serves four products, which makes the float64 loop
   * about four times faster than one dot product at a time (the fit of 1,000 features is
   * dominated by this loop). The block is padded to a multiple of 4 features with zeros.
   */
  private accumulate(count: number): void {
    const [P, O, X, Y, G] = [this.padded, this.outputs, this.blockX, this.blockY, this.gram];
    const R = BLOCK_ROWS;
    for (let i = 0; i < P; i += 4) {
      const a = i * R;
      for (let j = i; j < P; j += 4) {
        const b = j * R;
        // Sixteen scalar accumulators, so the loop allocates nothing and stays in registers.
        let s00 = 0,
          s01 = 0,
          s02 = 0,
          s03 = 0,
          s10 = 0,
          s11 = 0,
          s12 = 0,
          s13 = 0,
          s20 = 0,
          s21 = 0,
          s22 = 0,
          s23 = 0,
          s30 = 0,
          s31 = 0,
          s32 = 0,
          s33 = 0;
        for (let r = 0; r < count; r++) {
          const a0 = X[a + r],
            a1 = X[a + R + r],
            a2 = X[a + 2 * R + r],
            a3 = X[a + 3 * R + r];
          const b0 = X[b + r],
            b1 = X[b + R + r],
            b2 = X[b + 2 * R + r],
            b3 = X[b + 3 * R + r];
          s00 += a0 * b0;
          s01 += a0 * b1;
          s02 += a0 * b2;
          s03 += a0 * b3;
          s10 += a1 * b0;
          s11 += a1 * b1;
          s12 += a1 * b2;
          s13 += a1 * b3;
          s20 += a2 * b0;
          s21 += a2 * b1;
          s22 += a2 * b2;
          s23 += a2 * b3;
          s30 += a3 * b0;
          s31 += a3 * b1;
          s32 += a3 * b2;
          s33 += a3 * b3;
        }
        const g = i * P + j;
        G[g] += s00;
        G[g + 1] += s01;
        G[g + 2] += s02;
        G[g + 3] += s03;
        G[g + P] += s10;
        G[g + P + 1] += s11;
        G[g + P + 2] += s12;
        G[g + P + 3] += s13;
        G[g + 2 * P] += s20;
        G[g + 2 * P + 1] += s21;
        G[g + 2 * P + 2] += s22;
        G[g + 2 * P + 3] += s23;
        G[g + 3 * P] += s30;
        G[g + 3 * P + 1] += s31;
        G[g + 3 * P + 2] += s32;
        G[g + 3 * P + 3] += s33;
      }
    }
    for (let i = 0; i < this.features; i++) {
      for (let o = 0; o < O; o++) {
        let s = 0;
        for (let r = 0; r < count; r++) s += X[i * R + r] * Y[o * R + r];
        this.cross[i * O + o] += s;
      }
    }
  }

  /** Centres the sums, solves the ridge system and builds the `Linear`. */
  solve(alpha: number, backend: Backend): Linear {
    const [F, O, n] = [this.features, this.outputs, this.rows];
    const shiftX = this.shiftX as Float64Array;
    const shiftY = this.shiftY as Float64Array;
    // Means of the shifted rows; both zero-weighted when there is no intercept to fit.
    const mx = this.sumX.map((s) => (this.fitIntercept ? s / n : 0));
    const my = this.sumY.map((s) => (this.fitIntercept ? s / n : 0));
    const a = new Float64Array(F * F);
    for (let i = 0; i < F; i++) {
      for (let j = 0; j <= i; j++) a[i * F + j] = this.gram[j * this.padded + i] - n * mx[i] * mx[j];
      a[i * F + i] += alpha;
    }
    const rhs = this.cross.map((s, k) => s - n * mx[Math.floor(k / O)] * my[k % O]);
    const solution = choleskySolve(
      a,
      F,
      rhs,
      O,
      (pivot) =>
        new ValueRangeError(
          `fitRidge: the regularised Gram matrix is not positive definite in float64 (pivot ${pivot}); raise alpha (${alpha})`,
        ),
    );
    const weight = new Float64Array(O * F);
    for (let f = 0; f < F; f++) for (let o = 0; o < O; o++) weight[o * F + f] = solution[f * O + o];
    // Its own generator: the initial values are overwritten, and the global stream is untouched.
    const readout = new Linear({ inFeatures: F, outFeatures: O, bias: this.fitIntercept, backend, random: new Random(0) });
    readout.weight.copyFrom(weight);
    if (readout.bias) {
      // b = ȳ − W x̄ in original coordinates: x̄ = shiftX + mx, ȳ = shiftY + my.
      const bias = new Float64Array(O);
      for (let o = 0; o < O; o++) {
        let s = shiftY[o] + my[o];
        for (let f = 0; f < F; f++) s -= weight[o * F + f] * (shiftX[f] + mx[f]);
        bias[o] = s;
      }
      readout.bias.copyFrom(bias);
    }
    return readout;
  }
}

function checkFinite(data: ArrayLike<number>, offset: number, width: number, what: string, batch: number): void {
  for (let f = 0; f < width; f++) {
    const v = data[offset + f];
    if (!Number.isFinite(v)) {
      const row = offset / width;
      throw new NonFiniteError(`fitRidge: ${what} holds ${v} at step ${Math.floor(row / batch)}, sequence ${row % batch}, feature ${f}`);
    }
  }
}
