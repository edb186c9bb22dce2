/**
 * Fuzzing decodeSafetensors with a fixed seed: thousands of byte-level and structural mutations
 * of real checkpoints must each decode consistently or throw FormatError (see safetensors-fuzz.ts).
 * The second block shows the harness is able to fail: it flags decoders broken on purpose.
 */
import { createJsBackend } from '@recur/backend-js';
import { decodeSafetensors, encodeSafetensors, GRU, LSTM, Random, SAFETENSORS_MAX_TENSORS, type SafetensorsContent } from '@recur/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { assemble, type FuzzReport, fuzz, manyEntryCases, mutations } from './safetensors-fuzz.js';

const SEED = 0x5afe;
const COUNT = 6000;

async function seedFiles(): Promise<Uint8Array[]> {
  const backend = createJsBackend();
  const lstm = new LSTM({ inputSize: 3, hiddenSize: 4, numLayers: 2, backend, seed: 1 });
  const gru = new GRU({ inputSize: 2, hiddenSize: 3, bidirectional: true, backend, seed: 2 });
  return [
    await encodeSafetensors(lstm.stateDict(), { format: 'pt', step: '12' }),
    await encodeSafetensors(gru.stateDict()),
    // Integer-like names (listed first by JSON objects) and an empty tensor sharing an offset.
    await encodeSafetensors({ 9: { shape: [2], data: [1, 2] }, 10: { shape: [0], data: [] }, b: { shape: [1, 1], data: [3] } }, { k: 'v' }),
  ];
}

/** The decoder's checks, by a fragment of their messages: the mutations must reach each one. */
const CHECKS: Record<string, RegExp> = {
  'file shorter than its length prefix': /shorter than its 8-byte/,
  'header length past the format limit': /format's limit/,
  'header length past the file': /exceeds the file/,
  'header not UTF-8 JSON': /not valid UTF-8 JSON/,
  'header not a JSON object': /header must be a JSON object/,
  'too many tensors': /more than the limit/,
  '__metadata__ not strings': /__metadata__/,
  'unpaired surrogate in a name': /surrogate/,
  'entry not an object': /must be an object/,
  'unknown or missing key': /unknown key|lacks key/,
  'unsupported dtype': /supported dtypes/,
  'invalid shape': /invalid shape|too many elements/,
  'invalid data_offsets': /invalid data_offsets/,
  'offsets that do not fit the shape or data': /do not fit/,
  'hole or overlap': /hole or overlap/,
  'data not fully covered': /tensors cover/,
};

describe('safetensors fuzzing', () => {
  let seeds: Uint8Array[];
  let report: FuzzReport;
  beforeAll(async () => {
    seeds = await seedFiles();
    for (const s of seeds) decodeSafetensors(s); // the seeds themselves are valid
    const started = performance.now();
    report = await fuzz(decodeSafetensors, [...mutations(new Random(SEED), seeds, COUNT), ...manyEntryCases(SAFETENSORS_MAX_TENSORS)]);
    console.log(`fuzz: ${report.accepted} accepted, ${report.rejected} rejected in ${(performance.now() - started).toFixed(0)} ms`);
  });

  it(`decodes or rejects with FormatError each of ${COUNT} mutations of real checkpoints`, () => {
    expect(report.failures).toEqual([]);
    expect(report.accepted + report.rejected).toBe(COUNT + 1);
    // Some mutations keep the file valid (pretty-printing, reordering, renaming): they must decode.
    expect(report.accepted).toBeGreaterThan(100);
  });

  it('reaches every check of the decoder and uses every kind of mutation', () => {
    const missed = Object.entries(CHECKS)
      .filter(([, pattern]) => !report.messages.some((m) => pattern.test(m)))
      .map(([name]) => name);
    expect(missed).toEqual([]);
    const kinds = new Set([...report.kinds.keys()].flatMap((k) => k.split('+')));
    for (const kind of ['flip', 'set-byte', 'truncate', 'extend', 'header-length', 'insert-byte', 'delete-byte'])
      expect(kinds).toContain(kind);
    for (const kind of ['header-value', 'entry-value', 'field-value', 'shape', 'offsets', 'entry-keys', 'dtype', 'metadata', 'rename']) {
      expect(kinds).toContain(kind);
    }
    for (const kind of ['duplicate', 'many', 'whitespace', 'reorder', 'swap-offsets']) expect(kinds).toContain(kind);
  });
});

describe('the fuzz harness flags broken decoders', () => {
  let seeds: Uint8Array[];
  beforeAll(async () => {
    seeds = await seedFiles();
  });

  it('an untyped error (a TypeError on a null entry)', async () => {
    // Reads each entry's dtype before any validation, as the decoder once did: a null entry throws TypeError.
    const beforeValidation = (bytes: Uint8Array): SafetensorsContent => {
      const n = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
      let header: Record<string, { dtype?: unknown }> | null = null;
      try {
        header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
      } catch {
        // Not JSON: left to the real decoder.
      }
      if (header && typeof header === 'object') for (const entry of Object.values(header)) void entry.dtype;
      return decodeSafetensors(bytes);
    };
    const report = await fuzz(beforeValidation, mutations(new Random(SEED), seeds, 500));
    expect(report.failures.some((f) => /threw TypeError/.test(f))).toBe(true);
  });

  it('a tensor lost to a prototype setter', async () => {
    const lossy = (bytes: Uint8Array): SafetensorsContent => {
      const { tensors, metadata } = decodeSafetensors(bytes);
      const plain: SafetensorsContent['tensors'] = {};
      for (const [name, t] of Object.entries(tensors)) plain[name] = t;
      return { tensors: plain, metadata };
    };
    const data = new Uint8Array(new Float32Array([1, 2]).buffer);
    const file = assemble(
      '{"__proto__":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"w":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}',
      data,
    );
    const report = await fuzz(lossy, [{ kind: 'hand-made', description: '__proto__ tensor', bytes: file }]);
    expect(report.failures).toEqual(['__proto__ tensor: tensors hold 4 bytes of 8']);
  });

  it('content that changes on a round trip, and a decode that throws RangeError', async () => {
    let calls = 0;
    const drifting = (bytes: Uint8Array): SafetensorsContent => {
      const content = decodeSafetensors(bytes);
      for (const t of Object.values(content.tensors)) if (t.data.length > 0) t.data[0] += ++calls;
      return content;
    };
    expect((await fuzz(drifting, [{ kind: 'seed', description: 'seed 0', bytes: seeds[0] }])).failures).toHaveLength(1);
    const throwing = (): SafetensorsContent => {
      throw new RangeError('Invalid typed array length');
    };
    const report = await fuzz(throwing, [{ kind: 'seed', description: 'seed 1', bytes: seeds[1] }]);
    expect(report.failures).toEqual(['seed 1: threw RangeError: Invalid typed array length']);
  });
});
