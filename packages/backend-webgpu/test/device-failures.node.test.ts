/**
 * Issue 9: the device's failures during training surface as core's typed errors from the next
 * awaited call, with the adapter name and the device's own message.
 *
 * - Device loss is forced with `GPUDevice.destroy()` (not `backend.destroy()`, which is a
 *   deliberate shutdown) in the middle of a small LSTM training loop.
 * - Out-of-memory: Dawn's OpenGL ES backend on llvmpipe allocates buffer storage with the
 *   process's own memory, so a real allocation failure is provoked in a child process whose
 *   address space is capped with `prlimit` a little above what it already uses (see
 *   `oom-child.ts`; done in-process it would starve the test runner). The limit check of the
 *   buffer pool needs no child.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createJsBackend } from '@recur/backend-js';
import {
  Adam,
  BackendDestroyedError,
  BackendMismatchError,
  crossEntropy,
  DeviceLostError,
  DisposedTensorError,
  Embedding,
  Linear,
  LSTM,
  OutOfMemoryError,
  type Tensor,
  tidy,
} from '@recur/core';
import { describe, expect, it } from 'vitest';
import { workspaceAliases } from '../../../vitest.shared.mjs';
import { createWebGpuImplementation, type WebGpuBackend } from '../src/index.js';
import { nodeOptions, probe } from './adapter.js';
import type { OomReport } from './oom-child.js';

const { adapter, reason } = await probe();
if (!adapter) console.warn(`[backend-webgpu] skipping the device-failure tests: ${reason}`);

/** `promise`, or a rejection naming `what` after `ms`: a hang fails the test instead of stalling it. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms (hang)`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** One training step of a tiny char-LM; returns the loss tensor without reading it. */
function trainingStep(model: { embedding: Embedding; lstm: LSTM; head: Linear; optimizer: Adam }, step: number): Tensor {
  const [T, B, V] = [4, 2, 11];
  const ids = Int32Array.from({ length: T * B }, (_, i) => (i * 7 + step) % V);
  const targets = Int32Array.from({ length: T * B }, (_, i) => (i * 5 + step + 1) % V);
  const loss = tidy(() => {
    const out = model.lstm.forward(model.embedding.forward(ids, [T, B]));
    const l = crossEntropy(model.head.forward(out.output.reshape([T * B, 8])), targets);
    l.backward();
    return l;
  });
  model.optimizer.step();
  model.optimizer.zeroGrad();
  return loss;
}

function tinyModel(backend: WebGpuBackend) {
  const embedding = new Embedding({ numEmbeddings: 11, embeddingDim: 6, backend, seed: 1 });
  const lstm = new LSTM({ inputSize: 6, hiddenSize: 8, numLayers: 1, backend, seed: 2 });
  const head = new Linear({ inFeatures: 8, outFeatures: 11, backend, seed: 3 });
  const optimizer = new Adam([...embedding.parameters(), ...lstm.parameters(), ...head.parameters()], { lr: 0.01 });
  return { embedding, lstm, head, optimizer };
}

