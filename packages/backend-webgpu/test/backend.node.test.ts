/**
 * Backend-specific behaviour the conformance suite does not cover: registration and adapter
 * selection, typed errors (shader compile failure, validation error, device loss, oversized
 * allocation) surfacing on the next read/sync without hanging, numerics at extreme inputs,
 * command batching, pooling and the compatibility-mode binding budget of every kernel.
 */
import {
  BackendError,
  BackendUnavailableError,
  createBackend,
  DeviceLostError,
  listBackends,
  OptionsError,
  OutOfMemoryError,
} from '@recur/core';
import type { Backend, CellKind, FusedSequenceKernels } from '@recur/core/backend';
import '@recur/backend-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWebGpuImplementation, type WebGpuBackend } from '../src/index.js';
import * as K from '../src/kernels/index.js';
import { gpuOf } from '../src/memory.js';
import { Params } from '../src/params.js';
import type { CommandQueue } from '../src/queue.js';
import { nodeOptions, probe } from './adapter.js';

function sequenceKernels(backend: Backend): FusedSequenceKernels {
  if (!backend.fused.sequence) throw new Error(`${backend.name} has no fused sequence kernels`);
  return backend.fused.sequence;
}

const { adapter, reason } = await probe();
if (!adapter) console.warn(`[backend-webgpu] skipping the Node backend tests: ${reason}`);

/** Every kernel the backend can build, with each specialisation. */
function allKernels(): K.KernelSource[] {
  const cells: CellKind[] = ['tanh', 'relu', 'lstm', 'gru', 'ugrnn'];
  return [
    K.fillKernel(),
    ...(
      ['copy', 'neg', 'exp', 'log', 'tanh', 'sigmoid', 'relu', 'step', 'sqrt', 'square', 'abs', 'reciprocal', 'scale', 'clamp'] as const
    ).flatMap((op) => [K.unaryKernel(op, true), K.unaryKernel(op, false)]),
    ...(['add', 'sub', 'mul', 'div'] as const).map((op) => K.binaryKernel(op)),
    K.sumToKernel(),
    K.sumSquaresPartialKernel(),
    K.sumAllKernel(),
    K.columnSumKernel(),
    K.permuteKernel(),
    K.copy2dKernel(),
    K.gatherKernel(),
    K.scatterKernel(),
    ...[false, true].flatMap((checked) => [K.gemmKernel(checked, false), K.gemmKernel(checked, true)]),
    K.gemmRegisterKernel(false),
    K.gemmRegisterKernel(true),
    ...cells.flatMap((kind) => [
      K.cellForwardKernel(kind),
      K.cellBackwardKernel(kind),
      K.sequenceStepForwardKernel(kind),
      K.sequenceStepBackwardKernel(kind),
      K.fusedStepForwardKernel(kind),
      K.fusedStepBackwardKernel(kind),
    ]),
    K.sequenceOutputKernel(),
    K.crossEntropyKernel(),
    K.sgdKernel(),
    K.adamKernel(),
    K.amsgradKernel(),
    ...K.rmspropKernels(),
  ];
}

/** The backend's private command queue, for tests that inject kernels. */
const queueOf = (b: WebGpuBackend) => (b as unknown as { queue: CommandQueue }).queue;

describe('kernels', () => {
  it('every kernel binds at most 4 storage buffers (compatibility-mode budget)', () => {
    for (const k of allKernels()) expect(k.storage.length, k.key).toBeLessThanOrEqual(4);
  });
});

