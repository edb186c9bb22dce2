/**
 * The allocation guard: an impossible size is a typed `OutOfMemoryError` naming the shape and
 * the bytes, raised before any backend (or any host array) allocates, and the process lives on.
 */
import {
  DEFAULT_ALLOCATION_LIMIT,
  Embedding,
  full,
  getAllocationLimit,
  Linear,
  LSTM,
  matmul,
  memory,
  OutOfMemoryError,
  setAllocationLimit,
  tensor,
  ValueRangeError,
  zeros,
} from '@recur/core';
import { afterEach, describe, expect, it } from 'vitest';
import { expectError } from './expect-error.js';
import { f64 } from './helpers.js';

afterEach(() => setAllocationLimit(DEFAULT_ALLOCATION_LIMIT));

describe('allocation guard', () => {
  it('full([40000, 40000]) is refused with the shape and the byte size, and nothing is allocated', () => {
    const backend = f64();
    const before = memory(backend);
    const error = expectError(
      () => full([40000, 40000], 1, { backend }),
      OutOfMemoryError,
      'full',
      '[40000, 40000]',
      '12.8 GB (12,800,000,000 bytes)',
      'setAllocationLimit',
    ) as OutOfMemoryError;
    // 1.6e9 float64 elements: 8 bytes each.
    expect(error.bytes).toBe(40000 * 40000 * 8);
    expect(memory(backend)).toEqual(before);
  });

  it('a layer of impossible size fails on the parameter that is too big, before any host array is made', () => {
    const backend = f64();
    const started = performance.now();
    // weight_hh would be [4·10⁶, 10⁶]: 4·10¹² elements, 32 TB in float64.
    expectError(
      () => new LSTM({ inputSize: 1, hiddenSize: 1e6, backend }),
      OutOfMemoryError,
      'weight_hh',
      '[4000000, 1000000]',
      '32 TB',
      'more than the js backend can hold in one buffer',
    );
    expectError(() => new Embedding({ numEmbeddings: 1e6, embeddingDim: 1e4, backend }), OutOfMemoryError, 'weight', '[1000000, 10000]');
    expectError(() => new Linear({ inFeatures: 1e5, outFeatures: 1e5, backend }), OutOfMemoryError, 'weight', '[100000, 100000]');
    // Drawing 4·10¹² random numbers first would take hours; the guard answers at once.
    expect(performance.now() - started).toBeLessThan(5_000);
  });

  it('op results are guarded too: a product of two vectors that would be 10¹⁰ elements', () => {
    const backend = f64();
    const column = zeros([100000, 1], { backend });
    const row = zeros([1, 100000], { backend });
    const before = memory(backend);
    expectError(() => matmul(column, row), OutOfMemoryError, 'gemm', '[100000, 100000]', '80 GB');
    expect(memory(backend)).toEqual(before);
  });

  it('the limit can be lowered and raised, and only accepts a positive number', () => {
    const backend = f64();
    expect(getAllocationLimit()).toBe(DEFAULT_ALLOCATION_LIMIT);
    setAllocationLimit(1000);
    expectError(() => tensor(new Float64Array(126), [126], { backend }), OutOfMemoryError, 'tensor', '[126]', '1,008 bytes');
    expect(tensor(new Float64Array(125), [125], { backend }).size).toBe(125);
    setAllocationLimit(Number.POSITIVE_INFINITY);
    // With no byte limit, the backend's own addressing limit still applies.
    expectError(() => full([2 ** 31], 0, { backend }), OutOfMemoryError, 'more than the js backend can hold');
    for (const bad of [0, -1, Number.NaN, '1e9' as unknown as number]) expectError(() => setAllocationLimit(bad), ValueRangeError, 'bytes');
  });
});
