/**
 * How the addon's errors become `@recur/core`'s typed errors: C++ makes them itself.
 *
 * C++ never aborts the process: every failure becomes a JS error, thrown by the call that
 * failed or, for work that failed later on the worker thread, rejecting the next `read`/`sync`
 * (src/native/guard.h). When the addon loads, `registerErrorClasses` hands it core's classes,
 * and from then on C++ constructs them directly, with a `code` property:
 *
 * | code | class |
 * |---|---|
 * | `RECUR_OUT_OF_MEMORY` | `OutOfMemoryError`, `bytes` = the size asked for (where known) |
 * | `RECUR_BACKEND_DESTROYED` | `BackendDestroyedError` |
 * | `RECUR_INVALID_ARGUMENT` | `BackendError` (an argument the checked wrapper should have refused) |
 * | `RECUR_NATIVE_ERROR` | `BackendError` (any other C++ exception) |
 *
 * Made in C++, they need no JavaScript wrapper around each engine call: such a wrapper (rest
 * arguments, `apply`, a `.catch` on every Promise) cost about 5 µs per generated token on the
 * single-sequence inference path (LSTM 2×8, 33 → 38 µs/token, medians of 8 interleaved runs).
 */
import { BackendDestroyedError, BackendError, OutOfMemoryError } from '@recur/core';
import type { NativeAddon } from './addon.js';

/** Makes the addon throw core's typed errors (once per loaded addon). */
export function registerErrorClasses(addon: NativeAddon): void {
  addon.setErrorClasses({ outOfMemory: OutOfMemoryError, destroyed: BackendDestroyedError, backendError: BackendError });
}
