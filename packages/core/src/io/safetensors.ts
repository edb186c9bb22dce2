import { FormatError, OutOfMemoryError, ShapeError } from '../errors.js';
import type { HostArray } from '../nn/module.js';
import type { Tensor } from '../tensor.js';
import {
  briefShape,
  fromLittleEndian,
  hasLoneSurrogate,
  kindOf,
  LITTLE_ENDIAN_HOST,
  parseSafetensorsHeader,
  quote,
  readHeaderLength,
  SAFETENSORS_MAX_HEADER_BYTES,
  SAFETENSORS_MAX_TENSORS,
  shapeSize,
} from './safetensors-header.js';

export { SAFETENSORS_DTYPES, SAFETENSORS_MAX_HEADER_BYTES, SAFETENSORS_MAX_TENSORS } from './safetensors-header.js';

/**
 * safetensors: `[u64 LE header length N][N bytes of UTF-8 JSON][data]`, every tensor F32,
 * little-endian, C order, `data_offsets` relative to the data start, covering it with no
 * holes, overlaps or trailing bytes. Works in browsers and Node (bytes in, bytes out).
 *
 * Limits: a header of at most SAFETENSORS_MAX_HEADER_BYTES (100,000,000, the format's own),
 * at most SAFETENSORS_MAX_TENSORS (100,000) tensors, dimensions that are non-negative safe
 * integers. `tensors` and `metadata` are null-prototype objects, so any name (`__proto__`,
 * `constructor`) is an ordinary key.
 */
export interface SafetensorsContent {
  tensors: Record<string, HostArray & { data: Float32Array }>;
  metadata: Record<string, string>;
}

/**
 * Encodes named host arrays (or tensors, read back first) as a safetensors file. Refuses what
 * decodeSafetensors would refuse, so every file it writes reads back: a tensor named
 * `__metadata__`, non-string metadata, invalid shapes (ShapeError), unpaired UTF-16
 * surrogates, more than SAFETENSORS_MAX_TENSORS tensors, a header past the format's limit.
 */
export async function encodeSafetensors(
  entries: Record<string, Tensor | HostArray>,
  metadata: Record<string, string> = {},
): Promise<Uint8Array> {
  if (entries === null || typeof entries !== 'object') {
    throw new FormatError(`encodeSafetensors: entries must be an object of tensors or host arrays, received ${kindOf(entries)}`);
  }
  if (metadata === null || typeof metadata !== 'object' || Array.isArray(metadata)) {
    throw new FormatError(`encodeSafetensors: metadata must be an object of strings, received ${kindOf(metadata)}`);
  }
  const names = Object.keys(entries).sort();
  if (names.length > SAFETENSORS_MAX_TENSORS) {
    throw new FormatError(
      `encodeSafetensors: ${names.length} tensors, more than the limit of ${SAFETENSORS_MAX_TENSORS.toLocaleString('en-US')}`,
    );
  }
  // Null prototypes: assigning a tensor named __proto__ must add a key, not replace the prototype.
  const header: Record<string, unknown> = Object.create(null);
  const meta: Record<string, string> = Object.create(null);
  for (const [key, value] of Object.entries(metadata)) {
    if (typeof value !== 'string')
      throw new FormatError(`encodeSafetensors: metadata ${quote(key)} must be a string, received ${kindOf(value)}`);
    if (hasLoneSurrogate(key) || hasLoneSurrogate(value)) {
      throw new FormatError(`encodeSafetensors: metadata ${quote(key)} holds an unpaired UTF-16 surrogate`);
    }
    meta[key] = value;
  }
  if (Object.keys(meta).length > 0) header.__metadata__ = meta;
  const arrays: Float32Array[] = [];
  let offset = 0;
  for (const name of names) {
    if (name === '__metadata__') {
      throw new FormatError('encodeSafetensors: a tensor may not be named "__metadata__", the key the format reserves for metadata');
    }
    if (hasLoneSurrogate(name)) throw new FormatError(`encodeSafetensors: tensor name ${quote(name)} has an unpaired UTF-16 surrogate`);
    const entry = entries[name];
    if (entry === null || typeof entry !== 'object') {
      throw new ShapeError(`encodeSafetensors: tensor ${quote(name)} must be a Tensor or {shape, data}, received ${kindOf(entry)}`);
    }
    const size = shapeSize(entry.shape);
    if (typeof size === 'string') throw new ShapeError(`encodeSafetensors: tensor ${quote(name)} has an invalid shape: it ${size}`);
    const values = 'data' in entry ? entry.data : await entry.toArray();
    if (values?.length !== size) {
      throw new ShapeError(
        `encodeSafetensors: tensor ${quote(name)} has ${values?.length} values but shape ${briefShape(entry.shape)} needs ${size}`,
      );
    }
    const f32 = values instanceof Float32Array ? values : Float32Array.from(values);
    arrays.push(f32);
    header[name] = { dtype: 'F32', shape: [...entry.shape], data_offsets: [offset, offset + f32.byteLength] };
    offset += f32.byteLength;
  }
  // Pad the header with spaces so the data starts 8-byte aligned (allowed by the format).
  const text = JSON.stringify(header);
  let json = new TextEncoder().encode(text);
  const padded = Math.ceil(json.length / 8) * 8;
  if (padded !== json.length) json = new TextEncoder().encode(text + ' '.repeat(padded - json.length));
  if (json.length > SAFETENSORS_MAX_HEADER_BYTES) {
    throw new FormatError(
      `encodeSafetensors: the header would be ${json.length} bytes, past the format's limit of ${SAFETENSORS_MAX_HEADER_BYTES}`,
    );
  }
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(8 + json.length + offset);
  } catch (error) {
    throw new OutOfMemoryError(
      `encodeSafetensors: cannot allocate ${8 + json.length + offset} bytes for the file`,
      8 + json.length + offset,
      {
        cause: error,
      },
    );
  }
  const view = new DataView(bytes.buffer);
  view.setBigUint64(0, BigInt(json.length), true);
  bytes.set(json, 8);
  let at = 8 + json.length;
  for (const a of arrays) {
    if (LITTLE_ENDIAN_HOST) bytes.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), at);
    else for (let i = 0; i < a.length; i++) view.setFloat32(at + 4 * i, a[i], true);
    at += a.byteLength;
  }
  return bytes;
}

/** Decodes and validates a safetensors file holding F32 tensors; anything malformed is a FormatError. */
export function decodeSafetensors(bytes: Uint8Array): SafetensorsContent {
  if (!(bytes instanceof Uint8Array)) throw new FormatError(`decodeSafetensors: expected a Uint8Array, received ${kindOf(bytes)}`);
  const headerLength = readHeaderLength(bytes.subarray(0, 8), bytes.length);
  const dataStart = 8 + headerLength;
  const { tensors: layout, metadata } = parseSafetensorsHeader(bytes.subarray(8, dataStart), bytes.length - dataStart);
  const tensors: SafetensorsContent['tensors'] = Object.create(null);
  for (const t of layout) {
    // slice() copies into a fresh, aligned buffer that a Float32Array can view directly.
    const data = new Float32Array(bytes.slice(dataStart + t.begin, dataStart + t.end).buffer);
    fromLittleEndian(data);
    tensors[t.name] = { shape: t.shape, data };
  }
  return { tensors, metadata };
}
