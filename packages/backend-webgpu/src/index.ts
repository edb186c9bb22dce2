/// <reference types="@webgpu/types" preserve="true" />
/**
 * @recur/backend-webgpu: WGSL compute kernels behind core's `Backend` interface, in browsers
 * (`navigator.gpu`) and in Node (the npm package `webgpu`, Dawn).
 *
 * Importing this module registers it as `'webgpu'` with priority 5, so `createBackend('auto')`
 * picks it where an adapter exists (the factory throws `BackendUnavailableError`, naming what
 * it tried, where none does).
 */
import { type BackendOptions, type CheckedBackend, checkedBackend, registerBackend } from '@recur/core/backend';
import { WebGpuBackend } from './backend.js';
import { acquireDevice, type WebGpuBackendOptions } from './device.js';

export { WebGpuBackend } from './backend.js';
export type { WebGpuBackendOptions } from './device.js';
export { WebGpuBuffer } from './memory.js';

/**
 * Finds an adapter, opens a device with the adapter's limits and wraps it in a backend: the
 * implementation, unchecked (for this package's tests and tools; users call `createBackend`).
 */
export async function createWebGpuImplementation(options: WebGpuBackendOptions = {}): Promise<WebGpuBackend> {
  const acquired = await acquireDevice(options);
  return new WebGpuBackend(acquired, options);
}

/** A WebGPU backend in its checked form (what `createBackend('webgpu')` returns). */
export async function createWebGpuBackend(options: WebGpuBackendOptions = {}): Promise<CheckedBackend> {
  return checkedBackend(await createWebGpuImplementation(options));
}

registerBackend('webgpu', (options: BackendOptions) => createWebGpuImplementation(options as WebGpuBackendOptions), 5);
