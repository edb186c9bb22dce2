import type { BackendBuffer } from '@recur/core';
import type { NativeHandle } from './addon.js';

/**
 * A buffer of the native backend: a JS object holding the handle of a C++-owned float32 array.
 * The C++ storage is reference-counted: `dispose()` drops this object's reference at once
 * (work still queued on the buffer keeps the storage alive until it has run), and a buffer
 * that is never disposed is released by its finalizer when garbage-collected.
 */
export class NativeBuffer implements BackendBuffer {
  readonly length: number;
  /** @internal The backend that made it. */
  readonly owner: object;
  /** @internal Null once disposed. */
  handle: NativeHandle | null;

  constructor(owner: object, handle: NativeHandle, length: number) {
    this.owner = owner;
    this.handle = handle;
    this.length = length;
  }

  get disposed(): boolean {
    return this.handle === null;
  }
}
