/**
 * @recur/backend-native: the C++ backend (N-API addon, BLAS GEMM, fused RNN kernels run on a
 * worker thread). Importing this module registers it as `'native'` with priority 10, so
 * `createBackend('auto')` prefers it and falls back to JS where the addon is not built.
 */
import { checkOptions, type OptionsSchema, option } from '@recur/core';
import {
  type BackendOptions,
  BackendUnavailableError,
  type CheckedBackend,
  checkedBackend,
  DTYPES,
  registerBackend,
} from '@recur/core/backend';
import { addonPath, INSTALL_HINT, loadAddon } from './addon.js';
import { NativeBackend, type NativeBackendOptions } from './backend.js';
import { tableMismatches } from './tables.js';

export { addonPath, INSTALL_HINT } from './addon.js';
export type { NativeBackendOptions } from './backend.js';
export { NativeBackend } from './backend.js';
export { NativeBuffer } from './buffer.js';

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

const NATIVE_OPTIONS: OptionsSchema<NativeBackendOptions & { dtype?: 'float32' | 'float64' }> = {
  dtype: option.oneOf(...DTYPES),
  threads: option.positiveInteger,
};

/**
 * The native implementation, unchecked (for the package's own tests and tools). Throws
 * `BackendUnavailableError` (saying what is missing and how to install it) where the addon is
 * not built or was built from sources whose op tables differ from core's constants, or when
 * float64 is asked for (float32 only).
 */
export function createNativeImplementation(options: NativeBackendOptions & { dtype?: 'float32' | 'float64' } = {}): NativeBackend {
  checkOptions("createBackend('native')", options, NATIVE_OPTIONS);
  if (options.dtype !== undefined && options.dtype !== 'float32') {
    throw new BackendUnavailableError(
      `the native backend computes in float32 only (asked for ${options.dtype}); use the JS backend for float64`,
    );
  }
  const loaded = loadAddon();
  if ('error' in loaded) throw new BackendUnavailableError(`native backend unavailable: ${loaded.error}`);
  const mismatches = tableMismatches(loaded.addon.tables);
  if (mismatches.length > 0) {
    throw new BackendUnavailableError(
      `native backend unavailable: the addon at ${addonPath()} disagrees with @recur/core's constants (${mismatches.join('; ')}); rebuild it: ${INSTALL_HINT}`,
    );
  }
  return new NativeBackend(loaded.addon, options);
}

/** A new native backend in its checked form (what `createBackend('native')` returns, synchronously). */
export function createNativeBackend(options: NativeBackendOptions & { dtype?: 'float32' | 'float64' } = {}): CheckedBackend {
  return checkedBackend(createNativeImplementation(options));
}

registerBackend('native', (options: BackendOptions) => createNativeImplementation(options as NativeBackendOptions & BackendOptions), 10, {
  synchronous: true,
});