describe.skipIf(!adapter)(`webgpu device failures (node, ${adapter})`, () => {
  it('device loss during training: the pending read, the next read and sync, and every later one reject with DeviceLostError', async () => {
    const backend = await createWebGpuImplementation(nodeOptions());
    const model = tinyModel(backend);
    // Two healthy steps: the loss is read back normally.
    for (let step = 0; step < 2; step++) {
      const loss = await trainingStep(model, step).toArray();
      expect(Number.isFinite(loss[0])).toBe(true);
    }
    // A third step is enqueued and its loss read started; then the device goes away.
    const loss = trainingStep(model, 2);
    const submits = backend.submitCount;
    const pending = loss.toArray();
    const pendingSync = backend.sync();
    // The read has submitted the step and is waiting for the GPU.
    expect(backend.submitCount).toBe(submits + 1);
    backend.device.destroy();
    const first = await within(
      pending.then(
        () => null,
        (e: unknown) => e,
      ),
      10_000,
      'a read pending at the moment of device loss',
    );
    expect(first).toBeInstanceOf(DeviceLostError);
    await expect(within(pendingSync, 10_000, 'a sync pending at the moment of device loss')).rejects.toBeInstanceOf(DeviceLostError);
    // The device's own message and the adapter name are in the text.
    expect((first as Error).message).toContain('device was destroyed');
    expect((first as Error).message).toContain(backend.adapterName);

    // Training on: encoding on a lost device does not throw, the next awaited calls do, every time.
    const next = trainingStep(model, 3);
    await expect(within(next.toArray(), 10_000, 'read after loss')).rejects.toBeInstanceOf(DeviceLostError);
    await expect(within(backend.sync(), 10_000, 'sync after loss')).rejects.toBeInstanceOf(DeviceLostError);
    await expect(within(backend.read(backend.upload([1])), 10_000, 'second read after loss')).rejects.toThrow(/device was destroyed/);
    await expect(within(backend.sync(), 10_000, 'second sync after loss')).rejects.toBeInstanceOf(DeviceLostError);
    backend.destroy();
  });

  it('backend.destroy() is a shutdown, not a loss: a pending read and later calls throw BackendDestroyedError', async () => {
    const backend = await createWebGpuImplementation(nodeOptions());
    const x = backend.upload([1, 2, 3]);
    const pending = backend.read(backend.unary('neg', x));
    const pendingSync = backend.sync();
    backend.destroy();
    await expect(within(pending, 10_000, 'a read pending at destroy()')).rejects.toBeInstanceOf(BackendDestroyedError);
    await expect(within(pendingSync, 10_000, 'a sync pending at destroy()')).rejects.toBeInstanceOf(BackendDestroyedError);
    expect(() => backend.upload([1])).toThrow(BackendDestroyedError);
    await expect(backend.sync()).rejects.toBeInstanceOf(BackendDestroyedError);
  });

  it('misuse gives the same typed errors as the other backends: disposed and foreign buffers', async () => {
    const backend = await createWebGpuImplementation(nodeOptions());
    const x = backend.upload([1]);
    backend.dispose(x);
    expect(() => backend.unary('neg', x)).toThrow(DisposedTensorError);
    const js = createJsBackend();
    expect(() => backend.unary('neg', js.upload([1]))).toThrow(BackendMismatchError);
    js.destroy();
    backend.destroy();
  });

  it('a buffer above the device limit is an OutOfMemoryError with its byte size, thrown at the call (checked up front)', async () => {
    const backend = await createWebGpuImplementation(nodeOptions());
    const limit = Math.min(backend.device.limits.maxBufferSize, backend.device.limits.maxStorageBufferBindingSize);
    const length = limit / 4 + 1; // one float over
    let error: unknown;
    try {
      backend.fill(length, 1);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(OutOfMemoryError);
    // The pool rounds to its size class (MiB multiples above 1 MiB).
    const bytes = Math.ceil((length * 4) / 2 ** 20) * 2 ** 20;
    expect((error as OutOfMemoryError).bytes).toBe(bytes);
    expect((error as Error).message).toContain(bytes.toLocaleString('en-US'));
    expect((error as Error).message).toContain(backend.adapterName);
    // Nothing was allocated or recorded: the backend keeps working.
    expect(Array.from(await backend.read(backend.fill(3, 2)))).toEqual([2, 2, 2]);
    backend.destroy();
  });
});

// --- real out-of-memory, in a child process with a capped address space -----------------------

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
// Only a CPU-emulated adapter keeps buffers in the process's memory, where a cap can make them
// fail; a GPU driver under such a cap might fail anywhere. prlimit itself is looked for by the
// child, which reports a skip where it is missing.
const oomSkip = !adapter
  ? `no adapter: ${reason}`
  : process.platform !== 'linux'
    ? 'the address-space cap uses Linux prlimit and /proc'
    : !/llvmpipe|lavapipe|swiftshader|softpipe/i.test(adapter)
      ? `${adapter} is not CPU-emulated: its memory is not the process's, so an address-space cap cannot force out-of-memory`
      : null;
if (oomSkip) console.warn(`[backend-webgpu] skipping the real out-of-memory tests: ${oomSkip}`);

/** Bundles oom-child.ts (esbuild, as scripts/bench.mjs does) and runs one scenario in a fresh process. */
async function runOomChild(scenario: 'upload' | 'compute'): Promise<OomReport> {
  const { build } = await import('esbuild');
  // Written inside this package so that `webgpu` resolves from its node_modules.
  const cache = here('../node_modules/.cache');
  mkdirSync(cache, { recursive: true });
  const out = join(cache, `recur-webgpu-oom-${process.pid}-${scenario}.mjs`);
  const bundle = await build({
    entryPoints: [here('./oom-child.ts')],
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    write: false,
    external: ['webgpu'],
    alias: workspaceAliases,
  });
  writeFileSync(out, bundle.outputFiles[0].text);
  try {
    const child = spawn(process.execPath, [out, scenario, JSON.stringify(nodeOptions())], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    const code = await within(
      new Promise<number | null>((resolve) => child.on('close', resolve)),
      90_000,
      `the out-of-memory child (${scenario})`,
    ).catch((error) => {
      child.kill('SIGKILL');
      throw error;
    });
    const line = stdout.split('\n').find((l) => l.startsWith('OOM-REPORT '));
    if (!line)
      throw new Error(`the out-of-memory child (${scenario}) exited with ${code} and no report; stderr tail:\n${stderr.slice(-2000)}`);
    return JSON.parse(line.slice('OOM-REPORT '.length)) as OomReport;
  } finally {
    rmSync(out, { force: true });
  }
}

describe('webgpu real out-of-memory (child process, address space capped)', () => {
  it.skipIf(!!oomSkip)(
    'a buffer created mapped (upload) that the device cannot allocate: OutOfMemoryError at the call, with the size',
    async (ctx) => {
      const report = await runOomChild('upload');
      console.log('[oom upload]', JSON.stringify(report));
      if (report.skip) ctx.skip(report.skip);
      expect(report.allocated, 'allocations before the failure').toBeGreaterThan(0);
      expect(report.error?.name).toBe(OutOfMemoryError.name);
      expect(report.error?.isOutOfMemory).toBe(true);
      expect(report.error?.bytes).toBe(report.bytesPerAllocation);
      expect(report.error?.message).toContain(report.adapter);
      expect(report.error?.message).toContain(report.bytesPerAllocation.toLocaleString('en-US'));
      // Dawn's message for a mapped-at-creation allocation it could not make.
      expect(report.error?.message).toMatch(/mapped at creation/);
      expect(report.error?.synchronous).toBe(true);
      expect(report.recovered).toBe(true);
    },
  );

  it.skipIf(!!oomSkip)('storage buffers the device cannot allocate during compute: OutOfMemoryError from the next sync', async (ctx) => {
    const report = await runOomChild('compute');
    console.log('[oom compute]', JSON.stringify(report));
    if (report.skip) ctx.skip(report.skip);
    // Every allocating call returned: the failure is only known once the error scope reports.
    expect(report.allocated).toBe(report.maxAllocations);
    expect(report.error?.name).toBe(OutOfMemoryError.name);
    expect(report.error?.isOutOfMemory).toBe(true);
    expect(report.error?.isRecurError).toBe(true);
    expect(report.error?.bytes).toBe(report.bytesPerAllocation);
    expect(report.error?.message).toContain(report.adapter);
    // The device's own message follows: Dawn's GL backend quotes glBufferData's GL_OUT_OF_MEMORY.
    expect(report.error?.message).toMatch(/createBuffer failed: .*OUT_OF_(DEVICE_)?MEMORY/s);
    expect(report.error?.synchronous).toBe(false);
    // Reported once: after freeing, the same backend reads a small result again.
    expect(report.recovered).toBe(true);
  });
});
