/**
 * Host-side float64 linear algebra for echo state networks: the spectral-radius estimate that
 * scales a reservoir, and the Cholesky solve of the ridge readout. Both run once per model on
 * the host (not per step on a backend), where float64 is available on every platform.
 */
import { ShapeError, ValueRangeError } from '../errors.js';
import { Random } from '../random.js';

/** Steps discarded before measuring, then steps measured (see `estimateSpectralRadius`). */
const BURN_IN = 500;
const WINDOW = 1000;

/**
 * Estimates the spectral radius ρ(W) = max |λᵢ| of a square matrix (`size × size`, row-major)
 * as the mean growth rate of ‖Wᵏv‖ over a window of iterations:
 * `ρ ≈ exp((log‖W^{b+m} v‖ − log‖W^b v‖) / m)` with b = 500, m = 1000, from a fixed random v,
 * renormalising v at every step so nothing overflows.
 *
 * Why this and not the power method's Rayleigh quotient: a real matrix's dominant eigenvalues
 * are often a complex-conjugate pair (re^{±iθ}), for which `Wv` never aligns with `v`, so the
 * power method does not converge; yet ‖Wᵏv‖ still grows like rᵏ times a bounded oscillating
 * factor, which the long window averages out (its effect on the estimate is at most
 * log(max/min of that factor) / m). Eigenvalues of modulus below ρ fade by (|λ|/ρ)^b during
 * the burn-in, and those just below ρ (random reservoirs have many, by the circular law) grow
 * at nearly ρ anyway, so they barely bias the estimate. The slowest case is a defective
 * (Jordan) dominant eigenvalue, where ‖Wᵏv‖ ~ k^{p}ρᵏ: the window then overestimates by
 * ((b+m)/b)^{p/m}, 0.55% for a 6×6 Jordan block. Dense eigenvalue solvers (Hessenberg QR) are
 * O(n³) and need the matrix dense; this is O(nnz) per step on the sparse reservoir. The tests
 * check it within 1% of `numpy.linalg.eigvals` on small matrices of each kind.
 *
 * Returns 0 when `Wᵏv` vanishes (a nilpotent matrix, e.g. a reservoir too sparse to hold a
 * cycle).
 */
export function estimateSpectralRadius(matrix: ArrayLike<number>, size: number): number {
  if (!Number.isInteger(size) || size < 1)
    throw new ValueRangeError(`estimateSpectralRadius: size must be a positive integer, received ${size}`);
  if (matrix.length !== size * size) {
    throw new ShapeError(`estimateSpectralRadius: matrix must hold size² = ${size * size} values, received ${matrix.length}`);
  }
  // Compressed rows: a reservoir at density d costs d·n² per product instead of n².
  const rowStart = new Int32Array(size + 1);
  const columns: number[] = [];
  const values: number[] = [];
  for (let i = 0; i < size; i++) {
    for (let j = 0; j < size; j++) {
      const w = matrix[i * size + j];
      if (!Number.isFinite(w)) throw new ValueRangeError(`estimateSpectralRadius: matrix[${i * size + j}] is ${w}; entries must be finite`);
      if (w !== 0) {
        columns.push(j);
        values.push(w);
      }
    }
    rowStart[i + 1] = columns.length;
  }
  // A fixed generator: the estimate is a property of W alone, and the caller's stream of
  // random numbers is not consumed.
  const random = new Random(0x5eed);
  let v = Float64Array.from({ length: size }, () => random.normal());
  let w = new Float64Array(size);
  normalize(v);
  let logGrowth = 0;
  for (let step = 0; step < BURN_IN + WINDOW; step++) {
    for (let i = 0; i < size; i++) {
      let s = 0;
      for (let p = rowStart[i]; p < rowStart[i + 1]; p++) s += values[p] * v[columns[p]];
      w[i] = s;
    }
    const norm = normalize(w);
    if (norm === 0) return 0;
    if (step >= BURN_IN) logGrowth += Math.log(norm);
    [v, w] = [w, v];
  }
  return Math.exp(logGrowth / WINDOW);
}

/** Scales `v` to unit length in place and returns its former length. */
function normalize(v: Float64Array): number {
  let sum = 0;
  for (let i = 0; i < v.length; i++) sum += v[i] * v[i];
  const norm = Math.sqrt(sum);
  if (norm > 0) for (let i = 0; i < v.length; i++) v[i] /= norm;
  return norm;
}

/**
 * Solves `A X = B` for a symmetric positive definite `A` (`n × n`, row-major; only its lower
 * triangle is read and it is overwritten by the Cholesky factor L) and `B` (`n × k`,
 * row-major), returning X `n × k`. A non-positive pivot (A not positive definite in float64)
 * throws a `ValueRangeError` built by `onFailure`, for the caller to name its own argument.
 */
export function choleskySolve(a: Float64Array, n: number, b: Float64Array, k: number, onFailure: (pivot: number) => Error): Float64Array {
  for (let j = 0; j < n; j++) {
    let d = a[j * n + j];
    for (let p = 0; p < j; p++) d -= a[j * n + p] * a[j * n + p];
    if (!(d > 0)) throw onFailure(j);
    const ljj = Math.sqrt(d);
    a[j * n + j] = ljj;
    for (let i = j + 1; i < n; i++) {
      let s = a[i * n + j];
      for (let p = 0; p < j; p++) s -= a[i * n + p] * a[j * n + p];
      a[i * n + j] = s / ljj;
    }
  }
  const x = Float64Array.from(b);
  // Forward substitution L Y = B, then back substitution Lᵀ X = Y, all k columns together.
  for (let i = 0; i < n; i++) {
    for (let p = 0; p < i; p++) {
      const l = a[i * n + p];
      for (let c = 0; c < k; c++) x[i * k + c] -= l * x[p * k + c];
    }
    for (let c = 0; c < k; c++) x[i * k + c] /= a[i * n + i];
  }
  for (let i = n - 1; i >= 0; i--) {
    for (let p = i + 1; p < n; p++) {
      const l = a[p * n + i];
      for (let c = 0; c < k; c++) x[i * k + c] -= l * x[p * k + c];
    }
    for (let c = 0; c < k; c++) x[i * k + c] /= a[i * n + i];
  }
  return x;
}
