/**
 * The allocation guard: one place that turns an impossible size into a typed error before
 * any backend allocates. Two limits apply to every buffer: the backend's own addressing limit
 * (`maxBufferLength` elements) and a process-wide byte limit that users may raise or lower.
 */
import { describeBytes, OutOfMemoryError, ValueRangeError } from '../errors.js';
import { BYTES_PER_ELEMENT } from './constants.js';
import type { Backend } from './interface.js';

/**
 * Default byte limit of one buffer: 4 GiB. Larger buffers are almost always a mistake in a
 * recurrent model (a hidden size typed with extra zeros); a user who means it raises the limit.
 */
export const DEFAULT_ALLOCATION_LIMIT = 4 * 2 ** 30;

let allocationLimit = DEFAULT_ALLOCATION_LIMIT;

/**
 * Sets the largest buffer, in bytes, any backend may be asked to allocate (default 4 GiB;
 * `Infinity` leaves only each backend's own limit). Applies to every backend in this process.
 */
export function setAllocationLimit(bytes: number): void {
  if (typeof bytes !== 'number' || !(bytes > 0)) {
    throw new ValueRangeError(`setAllocationLimit: bytes must be a positive number (or Infinity), received ${String(bytes)}`);
  }
  allocationLimit = bytes;
}

export function getAllocationLimit(): number {
  return allocationLimit;
}

/** Whether a buffer of `elements` elements fits both limits on `backend` (no allocation, no strings: for hot paths). */
export function allocationAllowed(backend: Backend, elements: number): boolean {
  return elements <= backend.maxBufferLength && elements * BYTES_PER_ELEMENT[backend.dtype] <= allocationLimit;
}

/**
 * Throws `OutOfMemoryError` unless a buffer of `elements` elements fits both limits on
 * `backend`. `describe` names what would be allocated (a tensor's shape, a method's result)
 * and is only called to word the error.
 */
export function checkAllocation(backend: Backend, elements: number, describe: () => string): void {
  if (allocationAllowed(backend, elements)) return;
  const bytes = elements * BYTES_PER_ELEMENT[backend.dtype];
  const size = `${elements.toLocaleString('en-US')} ${backend.dtype} elements, ${describeBytes(bytes)}`;
  if (elements > backend.maxBufferLength) {
    throw new OutOfMemoryError(
      `${describe()} needs ${size}: more than the ${backend.name} backend can hold in one buffer (${backend.maxBufferLength.toLocaleString('en-US')} elements)`,
      bytes,
    );
  }
  throw new OutOfMemoryError(
    `${describe()} needs ${size}: over the allocation limit of ${describeBytes(allocationLimit)}; if the machine has the memory, raise it with setAllocationLimit(bytes)`,
    bytes,
  );
}
