/**
 * @recur/backend-native: the C++ backend (N-API addon, BLAS GEMM, fused RNN kernels run on a
 * worker thread). Importing this module registers it as `'native'` with priority 10, so
 * `createBackend('auto')` prefers it and falls back to JS where the addon is not built.
 */
import { type BackendOptions, BackendUnavailableError, registerBackend } from '@recur/core';
import { addonPath, loadAddon } from './addon.js';
import { NativeBackend, type NativeBackendOptions } from './backend.js';

export { addonPath, INSTALL_HINT } from './addon.js';
export type { NativeBackendOptions } from './backend.js';
export { NativeBackend } from './backend.js';
export { NativeBuffer } from './buffer.js';
export { sequenceSavedLength } from './sequence.js';

/** Whether the addon is built and loads here, and if not, why. */
export function nativeAvailability(): { available: true; path: string } | { available: false; reason: string } {
  const loaded = loadAddon();
  return 'addon' in loaded ? { available: true, path: addonPath() } : { available: false, reason: loaded.error };
}

/** Bytes in use on the process's C heap (glibc `mallinfo2`), or -1 where unknown or not built. */
export function nativeMallocInUse(): number {
  const loaded = loadAddon();
  return 'addon' in loaded ? loaded.addon.mallocInUse() : -1;
}

/**
 * A new native backend. Throws `BackendUnavailableError` (saying what is missing and how to
 * install it) where the addon is not built, or when float64 is asked for (float32 only).
 */
export function createNativeBackend(options: NativeBackendOptions & { dtype?: 'float32' | 'float64' } = {}): NativeBackend {
  if (options.dtype !== undefined && options.dtype !== 'float32') {
    throw new BackendUnavailableError(
      `the native backend computes in float32 only (asked for ${options.dtype}); use the JS backend for float64`,
    );
  }
  const loaded = loadAddon();
  if ('error' in loaded) throw new BackendUnavailableError(`native backend unavailable: ${loaded.error}`);
  return new NativeBackend(loaded.addon, options);
}

registerBackend('native', (options: BackendOptions) => createNativeBackend(options as NativeBackendOptions & BackendOptions), 10);
