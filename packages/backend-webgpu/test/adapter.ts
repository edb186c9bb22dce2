/**
 * Shared by the Node tests: the adapter options CI uses (Dawn's OpenGL ES backend on Mesa
 * llvmpipe, compatibility mode) unless RECUR_WEBGPU_DAWN_FLAGS overrides them, and a probe that
 * says why no adapter could be created (so test files can skip with that reason).
 */
import { BackendUnavailableError } from '@recur/core';
import { createWebGpuImplementation, type WebGpuBackend, type WebGpuBackendOptions } from '../src/index.js';

export function nodeOptions(): WebGpuBackendOptions {
  const flags = process.env.RECUR_WEBGPU_DAWN_FLAGS;
  if (flags !== undefined) return { dawnFlags: flags.split(',').filter(Boolean) };
  return { dawnFlags: ['backend=opengles'], featureLevel: 'compatibility' };
}

/** The adapter name, or the reason none could be created. */
export async function probe(): Promise<{ adapter: string | null; reason: string | null }> {
  let backend: WebGpuBackend | undefined;
  try {
    backend = await createWebGpuImplementation(nodeOptions());
    return { adapter: backend.adapterName, reason: null };
  } catch (error) {
    if (error instanceof BackendUnavailableError) return { adapter: null, reason: error.message };
    throw error;
  } finally {
    backend?.destroy();
  }
}
