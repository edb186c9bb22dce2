/**
 * How two arrays are compared, in the style of ggml's test-backend-ops: a normalized error
 * (so one tolerance fits values of any scale) plus an explicit NaN/Inf check (a backend that
 * returns NaN where the reference is finite fails whatever the tolerance).
 */
export interface Tolerance {
  /** Largest allowed `max|a − b| / max(1, max|b|)`. */
  maxError: number;
  /** Why this tolerance: what in the computation limits the agreement. */
  reason: string;
}

export interface Comparison {
  /** `max|a − b| / max(1, max|b|)`. */
  error: number;
  /** Σ(a − b)² / Σb² (ggml's NMSE), reported for information. */
  nmse: number;
  /** Index of the first element that is non-finite in `actual` but finite in `expected`. */
  nonFiniteAt: number;
}

export function compareArrays(actual: ArrayLike<number>, expected: ArrayLike<number>): Comparison {
  if (actual.length !== expected.length) {
    throw new Error(`length mismatch: actual has ${actual.length} elements, expected ${expected.length}`);
  }
  let maxDiff = 0;
  let maxRef = 0;
  let sumSq = 0;
  let refSq = 0;
  let nonFiniteAt = -1;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const b = expected[i];
    if (!Number.isFinite(a) && Number.isFinite(b) && nonFiniteAt < 0) nonFiniteAt = i;
    const d = Math.abs(a - b);
    if (d > maxDiff || Number.isNaN(d)) maxDiff = Number.isNaN(d) ? Number.POSITIVE_INFINITY : d;
    maxRef = Math.max(maxRef, Math.abs(b));
    sumSq += (a - b) ** 2;
    refSq += b * b;
  }
  return { error: maxDiff / Math.max(1, maxRef), nmse: refSq > 0 ? sumSq / refSq : sumSq, nonFiniteAt };
}

/** Throws a readable error when `actual` is not within `tolerance` of `expected`. */
export function expectClose(what: string, actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance: Tolerance): Comparison {
  const c = compareArrays(actual, expected);
  if (c.nonFiniteAt >= 0) {
    throw new Error(`${what}: element ${c.nonFiniteAt} is ${actual[c.nonFiniteAt]} but the reference is ${expected[c.nonFiniteAt]}`);
  }
  if (!(c.error <= tolerance.maxError)) {
    let worst = 0;
    for (let i = 1; i < expected.length; i++) {
      if (Math.abs(actual[i] - expected[i]) > Math.abs(actual[worst] - expected[worst])) worst = i;
    }
    throw new Error(
      `${what}: normalized error ${c.error.toExponential(3)} exceeds ${tolerance.maxError} (${tolerance.reason}); ` +
        `worst element ${worst}: ${actual[worst]} vs ${expected[worst]}; nmse ${c.nmse.toExponential(3)}`,
    );
  }
  return c;
}

/** Tolerances against float64 reference values, by the dtype of the backend under test. */
export function referenceTolerance(dtype: 'float32' | 'float64', scale = 1): Tolerance {
  return dtype === 'float64'
    ? { maxError: 1e-10 * scale, reason: 'float64 on both sides: only summation order differs' }
    : { maxError: 2e-5 * scale, reason: 'float32 rounding (ε ≈ 1.2e-7) accumulated over sums of tens of terms and several time steps' };
}
