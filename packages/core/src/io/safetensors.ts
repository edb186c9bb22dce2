import { describeShape, FormatError, ShapeError } from '../errors.js';
import type { HostArray } from '../nn/module.js';
import { sizeOf } from '../shape.js';
import type { Tensor } from '../tensor.js';

/**
 * safetensors: `[u64 LE header length N][N bytes of UTF-8 JSON][data]`, every tensor F32,
 * little-endian, C order, `data_offsets` relative to the data start, covering it with no
 * holes or overlaps. Works in browsers and Node (bytes in, bytes out).
 */
export interface SafetensorsContent {
  tensors: Record<string, HostArray & { data: Float32Array }>;
  metadata: Record<string, string>;
}

/** Encodes named host arrays (or tensors, read back first) as a safetensors file. */
export async function encodeSafetensors(
  entries: Record<string, Tensor | HostArray>,
  metadata: Record<string, string> = {},
): Promise<Uint8Array> {
  const names = Object.keys(entries).sort();
  const arrays: Float32Array[] = [];
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  for (const name of names) {
    const entry = entries[name];
    const values = 'data' in entry ? entry.data : await entry.toArray();
    if (values.length !== sizeOf(entry.shape)) {
      throw new ShapeError(`encodeSafetensors: '${name}' has ${values.length} values but shape ${describeShape(entry.shape)}`);
    }
    const f32 = values instanceof Float32Array ? values : Float32Array.from(values);
    arrays.push(f32);
    header[name] = { dtype: 'F32', shape: [...entry.shape], data_offsets: [offset, offset + f32.byteLength] };
    offset += f32.byteLength;
  }
  // Pad the header with spaces so the data starts 8-byte aligned (allowed by the format).
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8;
  if (padded !== json.length) json = new TextEncoder().encode(JSON.stringify(header) + ' '.repeat(padded - json.length));
  const bytes = new Uint8Array(8 + json.length + offset);
  const view = new DataView(bytes.buffer);
  view.setBigUint64(0, BigInt(json.length), true);
  bytes.set(json, 8);
  let at = 8 + json.length;
  for (const a of arrays) {
    for (let i = 0; i < a.length; i++) view.setFloat32(at + 4 * i, a[i], true);
    at += a.byteLength;
  }
  return bytes;
}

/** Decodes and validates a safetensors file holding F32 tensors. */
export function decodeSafetensors(bytes: Uint8Array): SafetensorsContent {
  if (bytes.length < 8) throw new FormatError(`safetensors: file is ${bytes.length} bytes, shorter than its 8-byte header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  if (headerLength > bytes.length - 8)
    throw new FormatError(`safetensors: header length ${headerLength} exceeds the file (${bytes.length} bytes)`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLength)));
  } catch (error) {
    throw new FormatError(`safetensors: header is not valid UTF-8 JSON (${(error as Error).message})`);
  }
  const dataStart = 8 + headerLength;
  const dataLength = bytes.length - dataStart;
  const tensors: SafetensorsContent['tensors'] = {};
  const spans: [number, number, string][] = [];
  for (const [name, raw] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const info = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (info.dtype !== 'F32') throw new FormatError(`safetensors: '${name}' has dtype ${String(info.dtype)}; only F32 is supported`);
    const shape = info.shape;
    const offsets = info.data_offsets;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0))
      throw new FormatError(`safetensors: '${name}' has an invalid shape`);
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isInteger(o) && o >= 0)) {
      throw new FormatError(`safetensors: '${name}' has invalid data_offsets`);
    }
    const [begin, end] = offsets as [number, number];
    if (end < begin || end > dataLength || end - begin !== 4 * sizeOf(shape)) {
      throw new FormatError(
        `safetensors: '${name}' data_offsets [${begin}, ${end}] do not fit shape ${describeShape(shape)} in ${dataLength} data bytes`,
      );
    }
    const data = new Float32Array(sizeOf(shape));
    for (let i = 0; i < data.length; i++) data[i] = view.getFloat32(dataStart + begin + 4 * i, true);
    tensors[name] = { shape, data };
    spans.push([begin, end, name]);
  }
  spans.sort((a, b) => a[0] - b[0]);
  let covered = 0;
  for (const [begin, end, name] of spans) {
    if (begin !== covered)
      throw new FormatError(`safetensors: '${name}' starts at ${begin} but the previous tensor ends at ${covered} (hole or overlap)`);
    covered = end;
  }
  if (covered !== dataLength) throw new FormatError(`safetensors: tensors cover ${covered} of ${dataLength} data bytes`);
  const metadata = (header.__metadata__ ?? {}) as Record<string, string>;
  return { tensors, metadata };
}
