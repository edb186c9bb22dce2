import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createJsBackend } from '@recur/backend-js';
import { decodeSafetensors, encodeSafetensors, FormatError, GRU } from '@recur/core';
import { afterAll, describe, expect, it } from 'vitest';
import { loadCheckpoint, saveCheckpoint, writeFileAtomic } from '../src/node.js';

/** A file built by hand from the format's definition: header length, JSON header, LE float32 data. */
function handMadeFile(header: object, values: number[]): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const bytes = new Uint8Array(8 + json.length + 4 * values.length);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, json.length, true); // low half of the u64; the high half stays 0
  bytes.set(json, 8);
  for (const [i, v] of values.entries()) view.setFloat32(8 + json.length + 4 * i, v, true);
  return bytes;
}

describe('safetensors', () => {
  it('decodes a hand-made file', () => {
    const file = handMadeFile(
      {
        __metadata__: { format: 'pt' },
        b: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
        a: { dtype: 'F32', shape: [1, 2], data_offsets: [8, 16] },
      },
      [1.5, -2, 3.25, 4],
    );
    const { tensors, metadata } = decodeSafetensors(file);
    expect(metadata).toEqual({ format: 'pt' });
    expect([...tensors.b.data]).toEqual([1.5, -2]);
    expect(tensors.a.shape).toEqual([1, 2]);
    expect([...tensors.a.data]).toEqual([3.25, 4]);
  });

  it('round-trips through encode and decode, with 8-byte aligned data', async () => {
    const bytes = await encodeSafetensors(
      { w: { shape: [2, 3], data: [1, 2, 3, 4, 5, 6] }, bias: { shape: [3], data: [0.5, 0.25, -1] } },
      { step: '7' },
    );
    const headerLength = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect((8 + headerLength) % 8).toBe(0);
    const { tensors, metadata } = decodeSafetensors(bytes);
    expect([...tensors.w.data]).toEqual([1, 2, 3, 4, 5, 6]);
    expect([...tensors.bias.data]).toEqual([0.5, 0.25, -1]);
    expect(metadata).toEqual({ step: '7' });
  });

  it('rejects malformed files with FormatError', () => {
    const hole = handMadeFile({ a: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, [1, 2]);
    expect(() => decodeSafetensors(hole)).toThrow(/hole or overlap/);
    const overlap = handMadeFile(
      { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } },
      [1, 2, 3],
    );
    expect(() => decodeSafetensors(overlap)).toThrow(FormatError);
    expect(() => decodeSafetensors(handMadeFile({ a: { dtype: 'F16', shape: [1], data_offsets: [0, 2] } }, []))).toThrow(
      /supported dtypes: F32/,
    );
    expect(() => decodeSafetensors(handMadeFile({ a: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, [1, 2]))).toThrow(/do not fit/);
    const truncated = handMadeFile({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, [1]).subarray(0, 12);
    expect(() => decodeSafetensors(truncated)).toThrow(FormatError);
    expect(() => decodeSafetensors(new Uint8Array(3))).toThrow(/shorter/);
  });
});

describe('checkpoints on disk', async () => {
  const folder = await mkdtemp(join(tmpdir(), 'recur-checkpoint-'));
  afterAll(() => rm(folder, { recursive: true, force: true }));
  const backend = createJsBackend();

  it('save then load restores every parameter', async () => {
    const a = new GRU({ inputSize: 3, hiddenSize: 4, numLayers: 2, backend, seed: 1 });
    const b = new GRU({ inputSize: 3, hiddenSize: 4, numLayers: 2, backend, seed: 2 });
    const path = join(folder, 'gru.safetensors');
    await saveCheckpoint(a, path, { note: 'test' });
    expect(await loadCheckpoint(b, path)).toEqual({ note: 'test' });
    for (const [[name, p], [, q]] of [...a.namedParameters()].map((e, i) => [e, [...b.namedParameters()][i]] as const)) {
      expect([...(await q.toArray())], name).toEqual([...(await p.toArray())]);
    }
    expect((await readdir(folder)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('a failed write leaves no temporary file and the old file intact', async () => {
    const target = join(folder, 'occupied');
    await mkdir(target);
    await expect(writeFileAtomic(target, new Uint8Array([1, 2, 3]))).rejects.toThrow();
    expect((await readdir(folder)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});
