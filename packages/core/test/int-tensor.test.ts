/**
 * Host int32 tensors (PyTorch's LongTensor) for token ids and class targets: creation through
 * `tensor(…, { dtype: 'int32' })` and `intTensor`, validation with typed errors naming `data[i]`,
 * views, copies and printing. They hold no backend memory.
 */
import { memory, OptionsError, ShapeError, Tensor, tensor, tidy, ValueRangeError } from '@recur/core';
import { describe, expect, it } from 'vitest';
import { IntTensor, intTensor } from '../src/int-tensor.js';
import { expectError, f64 } from './helpers.js';

const backend = f64();

describe('creating int32 tensors', () => {
  it('tensor(data, shape, { dtype: "int32" }) makes a host IntTensor', () => {
    const ids = tensor([1, 2, 3, 4, 5, 6], [2, 3], { dtype: 'int32' });
    expect(ids).toBeInstanceOf(IntTensor);
    expect(ids).not.toBeInstanceOf(Tensor);
    expect(ids.dtype).toBe('int32');
    expect([...ids.shape]).toEqual([2, 3]);
    expect(ids.size).toBe(6);
    expect(ids.rank).toBe(2);
    expect(ids.data).toBeInstanceOf(Int32Array);
    expect([...ids.data]).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('intTensor(data) defaults to a flat shape and copies its input', () => {
    const source = [7, -100, 0];
    const ids = intTensor(source);
    expect([...ids.shape]).toEqual([3]);
    source[0] = 9;
    expect([...ids.data]).toEqual([7, -100, 0]);
    const typed = new Int32Array([4, 5]);
    const fromTyped = intTensor(typed, [2, 1]);
    typed[0] = 0;
    expect([...fromTyped.data]).toEqual([4, 5]);
    // Integral floats in a float array are fine (ids often come from a Float32Array).
    expect([...intTensor(new Float32Array([3, 1])).data]).toEqual([3, 1]);
  });

  it('accepts both ends of the int32 range', () => {
    expect([...intTensor([-(2 ** 31), 2 ** 31 - 1]).data]).toEqual([-(2 ** 31), 2 ** 31 - 1]);
  });

  it('a float dtype must be the backend’s own', () => {
    expect(tensor([1, 2], [2], { backend, dtype: 'float64' })).toBeInstanceOf(Tensor);
    expectError(() => tensor([1, 2], [2], { backend, dtype: 'float32' }), OptionsError, "'dtype'", 'float32', 'float64');
    expectError(() => tensor([1, 2], [2], { backend, dtype: 'int64' } as never), OptionsError, "option 'dtype'", "'int32'", '"int64"');
  });

  it('an int32 tensor takes no backend and no gradient', () => {
    expectError(() => tensor([1, 2], [2], { dtype: 'int32', backend } as never), OptionsError, 'int32', "omit option 'backend'");
    expectError(() => tensor([1, 2], [2], { dtype: 'int32', requiresGrad: true } as never), OptionsError, "omit option 'requiresGrad'");
    expect(tensor([1, 2], [2], { dtype: 'int32', requiresGrad: false })).toBeInstanceOf(IntTensor);
  });
});

describe('validation names data[i]', () => {
  it('non-integers and values outside int32 are ValueRangeErrors (never truncated or wrapped)', () => {
    expectError(() => tensor([1, 1.5], [2], { dtype: 'int32' }), ValueRangeError, 'tensor: data[1] = 1.5', 'integer', 'int32');
    expectError(() => intTensor([0, 0, 2 ** 31]), ValueRangeError, 'intTensor: data[2] = 2147483648', '[-2147483648, 2147483647]');
    expectError(() => intTensor([-(2 ** 31) - 1]), ValueRangeError, 'data[0] = -2147483649');
    expectError(() => intTensor([Number.NaN]), ValueRangeError, 'data[0] = NaN');
    expectError(() => intTensor([2, Number.POSITIVE_INFINITY]), ValueRangeError, 'data[1] = Infinity');
    expectError(() => intTensor(new Float64Array([0.25])), ValueRangeError, 'data[0] = 0.25');
  });

  it('non-numbers are OptionsErrors', () => {
    expectError(
      () => tensor([1, 'a'] as never, [2], { dtype: 'int32' }),
      OptionsError,
      'tensor: data[1] must be a number',
      '"a" (a string)',
    );
    expectError(() => intTensor('12' as never), OptionsError, 'intTensor: data', '"12" (a string)');
    expectError(() => intTensor(null as never), OptionsError, 'intTensor: data', 'null');
    expectError(() => intTensor(new BigInt64Array(1) as never), OptionsError, 'data[0]', 'bigint');
  });

  it('a shape that does not fit the data, or is not a shape, is a ShapeError', () => {
    expectError(() => tensor([1, 2, 3], [2, 2], { dtype: 'int32' }), ShapeError, 'tensor', '3 elements', '[2, 2]', '4');
    expectError(() => intTensor([1, 2], [-1, -2]), ShapeError, 'intTensor: shape', 'non-negative');
    expectError(() => intTensor([1], 1 as never), ShapeError, 'intTensor: shape must be an array', 'received 1');
  });
});

describe('views, copies, printing', () => {
  it('reshape is a view on the same data; -1 is inferred', () => {
    const ids = intTensor([1, 2, 3, 4, 5, 6], [2, 3]);
    const view = ids.reshape([3, -1]);
    expect([...view.shape]).toEqual([3, 2]);
    expect(view.data).toBe(ids.data);
    view.data[0] = 42;
    expect(ids.data[0]).toBe(42);
    expectError(() => ids.reshape([4, 2]), ShapeError, 'IntTensor.reshape', '[2, 3]', '[4, 2]');
    expectError(() => ids.reshape([4, -1]), ShapeError, 'IntTensor.reshape', 'infer');
  });

  it('toArray returns a copy', () => {
    const ids = intTensor([5, 6]);
    const copy = ids.toArray();
    expect(copy).toBeInstanceOf(Int32Array);
    copy[0] = 0;
    expect([...ids.data]).toEqual([5, 6]);
  });

  it('toString shows shape, dtype and nested values, cutting long axes', () => {
    expect(String(intTensor([1, 2, 3, 4, 5, 6], [2, 3]))).toBe('IntTensor([2, 3], int32) [[1, 2, 3], [4, 5, 6]]');
    expect(String(intTensor([7], []))).toBe('IntTensor([], int32) 7');
    const long = intTensor(Array.from({ length: 20 }, (_, i) => i));
    expect(String(long)).toBe('IntTensor([20], int32) [0, 1, 2, …, 17, 18, 19]');
  });

  it('holds no backend memory and is not disposed by tidy', () => {
    const before = memory().buffers; // the default backend, where a float tensor() would go
    const ids = tidy(() => {
      tensor([1, 2, 3], [3], { dtype: 'int32' });
      return { kept: tensor([4, 5], [2], { dtype: 'int32' }) };
    });
    expect(memory().buffers).toBe(before);
    expect([...ids.kept.data]).toEqual([4, 5]);
  });
});
