/**
 * Typed errors. Every error Recur throws for bad input is a `RecurError` subclass whose
 * message names the argument, what was expected and what was received, so a caller can
 * both `instanceof`-check it and read it.
 */
export class RecurError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** A tensor or array had the wrong shape, rank or length. */
export class ShapeError extends RecurError {}

/** A number (token id, index, hyper-parameter, size) lies outside its allowed range. */
export class ValueRangeError extends RecurError {}

/** Two tensors from different backends were combined. */
export class BackendMismatchError extends RecurError {}

/** A tensor was used after `dispose()`. */
export class DisposedTensorError extends RecurError {}

/** A loss or gradient norm was NaN or infinite where the caller asked to be told. */
export class NonFiniteError extends RecurError {}

/** A backend could not be created (missing build, missing adapter, unknown name). */
export class BackendUnavailableError extends RecurError {}

/** `loadStateDict` found missing, unexpected or mis-shaped entries. */
export class StateDictError extends RecurError {}

/** A serialized file (safetensors, checkpoint) is malformed. */
export class FormatError extends RecurError {}

export function describeShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}
