/**
 * What decodeSafetensors accepts and rejects, and that encodeSafetensors only writes what the
 * decoder reads back. Files are built by hand from the format's definition (u64 LE header
 * length, UTF-8 JSON header, LE float32 data) so no expectation comes from the code under test.
 */
import {
  decodeSafetensors,
  encodeSafetensors,
  FormatError,
  SAFETENSORS_MAX_HEADER_BYTES,
  SAFETENSORS_MAX_TENSORS,
  ShapeError,
} from '@recur/core';
import { describe, expect, it } from 'vitest';
import { expectError, expectRejection } from './expect-error.js';

/** A file whose header is the given JSON text (not re-serialized, so anything can be written). */
function rawFile(headerText: string, values: number[] = []): Uint8Array {
  const json = new TextEncoder().encode(headerText);
  const bytes = new Uint8Array(8 + json.length + 4 * values.length);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, json.length, true);
  bytes.set(json, 8);
  for (const [i, v] of values.entries()) view.setFloat32(8 + json.length + 4 * i, v, true);
  return bytes;
}

const entry = (shape: unknown, offsets: unknown, dtype: unknown = 'F32') => ({ dtype, shape, data_offsets: offsets });

describe('decodeSafetensors: header structure', () => {
  it('rejects a header that is not a JSON object (null, a number, a string, an array, true)', () => {
    for (const text of ['null', '5', '"F32"', '[]', 'true', '[{"dtype":"F32","shape":[],"data_offsets":[0,4]}]']) {
      expectError(() => decodeSafetensors(rawFile(text, [1])), FormatError, 'header must be a JSON object');
    }
  });

  it('rejects entries that are not objects, naming the tensor', () => {
    for (const value of ['null', '0', '"F32"', '[]', 'true']) {
      expectError(() => decodeSafetensors(rawFile(`{"weight": ${value}}`)), FormatError, '"weight"');
    }
  });

  it('rejects entries with unknown or missing keys', () => {
    const extra = { w: { ...entry([1], [0, 4]), offsets: [0, 4] } };
    expectError(() => decodeSafetensors(rawFile(JSON.stringify(extra), [1])), FormatError, '"w"', 'offsets');
    const missing = { w: { dtype: 'F32', shape: [1] } };
    expectError(() => decodeSafetensors(rawFile(JSON.stringify(missing), [1])), FormatError, '"w"', 'data_offsets');
  });

  it('names the supported dtypes when the dtype is not one of them', () => {
    for (const dtype of ['F16', 'f32', null, 4]) {
      expectError(() => decodeSafetensors(rawFile(JSON.stringify({ w: entry([1], [0, 4], dtype) }), [1])), FormatError, 'F32');
    }
  });

  it('requires __metadata__ to map strings to strings', () => {
    for (const meta of ['null', '5', '[]', '"x"', '{"step": 7}', '{"step": null}', '{"a": {"b": "c"}}']) {
      expectError(() => decodeSafetensors(rawFile(`{"__metadata__": ${meta}}`)), FormatError, '__metadata__');
    }
    expect(decodeSafetensors(rawFile('{"__metadata__": {}}')).metadata).toEqual({});
  });

  it('rejects names and metadata with unpaired UTF-16 surrogates, which other readers cannot decode', () => {
    expectError(() => decodeSafetensors(rawFile(`{"a\\ud800": ${JSON.stringify(entry([1], [0, 4]))}}`, [1])), FormatError, 'surrogate');
    expectError(() => decodeSafetensors(rawFile('{"__metadata__": {"k": "\\udc00"}}')), FormatError, 'surrogate');
  });
});

describe('decodeSafetensors: names are plain keys', () => {
  it('keeps tensors named __proto__, constructor, hasOwnProperty and toString', () => {
    const header = {
      ['__proto__']: entry([1], [0, 4]),
      constructor: entry([1], [4, 8]),
      hasOwnProperty: entry([1], [8, 12]),
      toString: entry([1], [12, 16]),
    };
    const { tensors } = decodeSafetensors(rawFile(JSON.stringify(header), [1, 2, 3, 4]));
    expect(Object.keys(tensors).sort()).toEqual(['__proto__', 'constructor', 'hasOwnProperty', 'toString']);
    expect([...tensors.__proto__.data]).toEqual([1]);
    const last: string = 'toString'; // through a string, as TypeScript types .toString as the method
    expect([...tensors[last].data]).toEqual([4]);
  });

  it('round-trips awkward names and metadata keys through encode and decode', async () => {
    const names = ['__proto__', 'constructor', 'valueOf', '', ' ', 'a.b', '层', '🙂', '9', '10'];
    const entries = Object.fromEntries(names.map((n, i) => [n, { shape: [1], data: [i] }]));
    const metadata = Object.fromEntries([
      ['__proto__', 'p'],
      ['constructor', 'c'],
    ]);
    const decoded = decodeSafetensors(await encodeSafetensors(entries, metadata));
    expect(Object.keys(decoded.tensors).sort()).toEqual([...names].sort());
    for (const [i, n] of names.entries()) expect([...decoded.tensors[n].data], n).toEqual([i]);
    expect(Object.entries(decoded.metadata).sort()).toEqual([
      ['__proto__', 'p'],
      ['constructor', 'c'],
    ]);
  });

  it('accepts an empty tensor that shares its offset with the next tensor, whatever the header order', async () => {
    // JSON objects list integer-like keys first, in numeric order: "9" ([0, 8]) comes before "10" ([0, 0]).
    const file = rawFile(JSON.stringify({ 9: entry([2], [0, 8]), 10: entry([0], [0, 0]) }), [1, 2]);
    const { tensors } = decodeSafetensors(file);
    expect([...tensors['9'].data]).toEqual([1, 2]);
    expect(tensors['10'].shape).toEqual([0]);
    // The encoder lays '10' out before '9' (string order), so the same case arises from a round trip.
    const again = decodeSafetensors(await encodeSafetensors({ 9: { shape: [2], data: [1, 2] }, 10: { shape: [0], data: [] } }));
    expect([...again.tensors['9'].data]).toEqual([1, 2]);
  });
});

