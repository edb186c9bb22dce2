/** Element-wise ops: fill, unary (in place or not), binary with broadcast strides. */
import type { BackendBuffer, BinaryOp, UnaryOp } from '@recur/core/backend';
import { sizeOf } from '@recur/core/backend';
import { binaryKernel, fillKernel, unaryKernel } from '../kernels/elementwise.js';
import { checkRank } from '../kernels/prelude.js';
import { gpuOf } from '../memory.js';
import { Params } from '../params.js';
import type { CommandQueue } from '../queue.js';

export function fill(queue: CommandQueue, length: number, value: number): BackendBuffer {
  const out = queue.alloc(length);
  if (length === 0) return out;
  // clearBuffer writes +0 only; -0 needs the kernel.
  if (value === 0 && !Object.is(value, -0)) {
    queue.clear(gpuOf(out), 0, length);
  } else {
    queue.run('fill', fillKernel, [gpuOf(out)], new Params().u(length).f(value), length);
  }
  return out;
}

export function unary(
  queue: CommandQueue,
  op: UnaryOp,
  x: BackendBuffer,
  param?: number,
  param2?: number,
  out?: BackendBuffer,
): BackendBuffer {
  const n = x.length;
  const params = new Params().u(n);
  if (op === 'clamp')
    params
      .f(param ?? 0)
      .bool(param !== undefined)
      .bool(param2 !== undefined)
      .f(param2 ?? 0);
  else params.f(param ?? 1);
  if (out === x) {
    queue.run(`unary:${op}:true`, () => unaryKernel(op, true), [gpuOf(x)], params, n);
    return x;
  }
  const target = out ?? queue.alloc(n);
  queue.run(`unary:${op}:false`, () => unaryKernel(op, false), [gpuOf(x), gpuOf(target)], params, n);
  return target;
}

export function binary(
  queue: CommandQueue,
  op: BinaryOp,
  a: BackendBuffer,
  aStrides: readonly number[],
  b: BackendBuffer,
  bStrides: readonly number[],
  outShape: readonly number[],
): BackendBuffer {
  checkRank('binary', outShape.length);
  const n = sizeOf(outShape);
  const out = queue.alloc(n);
  const params = new Params().u(n, outShape.length).array(outShape, 4).array(aStrides, 12).array(bStrides, 20);
  queue.run(`binary:${op}`, () => binaryKernel(op), [gpuOf(a), gpuOf(b), gpuOf(out)], params, n);
  return out;
}
