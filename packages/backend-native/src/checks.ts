/**
 * Ownership checks shared by every method of one `NativeBackend`: a buffer argument must be a
 * live `NativeBuffer` of this very instance and, where a size is known, hold exactly that many
 * elements. These run on every call, so the success path builds no strings: descriptions of
 * the expected shape are closures, evaluated only to word an error.
 */
import { BackendMismatchError, DisposedTensorError, RecurError, ShapeError } from '@recur/core';
import type { NativeEngine, NativeHandle } from './addon.js';
import { NativeBuffer } from './buffer.js';

/** Describes an expected shape for an error message, e.g. `() => \`[m, k] = [${m}, ${k}]\``. */
export type Describe = () => string;

export class BufferChecks {
  destroyed = false;

  constructor(
    /** The backend that owns the buffers (their `owner`). */
    private readonly owner: object,
    readonly engine: NativeEngine,
  ) {}

  live(method: string): void {
    if (this.destroyed) throw new RecurError(`${method}: the native backend was destroyed`);
  }

  /** The handle of a live buffer made by this backend. */
  handle(method: string, name: string, buffer: unknown): NativeHandle {
    if (buffer instanceof NativeBuffer && buffer.owner === this.owner && buffer.handle !== null) return buffer.handle;
    if (!(buffer instanceof NativeBuffer)) {
      throw new BackendMismatchError(
        `${method}: ${name} is not a buffer of the native backend (received ${buffer === null ? 'null' : typeof buffer === 'object' ? (buffer as object).constructor?.name : typeof buffer})`,
      );
    }
    if (buffer.owner !== this.owner) throw new BackendMismatchError(`${method}: ${name} belongs to another native backend instance`);
    throw new DisposedTensorError(`${method}: ${name} was disposed (${buffer.length} elements)`);
  }

  /** The handle of a buffer of exactly `length` elements. */
  sized(method: string, name: string, buffer: unknown, length: number, what?: Describe): NativeHandle {
    const handle = this.handle(method, name, buffer);
    const actual = (buffer as NativeBuffer).length;
    if (actual !== length)
      throw new ShapeError(`${method}: ${name} must have ${length} elements${what ? ` (${what()})` : ''}, received ${actual}`);
    return handle;
  }

  optional(method: string, name: string, buffer: unknown, length: number, what?: Describe): NativeHandle | null {
    return buffer === undefined || buffer === null ? null : this.sized(method, name, buffer, length, what);
  }

  /**
   * Whether `buffer` is a live buffer of this backend with `length` elements: the allocation-
   * free test of the hottest paths, which then call `sized` and friends only to word an error.
   */
  owns(buffer: unknown, length: number): boolean {
    return buffer instanceof NativeBuffer && buffer.owner === this.owner && buffer.handle !== null && buffer.length === length;
  }

  /** `owns`, or absent (undefined or null). */
  ownsOptional(buffer: unknown, length: number): boolean {
    return buffer === undefined || buffer === null || this.owns(buffer, length);
  }

  /** The handle of a buffer `owns` accepted. */
  unchecked(buffer: unknown): NativeHandle {
    return (buffer as NativeBuffer).handle as NativeHandle;
  }

  uncheckedOptional(buffer: unknown): NativeHandle | null {
    return buffer === undefined || buffer === null ? null : (buffer as NativeBuffer).handle;
  }

  wrap(handle: NativeHandle, length: number): NativeBuffer {
    return new NativeBuffer(this.owner, handle, length);
  }
}
