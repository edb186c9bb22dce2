/**
 * The one place where the addon's errors become `@recur/core`'s typed errors.
 *
 * C++ never aborts the process: every failure becomes a JS `Error` with a `code`
 * (src/native/guard.h), thrown by the call that failed or, for work that failed later on the
 * worker thread, rejecting the next `read`/`sync`. `guardAddon` wraps the engine the addon
 * makes so that every synchronous throw and every rejection passes through `fromNative`:
 *
 * | code | becomes |
 * |---|---|
 * | `RECUR_OUT_OF_MEMORY` | `OutOfMemoryError`, `bytes` = the size asked for (where known) |
 * | `RECUR_BACKEND_DESTROYED` | `BackendDestroyedError` |
 * | `RECUR_INVALID_ARGUMENT` | `BackendError` (an argument TypeScript should have refused) |
 * | `RECUR_NATIVE_ERROR` | `BackendError` (any other C++ exception) |
 *
 * The native error is kept as `cause`. Errors without one of these codes (a JS exception
 * passing through) are left as they are.
 */
import { BackendDestroyedError, BackendError, OutOfMemoryError } from '@recur/core';
import type { NativeAddon, NativeEngine } from './addon.js';

/** The typed error for an error thrown by the addon (anything else is returned unchanged). */
export function fromNative(error: unknown): unknown {
  if (!(error instanceof Error)) return error;
  const { code, bytes } = error as Error & { code?: unknown; bytes?: unknown };
  switch (code) {
    case 'RECUR_OUT_OF_MEMORY':
      return new OutOfMemoryError(error.message, typeof bytes === 'number' ? bytes : undefined, { cause: error });
    case 'RECUR_BACKEND_DESTROYED':
      return new BackendDestroyedError(error.message, { cause: error });
    case 'RECUR_INVALID_ARGUMENT':
    case 'RECUR_NATIVE_ERROR':
      return new BackendError(error.message, { cause: error });
    default:
      return error;
  }
}

function rethrowFromNative(error: unknown): never {
  throw fromNative(error);
}

/**
 * An object with the engine's methods and accessors, each passing what it throws, and what
 * a Promise it returns rejects with, through `fromNative`. Built from the prototype, so a
 * method added to the C++ class is covered without a change here.
 */
export function guardEngine(engine: NativeEngine): NativeEngine {
  const guarded: Record<string, unknown> = {};
  const prototype = Object.getPrototypeOf(engine) as object;
  for (const key of Object.getOwnPropertyNames(prototype)) {
    if (key === 'constructor') continue;
    const descriptor = Object.getOwnPropertyDescriptor(prototype, key) as PropertyDescriptor;
    if (typeof descriptor.value === 'function') {
      const method = descriptor.value as (...args: unknown[]) => unknown;
      guarded[key] = (...args: unknown[]) => {
        let result: unknown;
        try {
          result = method.apply(engine, args);
        } catch (error) {
          throw fromNative(error);
        }
        return result instanceof Promise ? result.catch(rethrowFromNative) : result;
      };
    } else if (descriptor.get) {
      const get = descriptor.get;
      Object.defineProperty(guarded, key, {
        enumerable: true,
        get: () => {
          try {
            return get.call(engine);
          } catch (error) {
            throw fromNative(error);
          }
        },
      });
    }
  }
  return guarded as unknown as NativeEngine;
}

/** The addon with its `NativeBackend` constructor making guarded engines (and mapping its own errors). */
export function guardAddon(addon: NativeAddon): NativeAddon {
  const Native = addon.NativeBackend;
  // Called with `new` by backend.ts: returning an object from a constructor makes it the result.
  function NativeBackend(threads?: number): NativeEngine {
    let engine: NativeEngine;
    try {
      engine = new Native(threads);
    } catch (error) {
      throw fromNative(error);
    }
    return guardEngine(engine);
  }
  return { ...addon, NativeBackend: NativeBackend as unknown as NativeAddon['NativeBackend'] };
}
