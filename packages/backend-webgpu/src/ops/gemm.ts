/** GEMM: C = alpha·op(A)·op(B) (+ bias) (+ beta·C) on either GEMM kernel, on whole buffers or parts of them. */
import type { BackendBuffer, GemmOptions } from '@recur/core/backend';
import { GEMM_REG_BLOCK, GEMM_TILE, gemmKernel, gemmRegisterKernel } from '../kernels/gemm.js';
import { gpuOf } from '../memory.js';
import { Params } from '../params.js';
import type { CommandQueue } from '../queue.js';

/** Which GEMM kernel runs (see `WebGpuBackendOptions.gemm`). */
export type GemmVariant = 'tiled' | 'register';

/** One product on buffers at float offsets `aOff`, `bOff`, `cOff` (the fused sequences work on parts of `saved`). */
export function encodeGemm(
  queue: CommandQueue,
  variant: GemmVariant,
  a: GPUBuffer,
  aOff: number,
  b: GPUBuffer,
  bOff: number,
  c: GPUBuffer,
  cOff: number,
  o: { m: number; n: number; k: number; transA?: boolean; transB?: boolean; alpha?: number; beta?: number },
  bias?: GPUBuffer,
): void {
  const { m, n, k } = o;
  const params = new Params()
    .u(m, n, k)
    .bool(!!o.transA)
    .bool(!!o.transB)
    .f(o.alpha ?? 1, o.beta ?? 0)
    .u(aOff, bOff, cOff);
  const storage = bias ? [a, b, bias, c] : [a, b, c];
  if (variant === 'register') {
    const R = GEMM_REG_BLOCK;
    queue.run(`gemm-reg:${!!bias}`, () => gemmRegisterKernel(!!bias), storage, params, [Math.ceil(n / R), Math.ceil(m / R)]);
    return;
  }
  const T = GEMM_TILE;
  const checked = m % T !== 0 || n % T !== 0 || k % T !== 0;
  const key = `gemm:${checked}:${!!bias}`;
  queue.run(key, () => gemmKernel(checked, !!bias), storage, params, [Math.ceil(n / T), Math.ceil(m / T)]);
}

export function gemm(
  queue: CommandQueue,
  variant: GemmVariant,
  a: BackendBuffer,
  b: BackendBuffer,
  options: GemmOptions,
  out?: BackendBuffer,
): BackendBuffer {
  const { m, n } = options;
  const beta = out ? (options.beta ?? 0) : 0;
  const o = { ...options, beta };
  if (out && (out === a || out === b)) {
    // A written operand may not be bound twice: compute into a copy, then copy back.
    const tmp = queue.alloc(m * n);
    if (beta !== 0) queue.copy(gpuOf(out), 0, gpuOf(tmp), 0, m * n);
    encodeGemm(queue, variant, gpuOf(a), 0, gpuOf(b), 0, gpuOf(tmp), 0, o);
    queue.copy(gpuOf(tmp), 0, gpuOf(out), 0, m * n);
    queue.dispose(tmp);
    return out;
  }
  const target = out ?? queue.alloc(m * n);
  encodeGemm(queue, variant, gpuOf(a), 0, gpuOf(b), 0, gpuOf(target), 0, o);
  return target;
}
