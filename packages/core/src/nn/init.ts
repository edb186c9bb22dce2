/**
 * Initialisers the notes advise, after `torch.nn.init`: each overwrites a parameter in place
 * (through `Parameter.copyFrom`, so its version is bumped and a graph that recorded the old
 * values refuses to back-propagate through them) and returns it. Random ones draw from
 * `options.random`, a `new Random(options.seed)`, or else the global generator (`manualSeed`).
 *
 * ```ts
 * const irnn = new RNN({ inputSize: 8, hiddenSize: 64, nonlinearity: 'relu' });
 * const p = Object.fromEntries(irnn.namedParameters());
 * init.identity(p.weight_hh_l0);
 * init.zeros(p.bias_ih_l0);
 * init.zeros(p.bias_hh_l0);
 * ```
 */
import { describeShape, OptionsError, ShapeError, ValueRangeError } from '../errors.js';
import { checkOptions, describeValue, type OptionsSchema, option } from '../options.js';
import { globalGenerator, Random } from '../random.js';
import { Parameter } from '../tensor.js';

export interface InitOptions {
  /** The generator to draw from. */
  random?: Random;
  /** Seed of a generator made for this call (ignored when `random` is given). */
  seed?: number;
}

const INIT_OPTIONS: OptionsSchema<InitOptions> = {
  random: option.instance(Random, 'a Random generator'),
  seed: option.finiteNumber,
};

function checkParameter(where: string, param: unknown): asserts param is Parameter {
  if (!(param instanceof Parameter)) {
    throw new OptionsError(`init.${where}: param must be a Parameter (a module's weight or bias), received ${describeValue(param)}`);
  }
}

function checkNumber(where: string, name: string, value: unknown): asserts value is number {
  if (typeof value !== 'number') throw new OptionsError(`init.${where}: ${name} must be a number, received ${describeValue(value)}`);
  if (!Number.isFinite(value)) throw new ValueRangeError(`init.${where}: ${name} must be a finite number, received ${value}`);
}

function generator(where: string, options: InitOptions | undefined): Random {
  const o = checkOptions(`init.${where}`, options, INIT_OPTIONS);
  return o.random ?? (o.seed === undefined ? globalGenerator() : new Random(o.seed));
}

/** `[rows, cols]` of a parameter of rank ≥ 2 with its trailing axes flattened, as PyTorch reads it. */
function matrixShape(where: string, param: Parameter): [number, number] {
  if (param.rank < 2) {
    throw new ShapeError(`init.${where}: param must have at least 2 dimensions, received ${describeShape(param.shape)}`);
  }
  const rows = param.shape[0];
  return [rows, rows === 0 ? 0 : param.size / rows];
}

/** Every element 0. */
export function zeros(param: Parameter): Parameter {
  checkParameter('zeros', param);
  param.copyFrom(new Float64Array(param.size));
  return param;
}

/** Every element from U(low, high) (PyTorch's `uniform_`, default U(0, 1)). */
export function uniform(param: Parameter, low = 0, high = 1, options?: InitOptions): Parameter {
  checkParameter('uniform', param);
  checkNumber('uniform', 'low', low);
  checkNumber('uniform', 'high', high);
  if (low > high) throw new ValueRangeError(`init.uniform: low must be ≤ high, received low ${low}, high ${high}`);
  param.copyFrom(generator('uniform', options).uniformArray(param.size, low, high));
  return param;
}

/**
 * Glorot and Bengio (2010): U(−a, a) with `a = gain · √(6 / (fanIn + fanOut))`, `fanIn` the
 * columns and `fanOut` the rows (times the trailing axes' size for rank > 2), as PyTorch.
 */
export function xavierUniform(param: Parameter, gain = 1, options?: InitOptions): Parameter {
  checkParameter('xavierUniform', param);
  checkNumber('xavierUniform', 'gain', gain);
  matrixShape('xavierUniform', param);
  const receptive = param.shape.slice(2).reduce((a, b) => a * b, 1);
  const fanIn = param.shape[1] * receptive;
  const fanOut = param.shape[0] * receptive;
  const bound = fanIn + fanOut > 0 ? gain * Math.sqrt(6 / (fanIn + fanOut)) : 0;
  param.copyFrom(generator('xavierUniform', options).uniformArray(param.size, -bound, bound));
  return param;
}