describe.skipIf(!adapter)(`webgpu backend (node, ${adapter})`, () => {
  let backend: WebGpuBackend;
  beforeAll(async () => {
    backend = await createWebGpuImplementation(nodeOptions());
  });
  afterAll(() => backend?.destroy());

  it('registers as webgpu above the JS reference', () => {
    const names = listBackends();
    expect(names).toContain('webgpu');
    expect(names.indexOf('webgpu')).toBeLessThan(names.indexOf('js'));
  });

  it("createBackend('auto') picks webgpu where an adapter exists, and skips it for float64", async () => {
    const auto = await createBackend('auto');
    expect(auto.name).toBe('webgpu');
    expect(auto.description).toMatch(/WebGPU on /);
    auto.destroy();
    const f64 = await createBackend('auto', { dtype: 'float64' });
    expect(f64.name).toBe('js');
  });

  it('refuses unknown and mistyped options, naming them', async () => {
    await expect(createBackend('webgpu', { gem: 'tiled' })).rejects.toThrow(/unknown option 'gem'; did you mean 'gemm'\?/);
    await expect(createBackend('webgpu', { stepKernel: 'fast' })).rejects.toThrow(OptionsError);
  });

  it('throws BackendUnavailableError naming what it tried when no adapter exists', async () => {
    const gpu = { requestAdapter: async () => null } as unknown as GPU;
    const error = await createWebGpuImplementation({ gpu }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BackendUnavailableError);
    expect(String((error as Error).message)).toMatch(
      /navigator\.gpu featureLevel core: no adapter; navigator\.gpu featureLevel compatibility: no adapter/,
    );
    await expect(createWebGpuImplementation({ dtype: 'float64' })).rejects.toBeInstanceOf(BackendUnavailableError);
  });

  it('runs within WebGPU default limits when the adapter limits are not requested', async () => {
    const plain = await createWebGpuImplementation({ ...nodeOptions(), adapterLimits: false });
    // Compatibility mode's default is 4 in the WebGPU spec's first version and 8 in current Dawn.
    console.log(`default limits: maxStorageBuffersPerShaderStage ${plain.device.limits.maxStorageBuffersPerShaderStage}`);
    expect(plain.device.limits.maxStorageBuffersPerShaderStage).toBeGreaterThanOrEqual(4);
    for (const k of allKernels()) queueOf(plain).pipelines.get(`test:${k.key}`, () => k);
    await plain.sync();
    plain.destroy();
  });

  it('compiles every kernel without a validation error', async () => {
    for (const k of allKernels()) queueOf(backend).pipelines.get(`test:${k.key}`, () => k);
    await backend.sync();
  });

  it('tanh and sigmoid are exact at large |x| (no NaN)', async () => {
    const xs = [-1000, -100, -89, -88, -20, -1e-3, 0, 1e-3, 20, 88, 89, 100, 1000];
    const x = backend.upload(xs);
    const t = await backend.read(backend.unary('tanh', x));
    const s = await backend.read(backend.unary('sigmoid', x));
    xs.forEach((v, i) => {
      expect(Math.abs(t[i] - Math.tanh(v))).toBeLessThan(2e-7);
      expect(Math.abs(s[i] - 1 / (1 + Math.exp(-v)))).toBeLessThan(2e-7);
    });
    expect(t[0]).toBe(-1);
    expect(t[12]).toBe(1);
    expect(s[0]).toBe(0);
    expect(s[12]).toBe(1);
  });

  it('a shader that fails to compile becomes a BackendError with the adapter name on the next read', async () => {
    const x = backend.upload([1, 2, 3]);
    const bad: K.KernelSource = { key: 'broken', storage: ['rw'], code: 'this is not WGSL' };
    queueOf(backend).run('broken', () => bad, [gpuOf(x)], new Params(), 3);
    const error = await backend.read(x).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BackendError);
    expect((error as Error).message).toContain(`WebGPU (${backend.adapterName})`);
    expect((error as Error).message).toMatch(/kernel 'broken' failed to compile/);
    // Using the broken kernel again fails at once; the error is reported once; the backend keeps working.
    expect(() => queueOf(backend).run('broken', () => bad, [gpuOf(x)], new Params(), 3)).toThrow(BackendError);
    expect(Array.from(await backend.read(backend.unary('neg', x)))).toEqual([-1, -2, -3]);
  });

  it('an uncaptured validation error surfaces on the next sync', async () => {
    const x = backend.upload([1]);
    // More workgroups than maxComputeWorkgroupsPerDimension: a validation error at encode time.
    const grid: [number, number] = [backend.device.limits.maxComputeWorkgroupsPerDimension + 1, 1];
    queueOf(backend).run('unary:neg:true', () => K.unaryKernel('neg', true), [gpuOf(x)], new Params(), grid);
    await expect(backend.sync()).rejects.toBeInstanceOf(BackendError);
    await backend.sync();
  });

  it('an allocation beyond the device limits is a typed out-of-memory error', () => {
    expect(() => backend.fill(2 ** 31, 1)).toThrow(OutOfMemoryError);
    expect(() => backend.fill(2 ** 31, 1)).toThrow(/out of memory/);
  });

  it('batches dispatches into few submits and reuses disposed buffers', async () => {
    await backend.sync();
    const submits = backend.submitCount;
    const x = backend.upload(new Float32Array(100).fill(1));
    for (let i = 0; i < 100; i++) backend.unary('scale', x, 2, undefined, x);
    expect(backend.submitCount).toBe(submits);
    expect((await backend.read(x))[0]).toBe(2 ** 100);
    expect(backend.submitCount).toBe(submits + 1);
    const a = backend.fill(1000, 3);
    const gpu = gpuOf(a);
    backend.dispose(a);
    backend.dispose(a); // idempotent
    const b = backend.fill(900, 4);
    expect(gpuOf(b)).toBe(gpu);
    expect((await backend.read(b)).length).toBe(900);
  });

  it('submits every maxDispatchesPerSubmit dispatches, in call order', async () => {
    const small = await createWebGpuImplementation({ ...nodeOptions(), maxDispatchesPerSubmit: 8 });
    const x = small.upload([1]);
    for (let i = 0; i < 40; i++) small.unary('scale', x, 3, undefined, x);
    expect(small.submitCount).toBeGreaterThanOrEqual(4);
    expect((await small.read(x))[0]).toBeCloseTo(3 ** 40, -12);
    small.destroy();
  });

  it('a dispatch whose index buffer is made just as the batch fills is submitted with it intact', async () => {
    // gatherRows uploads its index as a temporary buffer before encoding; when that dispatch is
    // the one that starts a new submit, the flush must not destroy the temporary it is about to use.
    const small = await createWebGpuImplementation({ ...nodeOptions(), maxDispatchesPerSubmit: 8 });
    const x = small.upload([1, 2, 3]);
    for (let i = 0; i < 8; i++) small.unary('scale', x, 2, undefined, x);
    const gathered = small.gatherRows(x, 1, Int32Array.from([2, 0]));
    expect(Array.from(await small.read(gathered))).toEqual([3 * 256, 256]);
    await small.sync();
    small.destroy();
  });

  it("stepKernel 'fused' runs a time step as one dispatch instead of two", async () => {
    // Numerics of both paths are the conformance suite's job; this checks the dispatch structure.
    const [T, B, I, H] = [6, 3, 5, 20];
    const counts: Record<string, number[]> = {};
    for (const stepKernel of ['split', 'fused'] as const) {
      const b = await createWebGpuImplementation({ ...nodeOptions(), stepKernel });
      expect(b.description).toContain(`${stepKernel} time steps`);
      const fill = (n: number, v: number) => b.upload(Float32Array.from({ length: n }, (_, i) => v * Math.sin(i + 1)));
      const args = { kind: 'lstm' as const, steps: T, batch: B, inputSize: I, hidden: H, x: fill(T * B * I, 1), wIh: fill(4 * H * I, 0.3) };
      const full = { ...args, wHh: fill(4 * H * H, 0.2), bIh: fill(4 * H, 0.1), bHh: fill(4 * H, 0.1), h0: fill(B * H, 0.5) };
      const d0 = b.dispatchCount;
      const fwd = sequenceKernels(b).forward(full);
      const d1 = b.dispatchCount;
      sequenceKernels(b).backward({ ...full, saved: fwd.saved, dOutput: fill(T * B * H, 1), dhN: fill(B * H, 1) });
      counts[stepKernel] = [d1 - d0, b.dispatchCount - d1];
      await b.sync();
      b.destroy();
    }
    // Forward: 2 per step → 1 per step. Backward: 2 per step → 1 per step, plus one that completes dh0.
    expect(counts.split[0] - counts.fused[0]).toBe(T);
    expect(counts.split[1] - counts.fused[1]).toBe(T - 1);
  });

  it('device loss rejects read and sync with a DeviceLostError instead of hanging', async () => {
    const doomed = await createWebGpuImplementation(nodeOptions());
    const x = doomed.upload([1, 2]);
    doomed.device.destroy();
    const error = await doomed.read(x).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeviceLostError);
    expect((error as Error).message).toMatch(/device lost/);
    await expect(doomed.sync()).rejects.toBeInstanceOf(DeviceLostError);
    doomed.destroy();
  });
});
