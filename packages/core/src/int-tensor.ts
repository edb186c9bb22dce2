/**
 * Integer tensors on the host: token ids and class targets, PyTorch's LongTensor.
 *
 * Recur's `Tensor` holds floats on a backend (possibly a GPU), but every kernel that takes
 * indices (`gatherRows`, `softmaxCrossEntropy`) reads them as an `Int32Array` on the host, so an
 * integer tensor is plain host memory: no backend, no `dispose()`, not tracked by `tidy`.
 *
 * This module imports nothing from tensor.ts (which imports it for `tensor(…, { dtype: 'int32' })`),
 * so it recognises a float tensor by its fields rather than with `instanceof`.
 */
import { describeShape, OptionsError, ShapeError, ValueRangeError } from './errors.js';
import { assertArrayLikeOfNumbers, describeValue } from './options.js';
import { assertValidShape, type Shape, sizeOf } from './shape.js';

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

/** A row-major int32 tensor on the host, made by `intTensor(data, shape)` or `tensor(data, shape, { dtype: 'int32' })`. */
export class IntTensor {
  readonly dtype = 'int32' as const;
  readonly shape: readonly number[];
  /** The values, row-major. Views made by `reshape` share it: writing here changes them too. */
  readonly data: Int32Array;

  private constructor(data: Int32Array, shape: Shape) {
    this.data = data;
    this.shape = Object.freeze([...shape]);
  }

  /**
   * Checks and copies `data` (numbers that are integers in the int32 range) into a new tensor of
   * `shape` (default `[data.length]`). `where` names the caller in error messages.
   */
  static from(data: ArrayLike<number>, shape?: Shape, where = 'intTensor'): IntTensor {
    assertArrayLikeOfNumbers(data, `${where}: data`);
    const resolved = shape ?? [data.length];
    checkShape(where, resolved);
    if (sizeOf(resolved) !== data.length) {
      throw new ShapeError(`${where}: data has ${data.length} elements but shape ${describeShape(resolved)} needs ${sizeOf(resolved)}`);
    }
    if (data instanceof Int32Array) return new IntTensor(data.slice(), resolved);
    const values = new Int32Array(data.length);
    for (let i = 0; i < data.length; i++) {
      const v = data[i];
      // Int32Array would silently truncate 1.5 to 1 and wrap 2^31 to −2^31: refuse instead.
      if (!Number.isInteger(v) || v < INT32_MIN || v > INT32_MAX) {
        throw new ValueRangeError(`${where}: data[${i}] = ${v} must be an integer in the int32 range [${INT32_MIN}, ${INT32_MAX}]`);
      }
      values[i] = v;
    }
    return new IntTensor(values, resolved);
  }

  get size(): number {
    return this.data.length;
  }

  get rank(): number {
    return this.shape.length;
  }

  /** The same data seen with another shape (no copy); one dimension may be -1 (inferred). */
  reshape(shape: Shape): IntTensor {
    checkShape('IntTensor.reshape', shape, true);
    const inferred = shape.indexOf(-1);
    let resolved = shape;
    if (inferred >= 0) {
      const known = sizeOf(shape.filter((_, i) => i !== inferred));
      if (known === 0 || this.size % known !== 0) {
        throw new ShapeError(`IntTensor.reshape: cannot infer dimension ${inferred} of ${describeShape(shape)} for ${this.size} elements`);
      }
      resolved = shape.map((d, i) => (i === inferred ? this.size / known : d));
    }
    if (sizeOf(resolved) !== this.size) {
      throw new ShapeError(
        `IntTensor.reshape: cannot reshape ${describeShape(this.shape)} (${this.size} elements) to ${describeShape(resolved)}`,
      );
    }
    return new IntTensor(this.data, resolved);
  }

  /** A copy of the values, row-major. Synchronous: the data is already on the host. */
  toArray(): Int32Array {
    return this.data.slice();
  }

  /** `IntTensor([2, 3], int32) [[1, 2, 3], [4, 5, 6]]`; long axes are cut to their first and last 3 entries. */
  toString(): string {
    return `IntTensor(${describeShape(this.shape)}, int32) ${formatNested(this.data, this.shape, 0, 0)}`;
  }
}

