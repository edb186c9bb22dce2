/**
 * Dense kernels on plain typed arrays. Each writes into an `out` array the caller allocated,
 * so the same code serves the backend's methods and the fused sequence kernels (which pass
 * sub-array views). Reductions accumulate in float64 JS numbers and round once on store.
 */
import type { BinaryOp, FloatArray, GemmOptions, UnaryOp } from '@recur/core/backend';
import { contiguousStrides, forEachStrided, sizeOf } from './strided.js';

/** Logistic sigmoid, stable for large |x|: never evaluates exp of a large positive number. */
export function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

/**
 * `C = alpha·op(A)·op(B) + beta·C`, C `[m, n]` row-major.
 *
 * op(A)[i, p] is `a[i·k + p]`, or `a[p·m + i]` when A is stored transposed (`[k, m]`);
 * op(B)[p, j] is `b[p·n + j]`, or `b[j·k + p]` when B is stored transposed (`[n, k]`).
 * Each output is one dot product walked with fixed steps through A and B.
 *
 * With `accumulate` false (a fresh output) beta is ignored and C's old contents are never
 * read; with beta = 0 they are not read either, so NaNs in an uninitialised C cannot leak in
 * (the BLAS convention).
 */
export function gemm(a: FloatArray, b: FloatArray, c: FloatArray, options: GemmOptions, accumulate: boolean): void {
  const { m, n, k } = options;
  const alpha = options.alpha ?? 1;
  const beta = accumulate ? (options.beta ?? 0) : 0;
  // Where op(A)[i, 0] starts and how far apart op(A)[i, p] and op(A)[i, p + 1] are.
  const aRow = options.transA ? 1 : k;
  const aStep = options.transA ? m : 1;
  const bCol = options.transB ? k : 1;
  const bStep = options.transB ? 1 : n;
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let sum = 0;
      let ai = i * aRow;
      let bi = j * bCol;
      for (let p = 0; p < k; p++) {
        sum += a[ai] * b[bi];
        ai += aStep;
        bi += bStep;
      }
      const o = i * n + j;
      c[o] = beta === 0 ? alpha * sum : alpha * sum + beta * c[o];
    }
  }
}

function unaryFunction(op: UnaryOp, param: number | undefined, param2: number | undefined): (x: number) => number {
  switch (op) {
    case 'copy':
      return (x) => x;
    case 'neg':
      return (x) => -x;
    case 'exp':
      return Math.exp;
    case 'log':
      return Math.log;
    case 'tanh':
      return Math.tanh;
    case 'sigmoid':
      return sigmoid;
    case 'relu':
      return (x) => (x > 0 ? x : 0);
    case 'step':
      return (x) => (x > 0 ? 1 : 0);
    case 'sqrt':
      return Math.sqrt;
    case 'square':
      return (x) => x * x;
    case 'abs':
      return Math.abs;
    case 'reciprocal':
      return (x) => 1 / x;
    case 'scale': {
      const factor = param ?? 1;
      return (x) => x * factor;
    }
    case 'clamp': {
      // A missing bound does not clamp on that side.
      const low = param ?? -Infinity;
      const high = param2 ?? Infinity;
      return (x) => Math.min(Math.max(x, low), high);
    }
  }
}

/** `out[i] = op(x[i])`; `out` may be `x` (each element is read before it is written). */
export function unary(op: UnaryOp, x: FloatArray, out: FloatArray, param?: number, param2?: number): void {
  const f = unaryFunction(op, param, param2);
  for (let i = 0; i < x.length; i++) out[i] = f(x[i]);
}

function binaryFunction(op: BinaryOp): (a: number, b: number) => number {
  switch (op) {
    case 'add':
      return (a, b) => a + b;
    case 'sub':
      return (a, b) => a - b;
    case 'mul':
      return (a, b) => a * b;
    case 'div':
      return (a, b) => a / b;
  }
}

/** `out = a op b` over `outShape`, each operand addressed through its own strides (0 = broadcast). */
export function binary(
  op: BinaryOp,
  a: FloatArray,
  aStrides: readonly number[],
  b: FloatArray,
  bStrides: readonly number[],
  outShape: readonly number[],
  out: FloatArray,
): void {
  const f = binaryFunction(op);
  forEachStrided(outShape, aStrides, bStrides, (i, ai, bi) => {
    out[i] = f(a[ai], b[bi]);
  });
}

/**
 * Sums `x` (`inShape`) down to `outShape` (same rank, each dimension kept or 1). Every input
 * element is added to the output element it would be broadcast from: the output is addressed
 * with its own strides, set to 0 on the reduced dimensions.
 */
export function sumTo(x: FloatArray, inShape: readonly number[], outShape: readonly number[], out: FloatArray): void {
  const own = contiguousStrides(outShape);
  const outStrides = outShape.map((d, i) => (d === 1 && inShape[i] !== 1 ? 0 : own[i]));
  const sums = new Float64Array(sizeOf(outShape));
  forEachStrided(inShape, contiguousStrides(inShape), outStrides, (_, xi, oi) => {
    sums[oi] += x[xi];
  });
  out.set(sums);
}

/** Σ x² over every element of every array, in float64. */
export function sumOfSquares(arrays: readonly FloatArray[]): number {
  let sum = 0;
  for (const x of arrays) {
    for (let i = 0; i < x.length; i++) sum += x[i] * x[i];
  }
  return sum;
}

/** Adds `vector` (`[cols]`) to every row of `matrix` (`[rows, cols]`) in place: a bias. */
export function addRowVector(matrix: FloatArray, rows: number, cols: number, vector: FloatArray): void {
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < cols; j++) matrix[r * cols + j] += vector[j];
  }
}

/** `out[j] = Σ_r matrix[r, j]` (a bias gradient), accumulated in float64. */
export function sumColumns(matrix: FloatArray, rows: number, cols: number, out: FloatArray): void {
  const sums = new Float64Array(cols);
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < cols; j++) sums[j] += matrix[r * cols + j];
  }
  out.set(sums);
}
