/** Host data and shapes given to tensor(), full(), zeros() and Parameter are checked, never turned into NaN. */
import { full, Linear, OptionsError, Parameter, ShapeError, StateDictError, tensor, zeros } from '@recur/core';
import { describe, expect, it } from 'vitest';
import { countingBackend, expectError, expectRejection, f64, values } from './helpers.js';

const backend = f64();

describe('tensor(data, shape)', () => {
  it('strings in the data are a typed error naming the element (not NaN)', () => {
    expectError(() => tensor(['a', 'b'] as never, [2], { backend }), OptionsError, 'tensor: data[0] must be a number', '"a" (a string)');
    expectError(() => tensor([1, '2'] as never, [2], { backend }), OptionsError, 'data[1]', '"2"');
    expectError(() => tensor([1, null] as never, [2], { backend }), OptionsError, 'data[1]', 'null');
    expectError(() => tensor([1, undefined] as never, [2], { backend }), OptionsError, 'data[1]', 'undefined');
  });

  it('data that is not an array of numbers names `data`', () => {
    expectError(
      () => tensor(null as never, [2], { backend }),
      OptionsError,
      'tensor: data must be an array or typed array of numbers',
      'received null',
    );
    expectError(() => tensor(undefined as never, [2], { backend }), OptionsError, 'tensor: data', 'received undefined');
    expectError(() => tensor('ab' as never, [2], { backend }), OptionsError, 'tensor: data', '"ab" (a string)');
    expectError(() => tensor({ a: 1 } as never, [1], { backend }), OptionsError, 'tensor: data', 'an object');
    expectError(() => tensor(5 as never, [1], { backend }), OptionsError, 'tensor: data', 'received 5');
    expectError(
      () => tensor(new BigInt64Array(2) as never, [2], { backend }),
      OptionsError,
      'tensor: data[0] must be a number',
      '0n (a bigint)',
    );
  });

  it('nested arrays say to pass flat data and a shape', () => {
    expectError(
      () =>
        tensor(
          [
            [1, 2],
            [3, 4],
          ] as never,
          [2, 2],
          { backend },
        ),
      OptionsError,
      'data[0]',
      'flat data and a shape',
    );
  });

  it('a bad shape is a ShapeError naming `shape`', () => {
    expectError(() => tensor([1, 2], 2 as never, { backend }), ShapeError, 'tensor: shape must be an array', 'received 2');
    expectError(() => tensor([1, 2], [2, -1], { backend }), ShapeError, 'shape', '[2, -1]');
    expectError(() => tensor([1, 2], [3], { backend }), ShapeError, 'data has 2 elements', '[3]');
  });

  it('valid host data still works: arrays, typed arrays of any kind, NaN and ±Infinity as values', async () => {
    expect(await values(tensor([1, 2, 3], [3], { backend }))).toEqual([1, 2, 3]);
    expect(await values(tensor(new Int32Array([4, 5]), [2], { backend }))).toEqual([4, 5]);
    expect(await values(tensor(new Float32Array([0.5]), undefined, { backend }))).toEqual([0.5]);
    expect(await values(tensor([Number.NaN, Number.POSITIVE_INFINITY], [2], { backend }))).toEqual([Number.NaN, Number.POSITIVE_INFINITY]);
  });

  it('a Float32Array or Float64Array is not scanned element by element', () => {
    // A proxy counting index reads: a plain array is read once per element, a typed array not at all.
    let reads = 0;
    const counted = <T extends object>(target: T) =>
      new Proxy(target, {
        get(t, key) {
          if (typeof key === 'string' && /^\d+$/.test(key)) reads++;
          // The target as receiver: typed arrays' own getters (length) refuse a proxy.
          return Reflect.get(t, key);
        },
      });
    // Uploading reads every element once; validation must not add a second pass for typed arrays.
    const { backend: quiet } = countingBackend(backend, { upload: () => ({ length: 1000 }) });
    tensor(counted(new Float64Array(1000)), [1000], { backend: quiet });
    expect(reads).toBe(0);
    tensor(counted(new Array(1000).fill(1)), [1000], { backend: quiet });
    expect(reads).toBe(1000);
  });
});

describe('full / zeros', () => {
  it('zeros(5) and full(5, 1) are ShapeErrors saying shape must be an array', () => {
    expectError(() => zeros(5 as never, { backend }), ShapeError, 'zeros: shape must be an array of non-negative integers', 'received 5');
    expectError(() => full(5 as never, 1, { backend }), ShapeError, 'full: shape must be an array', 'received 5');
    expectError(() => zeros(null as never, { backend }), ShapeError, 'zeros: shape', 'received null');
    expectError(() => zeros([2.5], { backend }), ShapeError, 'zeros: shape', '[2.5]');
  });

  it('full with a non-number value names `value`', () => {
    expectError(() => full([2], '1' as never, { backend }), OptionsError, 'full: value must be a number', '"1"');
  });
});

describe('Parameter', () => {
  it('checks data and shape like tensor()', () => {
    expectError(() => new Parameter(backend, ['x'] as never, [1]), OptionsError, 'Parameter: data[0] must be a number');
    expectError(() => new Parameter(backend, [1], 1 as never), ShapeError, 'Parameter: shape must be an array');
    expectError(() => new Parameter(backend, [1], [1], { requiresGrad: 'no' } as never), OptionsError, 'requiresGrad', 'boolean');
  });

  it('copyFrom rejects non-numbers', () => {
    const p = new Parameter(backend, [1, 2], [2]);
    expectError(() => p.copyFrom(['1', '2'] as never), OptionsError, 'Parameter.copyFrom: data[0] must be a number');
  });

  it('loadStateDict rejects host data holding non-numbers before writing anything', async () => {
    const linear = new Linear({ inFeatures: 2, outFeatures: 1, backend, seed: 1 });
    const before = await values(linear.weight);
    await expectRejection(
      () => linear.loadStateDict({ weight: { shape: [1, 2], data: [7, 8] }, bias: { shape: [1], data: ['a'] as never } }),
      StateDictError,
      "'bias' data must be an array or typed array of numbers",
    );
    expect(await values(linear.weight)).toEqual(before);
  });
});
