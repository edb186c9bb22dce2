/**
 * Argument checks run in JS before any call reaches C++ (which checks again, cheaply, and
 * throws rather than crash). Every failure is a typed `RecurError` naming the argument.
 */
import { describeShape, ShapeError, ValueRangeError } from '@recur/core';

/** Largest element count a single buffer or GEMM dimension may have (C++ uses 32-bit ints for BLAS). */
export const MAX_ELEMENTS = 2 ** 31 - 1;

/** A non-negative integer size or index argument. */
export function count(method: string, name: string, value: unknown, max = MAX_ELEMENTS): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > max) {
    throw new ValueRangeError(`${method}: ${name} must be an integer in [0, ${max}], received ${String(value)}`);
  }
  return value;
}

/** A real number argument (NaN and ±Infinity allowed only where `finite` is false). */
export function real(method: string, name: string, value: unknown, finite = true): number {
  if (typeof value !== 'number' || (finite && !Number.isFinite(value))) {
    throw new ValueRangeError(`${method}: ${name} must be a ${finite ? 'finite ' : ''}number, received ${String(value)}`);
  }
  return value;
}

/** A shape (or strides) array of non-negative integers whose product stays in range. */
export function shapeOf(method: string, name: string, value: unknown): number[] {
  if (!Array.isArray(value)) throw new ShapeError(`${method}: ${name} must be an array of integers, received ${String(value)}`);
  for (let i = 0; i < value.length; i++) {
    const d = value[i];
    // The entry's name is only built for the error (this runs on every call).
    if (typeof d !== 'number' || !Number.isInteger(d) || d < 0 || d > MAX_ELEMENTS) count(method, `${name}[${i}]`, d);
  }
  return value as number[];
}

export function sizeOf(method: string, name: string, shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  if (n > MAX_ELEMENTS) throw new ValueRangeError(`${method}: ${name} ${describeShape(shape)} has more than ${MAX_ELEMENTS} elements`);
  return n;
}

/** The product of sizes, checked against the element limit. */
export function product(method: string, what: string, ...factors: number[]): number {
  let n = 1;
  for (const f of factors) n *= f;
  if (n > MAX_ELEMENTS) throw new ValueRangeError(`${method}: ${what} would have ${n} elements (more than ${MAX_ELEMENTS})`);
  return n;
}

/** An Int32Array (other array-likes of integers are converted). */
export function int32Array(method: string, name: string, value: unknown): Int32Array {
  if (value instanceof Int32Array) return value;
  if (value !== null && typeof value === 'object' && typeof (value as ArrayLike<number>).length === 'number') {
    const array = value as ArrayLike<number>;
    const out = new Int32Array(array.length);
    for (let i = 0; i < array.length; i++) {
      const v = array[i];
      if (!Number.isInteger(v) || v < -(2 ** 31) || v >= 2 ** 31)
        throw new ValueRangeError(`${method}: ${name}[${i}] must be a 32-bit integer, received ${v}`);
      out[i] = v;
    }
    return out;
  }
  throw new ShapeError(`${method}: ${name} must be an Int32Array, received ${String(value)}`);
}

/** Every entry of `index` lies in [0, limit). */
export function indicesInRange(method: string, name: string, index: Int32Array, limit: number): void {
  for (let i = 0; i < index.length; i++) {
    const v = index[i];
    if (v < 0 || v >= limit) throw new ValueRangeError(`${method}: ${name}[${i}] = ${v} lies outside [0, ${limit})`);
  }
}
