/**
 * Argument checks of the Backend contract, shared by every method of `CheckedBackend`. They run
 * on every call, so the success path builds no strings: the words of an error are made only
 * when a check fails (`describe` callbacks, template strings inside the failing branch).
 */
import { BackendDestroyedError, BackendMismatchError, DisposedTensorError, describeShape, ShapeError, ValueRangeError } from '../errors.js';
import { allocationAllowed, checkAllocation } from './allocation.js';
import { BYTES_PER_ELEMENT } from './constants.js';
import type { Backend, BackendBuffer } from './interface.js';

function received(value: unknown): string {
  if (typeof value === 'string') return `'${value}'`;
  if (value === null || typeof value !== 'object') return String(value);
  return Array.isArray(value) ? `an array of ${value.length}` : `a ${value.constructor?.name ?? 'object'}`;
}

/** An integer in [min, max]. */
export function integer(method: string, name: string, value: unknown, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new ValueRangeError(`${method}: ${name} must be an integer in [${min}, ${max}], received ${received(value)}`);
  }
  return value;
}

/** A finite number. */
export function finite(method: string, name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new ValueRangeError(`${method}: ${name} must be a finite number, received ${received(value)}`);
  }
  return value;
}

/** A number that is not NaN (±Infinity allowed: clamp bounds, fill values). */
export function notNaN(method: string, name: string, value: unknown): number {
  if (typeof value !== 'number' || Number.isNaN(value)) {
    throw new ValueRangeError(`${method}: ${name} must be a number (±Infinity allowed, not NaN), received ${received(value)}`);
  }
  return value;
}

export function optionalBoolean(method: string, name: string, value: unknown): void {
  if (value !== undefined && typeof value !== 'boolean') {
    throw new ValueRangeError(`${method}: ${name} must be a boolean or omitted, received ${received(value)}`);
  }
}

/** One of a list of names. */
export function oneOf<T extends string>(method: string, name: string, value: unknown, names: readonly T[]): T {
  if (!names.includes(value as T)) {
    throw new ValueRangeError(`${method}: ${name} must be one of ${names.join(', ')}, received ${received(value)}`);
  }
  return value as T;
}

/** An array of non-negative integers (a shape or strides); returns the product of its entries. */
export function dims(method: string, name: string, value: unknown): number {
  if (!Array.isArray(value)) throw new ShapeError(`${method}: ${name} must be an array of integers, received ${received(value)}`);
  let product = 1;
  for (let i = 0; i < value.length; i++) {
    const d = value[i];
    if (typeof d !== 'number' || !Number.isInteger(d) || d < 0) {
      throw new ShapeError(`${method}: ${name} must hold non-negative integers, received ${describeShape(value)}`);
    }
    product *= d;
  }
  return product;
}

/** An `Int32Array` of `length` entries (any length when omitted) each in [min, max). */
export function indices(method: string, name: string, value: unknown, min: number, max: number, length?: number): Int32Array {
  if (!(value instanceof Int32Array)) throw new ShapeError(`${method}: ${name} must be an Int32Array, received ${received(value)}`);
  if (length !== undefined && value.length !== length) {
    throw new ShapeError(`${method}: ${name} must have ${length} entries, received ${value.length}`);
  }
  for (let i = 0; i < value.length; i++) {
    const v = value[i];
    if (v < min || v >= max) throw new ValueRangeError(`${method}: ${name}[${i}] = ${v} lies outside [${min}, ${max})`);
  }
  return value;
}

export function object(method: string, name: string, value: unknown): void {
  if (value === null || typeof value !== 'object')
    throw new ValueRangeError(`${method}: ${name} must be an object, received ${received(value)}`);
}

/**
 * Marks the ledger leaves on each buffer it adopts: which ledger owns it, and whether it is
 * still live. Properties under module-private symbols rather than WeakSets: every call checks
 * several buffers and every result is adopted, and on the single-token inference path the
 * WeakSet lookups took about a tenth of the JavaScript time; a property load on a buffer of
 * one class is a monomorphic field read. The marks never keep a buffer alive.
 */
const OWNER = Symbol('recur.bufferOwner');
const LIVE = Symbol('recur.bufferLive');

interface Marked {
  [OWNER]?: BufferLedger;
  [LIVE]?: boolean;
}

function marks(buffer: unknown): Marked | null {
  return typeof buffer === 'object' && buffer !== null ? (buffer as Marked) : null;
}

/**
 * The buffers one backend instance has handed out: ownership, liveness, lengths and the live
 * count behind `memory()`.
 */
export class BufferLedger {
  destroyed = false;
  liveBuffers = 0;
  liveElements = 0;

  constructor(private readonly backend: Backend) {}

  /** Throws `BackendDestroyedError` after `destroy()`. */
  alive(method: string): void {
    if (this.destroyed) throw new BackendDestroyedError(`${method}: the ${this.backend.name} backend was destroyed`);
  }

  /** Throws unless `buffer` is a live buffer of this backend. */
  owned(method: string, name: string, buffer: unknown): BackendBuffer {
    const m = marks(buffer);
    if (m !== null && m[OWNER] === this) {
      if (m[LIVE] === true) return buffer as BackendBuffer;
      throw new DisposedTensorError(`${method}: ${name} was disposed (${(buffer as BackendBuffer).length} elements)`);
    }
    throw new BackendMismatchError(
      `${method}: ${name} is not a buffer of this ${this.backend.name} backend instance (received ${received(buffer)}); move data between backends through read and upload`,
    );
  }

  /** `owned`, and exactly `length` elements; `describe` says which shape implies that length. */
  sized(method: string, name: string, buffer: unknown, length: number, describe?: () => string): BackendBuffer {
    const b = this.owned(method, name, buffer);
    if (b.length !== length) {
      throw new ShapeError(`${method}: ${name} must have ${length} elements${describe ? ` (${describe()})` : ''}, received ${b.length}`);
    }
    return b;
  }

  /** `sized`, or absent (`undefined`). */
  optional(method: string, name: string, buffer: unknown, length: number, describe?: () => string): void {
    if (buffer !== undefined) this.sized(method, name, buffer, length, describe);
  }

  /** The allocation guard for a result of `elements` elements. */
  allocation(method: string, what: string, elements: number): void {
    if (!allocationAllowed(this.backend, elements)) checkAllocation(this.backend, elements, () => `${method}: ${what}`);
  }

  /** Records a buffer the backend returned. */
  adopt<B extends BackendBuffer | undefined>(buffer: B): B {
    if (buffer !== undefined) {
      const m = buffer as Marked;
      if (m[OWNER] !== this) {
        m[OWNER] = this;
        m[LIVE] = true;
        this.liveBuffers++;
        this.liveElements += buffer.length;
      }
    }
    return buffer;
  }

  /** Forgets a buffer being disposed; false when it was already released (idempotent dispose). */
  release(method: string, buffer: unknown): boolean {
    const m = marks(buffer);
    if (m !== null && m[OWNER] === this && m[LIVE] === false) return false;
    const b = this.owned(method, 'buffer', buffer);
    (b as Marked)[LIVE] = false;
    this.liveBuffers--;
    this.liveElements -= b.length;
    return true;
  }

  get liveBytes(): number {
    return this.liveElements * BYTES_PER_ELEMENT[this.backend.dtype];
  }
}
