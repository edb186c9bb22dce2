/**
 * GEMM throughput of both kernels on this adapter, for the recurrent product of an LSTM step,
 * h·W_hhᵀ: batch × 4·hidden × hidden (32×1024×256 by default). It runs once (which includes
 * compiling the pipeline), then ten times. Bundled and run by `scripts/bench.mjs`.
 */
import { createWebGpuImplementation } from '../src/index.js';

export interface GemmBenchOptions {
  /** Dawn flags for Node (e.g. ['backend=vulkan']); default: the factory's own adapter search. */
  dawnFlags?: string[];
  batch: number;
  hidden: number;
}

export async function bench(o: GemmBenchOptions): Promise<void> {
  const [m, n, k] = [o.batch, 4 * o.hidden, o.hidden];
  for (const gemm of ['tiled', 'register'] as const) {
    const b = await createWebGpuImplementation({ ...(o.dawnFlags ? { dawnFlags: o.dawnFlags } : {}), gemm });
    if (gemm === 'tiled') console.log(`adapter: ${b.adapterName}`);
    const x = b.upload(new Float32Array(m * k).fill(0.1));
    const w = b.upload(new Float32Array(n * k).fill(0.1));
    for (const times of [1, 10]) {
      await b.sync();
      const t = performance.now();
      for (let i = 0; i < times; i++) b.dispose(b.gemm(x, w, { m, n, k, transB: true }));
      await b.sync();
      const s = (performance.now() - t) / 1000;
      console.log(
        `${gemm} gemm ${m}x${n}x${k} Bᵀ ×${times}: ${((s / times) * 1000).toFixed(1)} ms each, ${((2 * m * n * k * times) / s / 1e9).toFixed(3)} GFLOP/s`,
      );
    }
    b.destroy();
  }
}