describe('decodeSafetensors: numbers and limits', () => {
  it('rejects shapes with negative, fractional, non-number or unsafe dimensions', () => {
    for (const shape of [[1e300, 0], [2 ** 53, 0], [-1], [1.5], ['1'], [null], [[1]], 3, null]) {
      expectError(() => decodeSafetensors(rawFile(JSON.stringify({ w: entry(shape, [0, 0]) }))), FormatError, '"w"', 'shape');
    }
  });

  it('rejects a shape whose element count is past what a float64 counts exactly', () => {
    const shape = [2 ** 26, 2 ** 26, 2 ** 26];
    expectError(() => decodeSafetensors(rawFile(JSON.stringify({ w: entry(shape, [0, 4]) }), [1])), FormatError, '"w"', 'shape');
  });

  it('rejects bad data_offsets: negative, reversed, fractional, wrong count, past the data, holes and overlaps', () => {
    const cases: [unknown, RegExp][] = [
      [[-4, 0], /data_offsets/],
      [[4, 0], /data_offsets/],
      [[0, 3.5], /data_offsets/],
      [[0], /data_offsets/],
      [[0, 4, 8], /data_offsets/],
      [[0, 8], /data_offsets/],
      [['0', '4'], /data_offsets/],
      [[4, 8], /hole or overlap/],
    ];
    for (const [offsets, message] of cases) {
      expectError(() => decodeSafetensors(rawFile(JSON.stringify({ w: entry([1], offsets) }), [1, 2])), FormatError, message);
    }
    const overlap = { a: entry([2], [0, 8]), b: entry([2], [4, 12]) };
    expectError(() => decodeSafetensors(rawFile(JSON.stringify(overlap), [1, 2, 3])), FormatError, 'hole or overlap');
  });

  it('rejects bytes after the last tensor', () => {
    expectError(() => decodeSafetensors(rawFile(JSON.stringify({ w: entry([1], [0, 4]) }), [1, 2])), FormatError, '4 of 8');
  });

  it(`caps the header at ${SAFETENSORS_MAX_HEADER_BYTES} bytes, the format's own limit`, () => {
    expect(SAFETENSORS_MAX_HEADER_BYTES).toBe(100_000_000);
    const bytes = new Uint8Array(8 + 100_000_008).fill(0x20);
    bytes.set(new TextEncoder().encode('{}'), 8);
    const view = new DataView(bytes.buffer);
    view.setBigUint64(0, 100_000_000n, true);
    // Declared length exactly the limit: '{}' padded with spaces; cut the 8 bytes after it so no data is left over.
    expect(Object.keys(decodeSafetensors(bytes.subarray(0, 8 + 100_000_000)).tensors)).toEqual([]);
    view.setBigUint64(0, 100_000_008n, true);
    expectError(() => decodeSafetensors(bytes), FormatError, 'header length 100000008', '100,000,000');
    view.setBigUint64(0, 2n ** 64n - 1n, true);
    expectError(() => decodeSafetensors(bytes), FormatError, 'header length');
  });

  it(`caps the number of tensors at ${SAFETENSORS_MAX_TENSORS}`, () => {
    expect(SAFETENSORS_MAX_TENSORS).toBe(100_000);
    const manyEmpty = (n: number) =>
      rawFile(`{${Array.from({ length: n }, (_, i) => `"t${i}":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}`)}}`);
    expect(Object.keys(decodeSafetensors(manyEmpty(100_000)).tensors)).toHaveLength(100_000);
    expectError(() => decodeSafetensors(manyEmpty(100_001)), FormatError, '100001 tensors', '100,000');
    expectError(() => decodeSafetensors(manyEmpty(200_000)), FormatError, '200000 tensors');
  });
});

describe('encodeSafetensors writes only what the decoder reads back', () => {
  it('rejects a tensor named __metadata__', async () => {
    await expectRejection(() => encodeSafetensors({ __metadata__: { shape: [1], data: [1] } }), FormatError, '__metadata__');
  });

  it('rejects metadata values that are not strings, naming the key', async () => {
    const metadata = { step: 7 } as unknown as Record<string, string>;
    await expectRejection(() => encodeSafetensors({ w: { shape: [1], data: [1] } }, metadata), FormatError, 'step');
  });

  it('rejects names and metadata with unpaired surrogates', async () => {
    await expectRejection(() => encodeSafetensors({ 'a\ud800': { shape: [1], data: [1] } }), FormatError, 'surrogate');
    await expectRejection(() => encodeSafetensors({}, { k: '\udc00' }), FormatError, 'surrogate');
  });

  it('rejects shapes the decoder would reject, with a ShapeError naming the tensor', async () => {
    for (const shape of [[1.5, 2], [-1], [Number.NaN], [Number.POSITIVE_INFINITY, 0], [2 ** 53, 0]]) {
      await expectRejection(() => encodeSafetensors({ w: { shape, data: [1, 2, 3] } }), ShapeError, '"w"');
    }
  });

  it(`rejects more than ${SAFETENSORS_MAX_TENSORS} tensors`, async () => {
    const entries = Object.fromEntries(Array.from({ length: 100_001 }, (_, i) => [`t${i}`, { shape: [0], data: [] }]));
    await expectRejection(() => encodeSafetensors(entries), FormatError, '100001 tensors');
  });
});
