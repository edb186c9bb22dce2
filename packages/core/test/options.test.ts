import { OptionsError, Tensor, tensor, ValueRangeError } from '@recur/core';
import { describe, expect, it } from 'vitest';
import { checkOptions, describeValue, nearestKey, type OptionsSchema, option, required } from '../src/options.js';
import { expectError, f64 } from './helpers.js';

interface Example {
  numLayers?: number;
  hiddenSize: number;
  bidirectional?: boolean;
  dropout?: number;
  mode?: 'min' | 'max';
  h0?: Tensor;
  lengths?: ArrayLike<number>;
  scale?: number | ArrayLike<number>;
}

const schema: OptionsSchema<Example> = {
  numLayers: option.positiveInteger,
  hiddenSize: required(option.positiveInteger),
  bidirectional: option.boolean,
  dropout: option.numberIn(0, 1, '[)'),
  mode: option.oneOf('min', 'max'),
  h0: option.instance(Tensor, 'a Tensor'),
  lengths: option.arrayLikeOfNumbers,
  scale: option.either(option.finiteNumber, option.arrayLikeOfNumbers),
};

const check = (options: unknown) => checkOptions('Layer', options as Example, schema);

describe('checkOptions', () => {
  it('returns valid options unchanged, and {} for undefined', () => {
    const options = { hiddenSize: 4, numLayers: 2, bidirectional: false, dropout: 0, mode: 'max' as const, lengths: [1, 2], scale: 2 };
    expect(check(options)).toBe(options);
    expect(checkOptions('Empty', undefined, {} as OptionsSchema<object>)).toEqual({});
  });

  it("unknown keys are OptionsErrors suggesting the nearest known key ('numLayer' → 'numLayers')", () => {
    expectError(() => check({ hiddenSize: 4, numLayer: 3 }), OptionsError, "Layer: unknown option 'numLayer'; did you mean 'numLayers'?");
    expectError(() => check({ hiddenSize: 4, bidirectonal: true }), OptionsError, "'bidirectonal'; did you mean 'bidirectional'?");
    // snake_case and other spellings of the same name, and prefixes.
    expectError(() => check({ hiddenSize: 4, num_layers: 2 }), OptionsError, "did you mean 'numLayers'?");
    expectError(() => check({ hiddenSize: 4, HIDDENSIZE: 2 }), OptionsError, "did you mean 'hiddenSize'?");
    expectError(() => check({ hidden: 4 }), OptionsError, "'hidden'; did you mean 'hiddenSize'?");
  });

  it('an unknown key with nothing close lists the known keys instead of guessing', () => {
    const e = expectError(() => check({ hiddenSize: 4, kind: 'adam' }), OptionsError, "unknown option 'kind'", 'known options: numLayers');
    expect(e.message).not.toContain('did you mean');
  });

  it('several unknown keys are all named', () => {
    expectError(() => check({ hiddenSize: 4, numLayer: 1, zzz: 2 }), OptionsError, "'numLayer' (did you mean 'numLayers'?)", "'zzz'");
  });

  it('wrong types are OptionsErrors naming key, expected type and received value', () => {
    expectError(
      () => check({ hiddenSize: 4, bidirectional: 'no' }),
      OptionsError,
      "option 'bidirectional'",
      'a boolean',
      '"no" (a string)',
    );
    expectError(() => check({ hiddenSize: 4, dropout: '0.5' }), OptionsError, "option 'dropout'", 'a number in [0, 1)', '"0.5" (a string)');
    expectError(() => check({ hiddenSize: '4' }), OptionsError, "option 'hiddenSize'", 'a positive integer', '"4"');
    expectError(() => check({ hiddenSize: 4, mode: 'mean' }), OptionsError, "option 'mode'", "one of 'min', 'max'", '"mean"');
    expectError(() => check({ hiddenSize: 4, h0: [1, 2] }), OptionsError, "option 'h0'", 'a Tensor', '[1, 2] (an array)');
    expectError(() => check({ hiddenSize: 4, lengths: [3, '4'] }), OptionsError, "option 'lengths'[1]", 'a number', '"4"');
    expectError(() => check({ hiddenSize: 4, lengths: 'abc' }), OptionsError, "option 'lengths'", 'an array or typed array of numbers');
    expectError(() => check({ hiddenSize: 4, scale: 'x' }), OptionsError, "option 'scale'", 'a finite number or an array');
  });

  it('numbers out of range are ValueRangeErrors', () => {
    expectError(() => check({ hiddenSize: 0 }), ValueRangeError, "option 'hiddenSize'", 'a positive integer', 'received 0');
    expectError(() => check({ hiddenSize: 2.5 }), ValueRangeError, 'received 2.5');
    expectError(() => check({ hiddenSize: 4, dropout: 1 }), ValueRangeError, "option 'dropout'", '[0, 1)', 'received 1');
    expectError(() => check({ hiddenSize: 4, dropout: Number.NaN }), ValueRangeError, 'received NaN');
    expectError(() => check({ hiddenSize: 4, scale: Number.POSITIVE_INFINITY }), ValueRangeError, "option 'scale'", 'Infinity');
  });

  it('a missing required key is an OptionsError; undefined values count as absent', () => {
    expectError(() => check({}), OptionsError, "option 'hiddenSize' is required", 'a positive integer');
    expectError(() => check({ hiddenSize: undefined }), OptionsError, "option 'hiddenSize' is required");
    expect(check({ hiddenSize: 3, numLayers: undefined, numLayer: undefined })).toEqual({
      hiddenSize: 3,
      numLayers: undefined,
      numLayer: undefined,
    });
  });

  it('options that are not a plain object are OptionsErrors', () => {
    for (const [bad, shown] of [
      [null, 'null'],
      [5, '5'],
      ['abc', '"abc"'],
      [[1], '[1] (an array)'],
    ] as const) {
      expectError(() => check(bad), OptionsError, 'Layer: options must be an object', `received ${shown}`);
    }
    const t = tensor([1], [1], { backend: f64() });
    expectError(() => check(t), OptionsError, 'options must be an object', `received ${t}`);
  });

  it('nearestKey: close names only', () => {
    const known = ['lr', 'momentum', 'dampening', 'nesterov', 'weightDecay'];
    expect(nearestKey('momentun', known)).toBe('momentum');
    expect(nearestKey('weight_decay', known)).toBe('weightDecay');
    expect(nearestKey('Lr', known)).toBe('lr');
    expect(nearestKey('kind', known)).toBeUndefined();
    expect(nearestKey('beta', ['betas', 'eps'])).toBe('betas');
    expect(nearestKey('seed', ['step', 'length'])).toBeUndefined();
  });

  it('describeValue', () => {
    expect(describeValue('a')).toBe('"a" (a string)');
    expect(describeValue([1, 2, 3, 4, 5, 6, 7])).toBe('[1, 2, 3, 4, 5, 6, …] (an array)');
    expect(describeValue(new Float32Array(2))).toBe('a Float32Array');
    expect(describeValue({ a: 1 })).toBe('an object');
    expect(describeValue(() => 1)).toBe('a function');
    expect(describeValue(undefined)).toBe('undefined');
    expect(describeValue(new Map())).toBe('a Map');
  });
});
