/** GEMM throughput of both kernels on this adapter; opt-in (RECUR_WEBGPU_BENCH=1), it measures, it does not check. */
import { it } from 'vitest';
import { createWebGpuBackend } from '../src/index.js';
import { nodeOptions } from './adapter.js';

it.skipIf(!process.env.RECUR_WEBGPU_BENCH)(
  'gemm speed (set RECUR_WEBGPU_BENCH=1 to measure)',
  async () => {
    for (const gemm of ['tiled', 'register'] as const) {
      const b = await createWebGpuBackend({ ...nodeOptions(), gemm });
      const x = b.upload(new Float32Array(32 * 256).fill(0.1));
      const w = b.upload(new Float32Array(1024 * 256).fill(0.1));
      for (const n of [1, 10]) {
        await b.sync();
        const t = performance.now();
        for (let i = 0; i < n; i++) b.dispose(b.gemm(x, w, { m: 32, n: 1024, k: 256, transB: true }));
        await b.sync();
        const s = (performance.now() - t) / 1000;
        console.log(
          `${gemm} gemm 32x1024x256 Bᵀ ×${n}: ${((s / n) * 1000).toFixed(1)} ms each, ${((2 * 32 * 1024 * 256 * n) / s / 1e9).toFixed(3)} GFLOP/s`,
        );
      }
      b.destroy();
    }
  },
  300_000,
);
