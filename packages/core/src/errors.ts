/**
 * Typed errors. Every error Recur throws for bad input is a `RecurError` subclass whose
 * message names the argument, what was expected and what was received, so a caller can
 * both `instanceof`-check it and read it.
 */
export class RecurError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A tensor or array had the wrong shape, rank or length. */
export class ShapeError extends RecurError {}

/** A number (token id, index, hyper-parameter, size) lies outside its allowed range. */
export class ValueRangeError extends RecurError {}

/**
 * An options object had a key the callee does not know (the message suggests the nearest
 * known one) or a value of the wrong type (a string where a number belongs, say).
 */
export class OptionsError extends RecurError {}

/** Two tensors from different backends were combined, or a buffer was passed to a backend that did not make it. */
export class BackendMismatchError extends RecurError {}

/** A tensor or buffer was used after `dispose()`. */
export class DisposedTensorError extends RecurError {}

/** A backend was used after `destroy()`. */
export class BackendDestroyedError extends RecurError {}

/** A loss or gradient norm was NaN or infinite where the caller asked to be told. */
export class NonFiniteError extends RecurError {}

/** A backend could not be created (missing build, missing adapter, unknown name). */
export class BackendUnavailableError extends RecurError {}

/**
 * Memory could not be had: a tensor larger than the allocation limit (checked before any
 * backend allocates), or an allocation the device or the operating system refused.
 * `bytes` is the size asked for, where known.
 */
export class OutOfMemoryError extends RecurError {
  readonly bytes: number | undefined;
  constructor(message: string, bytes?: number, options?: { cause?: unknown }) {
    super(message, options);
    this.bytes = bytes;
  }
}

/** The device behind a backend was lost (GPU reset, driver crash, `destroy()` of the device). */
export class DeviceLostError extends RecurError {}

/**
 * A backend failed for a reason that is not the caller's input (a kernel that failed to
 * compile, an internal error in native code). Reported by the next `read`/`sync` when the
 * work ran asynchronously.
 */
export class BackendError extends RecurError {}

/**
 * The backend lacks an optional capability the call needs: a synchronous read (`itemSync`,
 * `toArraySync`) on a backend that can only read asynchronously (WebGPU). Nothing failed; the
 * message names the backend and the call to use instead.
 */
export class BackendCapabilityError extends RecurError {}

/**
 * Misuse of the autograd graph: a second `backward()` through a graph that was already
 * back-propagated (without `retainGraph`), or a tensor the graph saved that was modified in
 * place (an optimizer step, `loadStateDict`) between the forward pass and `backward()`.
 */
export class AutogradError extends RecurError {}

/** `loadStateDict` found missing, unexpected or mis-shaped entries. */
export class StateDictError extends RecurError {}

/** A serialized file (safetensors, checkpoint) is malformed. */
export class FormatError extends RecurError {}

/**
 * A file could not be used: missing, not a regular file (a directory, a FIFO, a device such
 * as `/dev/zero`), larger than the caller's size cap, or unreadable. `path` names it.
 */
export class FileAccessError extends RecurError {
  readonly path: string;
  constructor(path: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.path = path;
  }
}

export function describeShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/** A byte count for messages: `6.4 GB (6,400,000,000 bytes)`. */
export function describeBytes(bytes: number): string {
  const units = ['bytes', 'kB', 'MB', 'GB', 'TB', 'PB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  const exact = `${bytes.toLocaleString('en-US')} bytes`;
  return unit === 0 ? exact : `${Number(value.toPrecision(3))} ${units[unit]} (${exact})`;
}