/** Checks and copies host integers into an `IntTensor` (default shape `[data.length]`). */
export function intTensor(data: ArrayLike<number>, shape?: Shape): IntTensor {
  return IntTensor.from(data, shape);
}

function checkShape(where: string, shape: unknown, allowInferred = false): asserts shape is Shape {
  if (!Array.isArray(shape)) {
    throw new ShapeError(`${where}: shape must be an array of non-negative integers such as [2, 3], received ${describeValue(shape)}`);
  }
  const inferred = shape.filter((d) => d === -1).length;
  if (allowInferred && inferred <= 1) assertValidShape(shape.map((d) => (d === -1 ? 0 : d)) as Shape, `${where}: shape`);
  else assertValidShape(shape as Shape, `${where}: shape`);
}

const EDGE = 3;

function formatNested(data: Int32Array, shape: Shape, axis: number, offset: number): string {
  if (axis === shape.length) return String(data[offset]);
  const n = shape[axis];
  const stride = sizeOf(shape.slice(axis + 1));
  const shown = n > 2 * EDGE ? [...range(0, EDGE), -1, ...range(n - EDGE, n)] : range(0, n);
  const parts = shown.map((i) => (i < 0 ? '…' : formatNested(data, shape, axis + 1, offset + i * stride)));
  return `[${parts.join(', ')}]`;
}

function range(start: number, end: number): number[] {
  return Array.from({ length: end - start }, (_, i) => start + i);
}

/**
 * Reads an argument that holds indices (`Embedding.forward`'s ids, a loss's targets): an
 * `IntTensor` gives its data and shape, a flat array of numbers gives itself and no shape.
 * Anything else, a float `Tensor` above all, is an `OptionsError` saying how to pass indices.
 */
export function indexArgument(value: unknown, where: string, name: string): { values: ArrayLike<number>; shape?: Shape } {
  if (value instanceof IntTensor) return { values: value.data, shape: value.shape };
  const arrayLike = typeof value === 'object' && value !== null && typeof (value as ArrayLike<unknown>).length === 'number';
  if (arrayLike && !looksLikeTensor(value)) {
    assertArrayLikeOfNumbers(value, `${where}: ${name}`);
    return { values: value };
  }
  const expected = `${name} must be an int32 tensor (tensor(${name}, shape, { dtype: 'int32' })) or an array of integers`;
  if (looksLikeTensor(value)) {
    const t = value as FloatTensorFields;
    const on = typeof t.backend?.name === 'string' ? ` on ${t.backend.name}` : '';
    throw new OptionsError(
      `${where}: ${expected}, received a ${t.dtype} tensor ${describeShape(t.shape)}${on}; to convert one, intTensor(await t.toArray(), t.shape)`,
    );
  }
  throw new OptionsError(`${where}: ${expected}, received ${describeValue(value)}`);
}

interface FloatTensorFields {
  dtype: string;
  shape: readonly number[];
  backend?: { name?: unknown };
}

/** A float `Tensor` (or anything shaped like one) that is not an `IntTensor`. */
function looksLikeTensor(value: unknown): boolean {
  if (typeof value !== 'object' || value === null || value instanceof IntTensor) return false;
  const t = value as Partial<FloatTensorFields>;
  return typeof t.dtype === 'string' && Array.isArray(t.shape);
}

/**
 * The class targets of a loss or metric over `logits [..., classes]`, one per row: an `IntTensor`
 * must have the shape of `logits` without its class axis (so `[B, T]` targets for `[T, B, V]`
 * logits fail instead of silently pairing the wrong rows); a flat array must hold one per row.
 */
export function rowTargets(where: string, targets: unknown, logitsShape: Shape): ArrayLike<number> {
  const { values, shape } = indexArgument(targets, where, 'targets');
  const rowShape = logitsShape.slice(0, -1);
  const rows = sizeOf(rowShape);
  if (shape) {
    if (shape.length !== rowShape.length || shape.some((d, i) => d !== rowShape[i])) {
      throw new ShapeError(
        `${where}: targets ${describeShape(shape)} must have the shape of logits ${describeShape(logitsShape)} without its class axis, ${describeShape(rowShape)}`,
      );
    }
  } else if (values.length !== rows) {
    throw new ShapeError(
      `${where}: targets must hold one class id per row of logits ${describeShape(logitsShape)} (${rows}), received ${values.length}`,
    );
  }
  return values;
}
