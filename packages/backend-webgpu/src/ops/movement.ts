/** Data movement: permute, concat and slice (strided 2-D copies), row gather and scatter-add. */
import type { BackendBuffer } from '@recur/core/backend';
import { sizeOf, stridesOf } from '@recur/core/backend';
import { copy2dKernel, gatherKernel, permuteKernel, scatterKernel } from '../kernels/movement.js';
import { checkRank } from '../kernels/prelude.js';
import { gpuOf, STORAGE } from '../memory.js';
import { Params } from '../params.js';
import type { CommandQueue } from '../queue.js';

export function permute(queue: CommandQueue, x: BackendBuffer, shape: readonly number[], perm: readonly number[]): BackendBuffer {
  checkRank('permute', shape.length);
  const n = x.length;
  const out = queue.alloc(n);
  const inStrides = stridesOf(shape);
  const params = new Params()
    .u(n, shape.length)
    .array(
      perm.map((axis) => shape[axis]),
      4,
    )
    .array(
      perm.map((axis) => inStrides[axis]),
      12,
    );
  queue.run('permute', permuteKernel, [gpuOf(x), gpuOf(out)], params, n);
  return out;
}

/** `outer` blocks of `block` floats; a plain buffer copy where the blocks are contiguous on both sides. */
function copy2d(
  queue: CommandQueue,
  src: GPUBuffer,
  dst: GPUBuffer,
  outer: number,
  block: number,
  srcOff: number,
  srcStride: number,
  dstOff: number,
  dstStride: number,
): void {
  if (outer * block === 0) return;
  if (outer === 1 || (srcStride === block && dstStride === block)) {
    queue.copy(src, srcOff, dst, dstOff, outer * block);
    return;
  }
  const params = new Params().u(outer * block, block, srcOff, srcStride, dstOff, dstStride);
  queue.run('copy2d', copy2dKernel, [src, dst], params, outer * block);
}

export function concat(
  queue: CommandQueue,
  xs: readonly BackendBuffer[],
  shapes: readonly (readonly number[])[],
  axis: number,
): BackendBuffer {
  const out = queue.alloc(xs.reduce((total, x) => total + x.length, 0));
  const outer = sizeOf(shapes[0].slice(0, axis));
  const inner = sizeOf(shapes[0].slice(axis + 1));
  const outRow = shapes.reduce((total, shape) => total + shape[axis], 0) * inner;
  let start = 0;
  xs.forEach((x, i) => {
    const block = shapes[i][axis] * inner;
    copy2d(queue, gpuOf(x), gpuOf(out), outer, block, 0, block, start, outRow);
    start += block;
  });
  return out;
}

export function slice(
  queue: CommandQueue,
  x: BackendBuffer,
  shape: readonly number[],
  axis: number,
  start: number,
  length: number,
): BackendBuffer {
  const outer = sizeOf(shape.slice(0, axis));
  const inner = sizeOf(shape.slice(axis + 1));
  const block = length * inner;
  const out = queue.alloc(outer * block);
  copy2d(queue, gpuOf(x), gpuOf(out), outer, block, start * inner, shape[axis] * inner, 0, block);
  return out;
}

export function gatherRows(queue: CommandQueue, x: BackendBuffer, width: number, index: Int32Array): BackendBuffer {
  const n = index.length * width;
  const out = queue.alloc(n);
  if (n === 0) return out;
  queue.run('gather', gatherKernel, [gpuOf(x), queue.temporary(index, STORAGE), gpuOf(out)], new Params().u(n, width), n);
  return out;
}

/** Deterministic and without float atomics: each output element sums its sources in index order. */
export function scatterAddRows(queue: CommandQueue, g: BackendBuffer, width: number, index: Int32Array, rows: number): BackendBuffer {
  const n = rows * width;
  const out = queue.alloc(n);
  if (n === 0) return out;
  // Group the sources by target row on the host (stable: index order within a row).
  const csr = new Int32Array(rows + 1 + index.length);
  for (let i = 0; i < index.length; i++) csr[index[i] + 1]++;
  for (let r = 0; r < rows; r++) csr[r + 1] += csr[r];
  const next = csr.slice(0, rows);
  for (let i = 0; i < index.length; i++) csr[rows + 1 + next[index[i]]++] = i;
  queue.run('scatter', scatterKernel, [gpuOf(g), queue.temporary(csr, STORAGE), gpuOf(out)], new Params().u(rows, width), n);
  return out;
}
