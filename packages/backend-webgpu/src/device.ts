/**
 * Finding a WebGPU adapter and device: `navigator.gpu` in browsers, the npm package `webgpu`
 * (Dawn) in Node. Every attempt is recorded so that "no adapter" errors name what was tried.
 */
import { BackendUnavailableError } from '@recur/core';

export interface WebGpuBackendOptions {
  /** Only float32 is supported; asking for float64 throws `BackendUnavailableError`. */
  dtype?: 'float32' | 'float64';
  /**
   * Node only: the flags passed to `create()` of the `webgpu` package, e.g.
   * `['backend=opengles']` or `['backend=vulkan']`. When neither this nor `backend` is given,
   * the default adapter is tried first, then Dawn's OpenGL ES backend in compatibility mode.
   */
  dawnFlags?: string[];
  /** Node only: shorthand for the Dawn flag `backend=…`. */
  backend?: 'opengles' | 'vulkan' | 'metal' | 'd3d12' | 'd3d11' | 'null';
  /** `'compatibility'` is required for Dawn's OpenGL ES backend (default: core, then compatibility). */
  featureLevel?: 'core' | 'compatibility';
  powerPreference?: 'low-power' | 'high-performance';
  /**
   * Request the adapter's own limits (default true). `false` keeps WebGPU's default limits, e.g.
   * 4 storage buffers per stage and 128 invocations per workgroup in compatibility mode: every
   * kernel fits them, and the tests check that.
   */
  adapterLimits?: boolean;
  /** Use this `GPU` object (e.g. a test's own `navigator.gpu`) instead of finding one. */
  gpu?: GPU;
  /**
   * GEMM kernel: `'tiled'` (16×16 workgroup-memory tiles, for GPUs), `'register'` (4×4 register
   * blocks without workgroup memory, for CPU-emulated adapters), or `'auto'` (default: register on
   * llvmpipe/lavapipe/SwiftShader, tiled elsewhere).
   */
  gemm?: 'tiled' | 'register' | 'auto';
  /**
   * How a time step of the fused sequence methods runs: `'split'` (a GEMM, then a gate kernel:
   * two dispatches), `'fused'` (one kernel computes the recurrent product and the cell: one
   * dispatch, and the gate pre-activations never leave registers), or `'auto'` (default: split
   * on CPU-emulated adapters, where the register GEMM is faster, fused elsewhere).
   */
  stepKernel?: 'split' | 'fused' | 'auto';
  /** Dispatches encoded before a command buffer is submitted without a read (default 256). */
  maxDispatchesPerSubmit?: number;
}

export interface Acquired {
  device: GPUDevice;
  adapterName: string;
}

interface Attempt {
  flags: string[] | null;
  featureLevel: 'core' | 'compatibility';
}

const isNode =
  typeof process !== 'undefined' && !!process.versions?.node && typeof (globalThis as { window?: unknown }).window === 'undefined';

/** `vendor architecture device description` of an adapter, whichever are known. */
function describeAdapter(adapter: GPUAdapter, attempt: Attempt): string {
  const info = (adapter as { info?: GPUAdapterInfo }).info;
  const parts = info ? [info.vendor, info.architecture, info.device, info.description].filter((p) => p && p.length > 0) : [];
  const unique = [...new Set(parts)];
  const where = attempt.flags ? `Dawn${attempt.flags.length ? ` ${attempt.flags.join(' ')}` : ''}, ` : '';
  return `${unique.join(' ') || 'unknown adapter'} (${where}${attempt.featureLevel})`;
}

/** Limits worth raising to the adapter's maxima (compatibility mode starts lower). */
const LIMITS = [
  'maxStorageBuffersPerShaderStage',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxComputeWorkgroupStorageSize',
  'maxComputeWorkgroupsPerDimension',
  'maxStorageBufferBindingSize',
  'maxBufferSize',
] as const;

