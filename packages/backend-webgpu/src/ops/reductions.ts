/** Reductions: `sumTo` (undoing a broadcast) and `sumOfSquares` (gradient norms). */
import type { BackendBuffer } from '@recur/core/backend';
import { sizeOf, stridesOf } from '@recur/core/backend';
import { checkRank } from '../kernels/prelude.js';
import { sumAllKernel, sumSquaresPartialKernel, sumToKernel } from '../kernels/reductions.js';
import { gpuOf } from '../memory.js';
import { Params } from '../params.js';
import type { CommandQueue } from '../queue.js';

export function sumTo(queue: CommandQueue, x: BackendBuffer, inShape: readonly number[], outShape: readonly number[]): BackendBuffer {
  checkRank('sumTo', inShape.length);
  const nOut = sizeOf(outShape);
  const nIn = sizeOf(inShape);
  const out = queue.alloc(nOut);
  if (nIn === 0) {
    queue.clear(gpuOf(out), 0, nOut);
    return out;
  }
  const params = new Params()
    .u(nOut, inShape.length, nIn / nOut)
    .array(inShape, 4)
    .array(outShape, 12)
    .array(stridesOf(inShape), 20);
  queue.run('sumTo', sumToKernel, [gpuOf(x), gpuOf(out)], params, nOut);
  return out;
}

/** One workgroup per buffer writes a partial sum, then one invocation adds the partials. */
export function sumOfSquares(queue: CommandQueue, buffers: readonly BackendBuffer[]): BackendBuffer {
  const out = queue.alloc(1);
  if (buffers.length === 0) {
    queue.clear(gpuOf(out), 0, 1);
    return out;
  }
  const partials = queue.alloc(buffers.length);
  buffers.forEach((b, i) => {
    queue.run('sumsq-partial', sumSquaresPartialKernel, [gpuOf(b), gpuOf(partials)], new Params().u(b.length, i), [1, 1]);
  });
  queue.run('sum-all', sumAllKernel, [gpuOf(partials), gpuOf(out)], new Params().u(buffers.length, 0).f(1), [1, 1]);
  queue.dispose(partials);
  return out;
}
