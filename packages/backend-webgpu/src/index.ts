/// <reference types="@webgpu/types" preserve="true" />
/**
 * @recur/backend-webgpu: WGSL compute kernels behind core's `Backend` interface, in browsers
 * (`navigator.gpu`) and in Node (the npm package `webgpu`, Dawn).
 *
 * Importing this module registers it as `'webgpu'` with priority 5, so `createBackend('auto')`
 * picks it where an adapter exists (the factory throws `BackendUnavailableError`, naming what
 * it tried, where none does).
 */
import { checkOptions, type OptionsSchema, option } from '@recur/core';
import { type BackendOptions, type CheckedBackend, checkedBackend, DTYPES, registerBackend } from '@recur/core/backend';
import { WebGpuBackend } from './backend.js';
import { acquireDevice, type WebGpuBackendOptions } from './device.js';

export { WebGpuBackend } from './backend.js';
export type { WebGpuBackendOptions } from './device.js';
export { WebGpuBuffer } from './memory.js';

const WEBGPU_OPTIONS: OptionsSchema<WebGpuBackendOptions> = {
  dtype: option.oneOf(...DTYPES),
  dawnFlags: option.anything,
  backend: option.oneOf('opengles', 'vulkan', 'metal', 'd3d12', 'd3d11', 'null'),
  featureLevel: option.oneOf('core', 'compatibility'),
  powerPreference: option.oneOf('low-power', 'high-performance'),
  adapterLimits: option.boolean,
  gpu: option.anything,
  gemm: option.oneOf('tiled', 'register', 'auto'),
  stepKernel: option.oneOf('split', 'fused', 'auto'),
  maxDispatchesPerSubmit: option.positiveInteger,
};

/**
 * Finds an adapter, opens a device with the adapter's limits and wraps it in a backend: the
 * implementation, unchecked (for this package's tests and tools; users call `createBackend`).
 */
export async function createWebGpuImplementation(options: WebGpuBackendOptions = {}): Promise<WebGpuBackend> {
  checkOptions("createBackend('webgpu')", options, WEBGPU_OPTIONS);
  const acquired = await acquireDevice(options);
  return new WebGpuBackend(acquired, options);
}

/** A WebGPU backend in its checked form (what `createBackend('webgpu')` returns). */
export async function createWebGpuBackend(options: WebGpuBackendOptions = {}): Promise<CheckedBackend> {
  return checkedBackend(await createWebGpuImplementation(options));
}

registerBackend('webgpu', (options: BackendOptions) => createWebGpuImplementation(options as WebGpuBackendOptions), 5);