/**
 * The identity, `scale · I` (IRNN, Le et al. 2015: a ReLU Elman network with `W_hh = I` and zero
 * biases). As PyTorch's `eye_` the parameter must be 2-D, and a non-square one gets ones on its
 * main diagonal. On a stacked `[G·H, H]` gate weight that is the first gate's block only.
 */
export function identity(param: Parameter, scale = 1): Parameter {
  checkParameter('identity', param);
  checkNumber('identity', 'scale', scale);
  if (param.rank !== 2) throw new ShapeError(`init.identity: param must be 2-D, received ${describeShape(param.shape)}`);
  const [rows, cols] = param.shape;
  const values = new Float64Array(param.size);
  for (let i = 0; i < Math.min(rows, cols); i++) values[i * cols + i] = scale;
  param.copyFrom(values);
  return param;
}

/**
 * A (semi-)orthogonal matrix (Saxe et al. 2013), times `gain`, following
 * `torch.nn.init.orthogonal_`: the parameter is read as `[rows, cols]` (trailing axes
 * flattened), a standard Gaussian matrix of that shape (transposed when rows < cols) is factored
 * `A = QR` and Q, sign-corrected so that R's diagonal is positive (which makes Q Haar-distributed,
 * Mezzadri 2007), is written back (transposed again). So `WᵀW = gain²·I` when rows ≥ cols (a
 * stacked `[G·H, H]` gate weight is treated as one matrix, as PyTorch does) and `WWᵀ = gain²·I`
 * otherwise.
 */
export function orthogonal(param: Parameter, gain = 1, options?: InitOptions): Parameter {
  checkParameter('orthogonal', param);
  checkNumber('orthogonal', 'gain', gain);
  const [rows, cols] = matrixShape('orthogonal', param);
  const random = generator('orthogonal', options);
  if (param.size === 0) return param;
  const wide = rows < cols;
  // Work on the tall form [m, n], m ≥ n, column by column.
  const [m, n] = wide ? [cols, rows] : [rows, cols];
  const gaussian = random.normalArray(m * n);
  const columns = Array.from({ length: n }, (_, j) => Float64Array.from({ length: m }, (_, i) => gaussian[i * n + j]));
  const q = orthonormalColumns(columns);
  const values = new Float64Array(rows * cols);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      // Tall: W[i][j] = Q[i][j]; wide: W = Qᵀ, so W[j][i] = Q[i][j].
      if (wide) values[j * cols + i] = gain * q[j][i];
      else values[i * cols + j] = gain * q[j][i];
    }
  }
  param.copyFrom(values);
  return param;
}

/**
 * Q of the thin QR factorisation with a positive diagonal of R, by modified Gram–Schmidt with a
 * second pass ("twice is enough": the second pass brings orthogonality to rounding level even
 * for badly conditioned columns). Gram–Schmidt's R has a positive diagonal by construction, so
 * this Q is exactly the sign-corrected Householder Q that PyTorch computes, up to rounding.
 */
function orthonormalColumns(columns: Float64Array[]): Float64Array[] {
  const q: Float64Array[] = [];
  for (const column of columns) {
    const v = Float64Array.from(column);
    for (let pass = 0; pass < 2; pass++) {
      for (const u of q) {
        let dot = 0;
        for (let i = 0; i < v.length; i++) dot += u[i] * v[i];
        for (let i = 0; i < v.length; i++) v[i] -= dot * u[i];
      }
    }
    let norm = 0;
    for (let i = 0; i < v.length; i++) norm += v[i] * v[i];
    norm = Math.sqrt(norm);
    // A Gaussian matrix is rank-deficient with probability 0; only a broken generator lands here.
    if (!(norm > 0)) throw new ValueRangeError('init.orthogonal: the Gaussian draw was rank-deficient; draw again');
    for (let i = 0; i < v.length; i++) v[i] /= norm;
    q.push(v);
  }
  return q;
}
