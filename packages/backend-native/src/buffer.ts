import type { BackendBuffer } from '@recur/core/backend';
import type { NativeHandle } from './addon.js';

/**
 * A buffer of the native backend: a JS object holding the handle of a C++-owned float32 array.
 * The C++ storage is reference-counted: `dispose()` drops this object's reference at once
 * (work still queued on the buffer keeps the storage alive until it has run), and a buffer
 * that is never disposed is released by its finalizer when garbage-collected.
 */
export class NativeBuffer implements BackendBuffer {
  readonly length: number;
  /** @internal Null once disposed. */
  handle: NativeHandle | null;

  constructor(handle: NativeHandle, length: number) {
    this.handle = handle;
    this.length = length;
  }
}

/**
 * The handle of a buffer the checked wrapper has vouched for (a live buffer of this backend).
 * A released handle reaching C++ would be caught there too: its guard rejects anything that is
 * not a live storage handle with a JS error.
 */
export function handleOf(buffer: BackendBuffer): NativeHandle {
  return (buffer as NativeBuffer).handle as NativeHandle;
}

export function optionalHandle(buffer: BackendBuffer | undefined): NativeHandle | null {
  return buffer === undefined ? null : handleOf(buffer);
}