async function loadDawn(): Promise<{ create: (flags: string[]) => GPU }> {
  // A variable specifier keeps browser bundlers from resolving the Node-only package.
  const specifier = 'webgpu';
  try {
    return (await import(/* @vite-ignore */ specifier)) as { create: (flags: string[]) => GPU };
  } catch (error) {
    throw new BackendUnavailableError(`webgpu: the npm package 'webgpu' (Dawn for Node) could not be loaded: ${(error as Error).message}`);
  }
}

/**
 * One Dawn instance per flag set for the life of the process: letting an instance be garbage
 * collected while another is in use aborts the process in dawn.node (seen with the GL backend).
 */
const dawnInstances = new Map<string, GPU>();
function dawnInstance(dawn: { create: (flags: string[]) => GPU }, flags: string[]): GPU {
  const key = flags.join('\n');
  const gpu = dawnInstances.get(key) ?? dawn.create(flags);
  dawnInstances.set(key, gpu);
  return gpu;
}

export async function acquireDevice(options: WebGpuBackendOptions): Promise<Acquired> {
  if (options.dtype === 'float64') throw new BackendUnavailableError('webgpu: only float32 is supported (asked for float64)');
  const browserGpu = options.gpu ?? (typeof navigator !== 'undefined' ? (navigator as { gpu?: GPU }).gpu : undefined);
  const attempts: Attempt[] = [];
  let dawn: { create: (flags: string[]) => GPU } | null = null;
  if (browserGpu) {
    attempts.push({ flags: null, featureLevel: options.featureLevel ?? 'core' });
    if (!options.featureLevel) attempts.push({ flags: null, featureLevel: 'compatibility' });
  } else if (isNode) {
    dawn = await loadDawn();
    if (options.dawnFlags || options.backend) {
      const flags = [...(options.dawnFlags ?? [])];
      if (options.backend) flags.push(`backend=${options.backend}`);
      const gles = flags.includes('backend=opengles');
      attempts.push({ flags, featureLevel: options.featureLevel ?? (gles ? 'compatibility' : 'core') });
    } else {
      attempts.push({ flags: [], featureLevel: options.featureLevel ?? 'core' });
      attempts.push({ flags: ['backend=opengles'], featureLevel: 'compatibility' });
    }
  } else {
    throw new BackendUnavailableError('webgpu: navigator.gpu is absent (this browser has no WebGPU, or it is disabled)');
  }

  const tried: string[] = [];
  for (const attempt of attempts) {
    const label = `${attempt.flags ? `Dawn create([${attempt.flags.join(', ')}])` : 'navigator.gpu'} featureLevel ${attempt.featureLevel}`;
    try {
      if (attempt.flags?.includes('backend=opengles') && isNode) {
        // Headless EGL needs these (see the package README); keep what the user set.
        process.env.EGL_PLATFORM ??= 'surfaceless';
        if (!process.env.XDG_RUNTIME_DIR) {
          const { mkdtempSync } = await import('node:fs');
          const { tmpdir } = await import('node:os');
          const { join } = await import('node:path');
          process.env.XDG_RUNTIME_DIR = mkdtempSync(join(tmpdir(), 'recur-xdg-'));
        }
      }
      const gpu = attempt.flags && dawn ? dawnInstance(dawn, attempt.flags) : (browserGpu as GPU);
      const request: GPURequestAdapterOptions & { featureLevel?: string } = { featureLevel: attempt.featureLevel };
      if (options.powerPreference) request.powerPreference = options.powerPreference;
      const adapter = await gpu.requestAdapter(request);
      if (!adapter) {
        tried.push(`${label}: no adapter`);
        continue;
      }
      const requiredLimits: Record<string, number> = {};
      for (const name of options.adapterLimits === false ? [] : LIMITS) {
        const value = (adapter.limits as unknown as Record<string, number | undefined>)[name];
        if (typeof value === 'number') requiredLimits[name] = value;
      }
      const device = await adapter.requestDevice({ requiredLimits });
      return { device, adapterName: describeAdapter(adapter, attempt) };
    } catch (error) {
      tried.push(`${label}: ${(error as Error).message}`);
    }
  }
  throw new BackendUnavailableError(`webgpu: no usable WebGPU adapter (tried ${tried.join('; ')})`);
}
