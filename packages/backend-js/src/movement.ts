/**
 * Data movement on plain typed arrays: permute, concat, slice, gather and scatter of rows.
 * Each writes a caller-allocated `out`.
 */
import type { FloatArray } from '@recur/core/backend';
import { contiguousStrides, forEachStrided, sizeOf } from './strided.js';

/**
 * Axis permutation. Output dimension d is input axis `perm[d]`, so walking the output in
 * row-major order reads the input with the input's strides taken in `perm` order.
 */
export function permute(x: FloatArray, shape: readonly number[], perm: readonly number[], out: FloatArray): void {
  const inStrides = contiguousStrides(shape);
  const outShape = perm.map((axis) => shape[axis]);
  const readStrides = perm.map((axis) => inStrides[axis]);
  forEachStrided(outShape, readStrides, readStrides, (i, xi) => {
    out[i] = x[xi];
  });
}

/**
 * A shape seen as `[outer, along, inner]` around `axis`: `outer` = product of the dimensions
 * before it, `inner` = product of those after it. Concat and slice move whole `inner`-sized
 * runs, which are contiguous.
 */
function splitAround(shape: readonly number[], axis: number): { outer: number; along: number; inner: number } {
  return { outer: sizeOf(shape.slice(0, axis)), along: shape[axis], inner: sizeOf(shape.slice(axis + 1)) };
}

/** Concatenation along `axis`: for each outer index, the inputs' blocks one after another. */
export function concat(xs: readonly FloatArray[], shapes: readonly (readonly number[])[], axis: number, out: FloatArray): void {
  const { outer, inner } = splitAround(shapes[0], axis);
  const outRow = shapes.reduce((total, shape) => total + shape[axis], 0) * inner;
  let start = 0; // where the current input's block begins inside one output row
  xs.forEach((x, n) => {
    const block = shapes[n][axis] * inner;
    for (let o = 0; o < outer; o++) {
      out.set(x.subarray(o * block, (o + 1) * block), o * outRow + start);
    }
    start += block;
  });
}

/** The sub-array `[start, start + length)` along `axis`. */
export function slice(x: FloatArray, shape: readonly number[], axis: number, start: number, length: number, out: FloatArray): void {
  const { outer, along, inner } = splitAround(shape, axis);
  const block = length * inner;
  for (let o = 0; o < outer; o++) {
    const from = (o * along + start) * inner;
    out.set(x.subarray(from, from + block), o * block);
  }
}

/** `out[i, :] = x[index[i], :]` for a `[rows, width]` matrix x. */
export function gatherRows(x: FloatArray, width: number, index: Int32Array, out: FloatArray): void {
  for (let i = 0; i < index.length; i++) {
    const from = index[i] * width;
    out.set(x.subarray(from, from + width), i * width);
  }
}

/**
 * The adjoint of `gatherRows`: `out[index[i], :] += g[i, :]`, from zero. Rows picked several
 * times receive several contributions, so sums are kept in float64 and rounded once.
 */
export function scatterAddRows(g: FloatArray, width: number, index: Int32Array, out: FloatArray): void {
  const sums = new Float64Array(out.length);
  for (let i = 0; i < index.length; i++) {
    const to = index[i] * width;
    for (let j = 0; j < width; j++) sums[to + j] += g[i * width + j];
  }
  out.set(sums);
}
