/** Number of elements of a shape (1 for a scalar, rank 0). */
export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Row-major (C order) strides of a shape. */
export function contiguousStrides(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    strides[d] = s;
    s *= shape[d];
  }
  return strides;
}

/**
 * Visits every multi-index of `shape` in row-major order and calls `visit(i, a, b)` with the
 * linear position `i` and the offsets `a = Σ index[d]·aStrides[d]`, `b = Σ index[d]·bStrides[d]`.
 *
 * It keeps an odometer (the multi-index) and moves the offsets by one stride per step instead
 * of decoding each position with divisions, so a stride of 0 (a broadcast dimension) simply
 * revisits the same element.
 */
export function forEachStrided(
  shape: readonly number[],
  aStrides: readonly number[],
  bStrides: readonly number[],
  visit: (i: number, a: number, b: number) => void,
): void {
  const rank = shape.length;
  const size = sizeOf(shape);
  const index = new Array<number>(rank).fill(0);
  let a = 0;
  let b = 0;
  for (let i = 0; i < size; i++) {
    visit(i, a, b);
    // Advance the odometer: bump the last axis, carrying into earlier axes when one wraps.
    for (let d = rank - 1; d >= 0; d--) {
      index[d]++;
      a += aStrides[d];
      b += bStrides[d];
      if (index[d] < shape[d]) break;
      a -= aStrides[d] * shape[d];
      b -= bStrides[d] * shape[d];
      index[d] = 0;
    }
  }
}
