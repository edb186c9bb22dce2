import { defineConformanceSuite } from '@recur/conformance';
import { describe, it } from 'vitest';
import { createWebGpuBackend } from '../src/index.js';
import { nodeOptions, probe } from './adapter.js';

// Top-level await: find out whether this machine has an adapter before registering the suite.
const { adapter, reason } = await probe();

if (adapter) {
  defineConformanceSuite(() => createWebGpuBackend(nodeOptions()), {
    name: `webgpu (node, ${adapter})`,
    // Whole-model comparisons at hidden 8 keep the llvmpipe run short.
    modelHidden: 8,
    groups: process.env.RECUR_CONFORMANCE_GROUPS ? (process.env.RECUR_CONFORMANCE_GROUPS.split(',') as never) : undefined,
  });
  // On CPU adapters the defaults are the register-blocked GEMM and split time steps (a GEMM and
  // a gate kernel). What GPUs run by default, the workgroup-memory tiled GEMM and the fused time
  // step (one kernel per step), is checked here too, on a device with WebGPU's default limits
  // (compatibility mode: 4 storage buffers per stage, 16 KiB of workgroup memory).
  defineConformanceSuite(() => createWebGpuBackend({ ...nodeOptions(), gemm: 'tiled', stepKernel: 'fused', adapterLimits: false }), {
    name: `webgpu (node, ${adapter}, tiled GEMM, fused time steps, default limits)`,
    modelHidden: 8,
    groups: ['cross-backend', 'pytorch'],
  });
} else {
  console.warn(`[backend-webgpu] skipping the Node conformance suite: ${reason}`);
  describe('conformance: webgpu (node)', () => {
    it.skip(`no WebGPU adapter: ${reason} (on Debian: apt-get install -y libegl1 libgles2 libegl-mesa0)`, () => {});
  });
}
