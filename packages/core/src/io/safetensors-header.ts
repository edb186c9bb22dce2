/**
 * Validation of a safetensors header, shared by the in-memory decoder and the Node file reader
 * (which reads the header first and then only the data it declares). Every problem is a
 * FormatError; nothing from JSON.parse or a property access on a hostile value escapes raw.
 */
import { describeBytes, FormatError } from '../errors.js';

/** The largest header accepted, in bytes: the upstream safetensors format's own limit. */
export const SAFETENSORS_MAX_HEADER_BYTES = 100_000_000;

/**
 * The most tensors a file may list. Checkpoints of recurrent networks hold a few dozen; the cap
 * stops a small header of empty entries from costing seconds and hundreds of megabytes.
 */
export const SAFETENSORS_MAX_TENSORS = 100_000;

/** The dtypes this version reads and writes. */
export const SAFETENSORS_DTYPES: readonly string[] = ['F32'];

/** One tensor's place in the data section (offsets relative to its start, end exclusive). */
export interface TensorLayout {
  name: string;
  shape: number[];
  size: number;
  begin: number;
  end: number;
}

export interface SafetensorsHeader {
  /** Sorted by position in the data section. */
  tensors: TensorLayout[];
  /** A null-prototype object, so every key is an ordinary key. */
  metadata: Record<string, string>;
}

const ENTRY_KEYS = ['dtype', 'shape', 'data_offsets'];

/** A name for messages: JSON-quoted (control characters escaped) and cut short. */
export function quote(name: string): string {
  const q = JSON.stringify(name);
  return q.length <= 64 ? q : `${q.slice(0, 60)}…" (${name.length} characters)`;
}

/** What a parsed JSON value is, briefly; never recurses, so deep nesting cannot overflow the stack. */
export function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return `the string ${quote(value)}`;
  return `${typeof value} ${String(value)}`;
}

/** Shapes in messages: the first dimensions only, as a hostile shape may have millions. */
export function briefShape(shape: readonly unknown[]): string {
  const shown = shape.slice(0, 8).map((d) => (typeof d === 'number' ? String(d) : kindOf(d)));
  return `[${shown.join(', ')}${shape.length > 8 ? `, … (${shape.length} dimensions)` : ''}]`;
}

// Other readers (the Rust and Python implementations) reject strings that are not valid
// Unicode; JSON.parse turns an escaped lone surrogate into one without complaint.
const LONE_SURROGATE = /\p{Surrogate}/u;
export function hasLoneSurrogate(text: string): boolean {
  return LONE_SURROGATE.test(text);
}

/** Beyond this many float32 elements a byte count is no longer exact in a float64. */
const MAX_ELEMENTS = Math.floor(Number.MAX_SAFE_INTEGER / 4);

/**
 * The element count of a shape, or a reason it is not one: every dimension a non-negative safe
 * integer, and the count times 4 bytes exact in a float64.
 */
export function shapeSize(shape: unknown): number | string {
  if (!Array.isArray(shape)) return `is ${kindOf(shape)}, not an array`;
  for (let i = 0; i < shape.length; i++) {
    const d = shape[i];
    if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) {
      return `has dimension ${i} ${typeof d === 'number' ? d : kindOf(d)}; dimensions must be non-negative safe integers`;
    }
  }
  if (shape.includes(0)) return 0;
  let size = 1;
  for (const d of shape as number[]) {
    size *= d;
    if (size > MAX_ELEMENTS) return `has too many elements (more than ${MAX_ELEMENTS})`;
  }
  return size;
}

/**
 * Reads the u64 header length and checks it against the format's limit and the file length
 * (`fileLength` bytes in all, of which `prefix` holds the first up to 8).
 */
export function readHeaderLength(prefix: Uint8Array, fileLength: number): number {
  if (fileLength < 8) throw new FormatError(`safetensors: file is ${fileLength} bytes, shorter than its 8-byte header length`);
  const declared = new DataView(prefix.buffer, prefix.byteOffset, 8).getBigUint64(0, true);
  if (declared > BigInt(SAFETENSORS_MAX_HEADER_BYTES)) {
    throw new FormatError(
      `safetensors: header length ${declared} exceeds the format's limit of ${describeBytes(SAFETENSORS_MAX_HEADER_BYTES)}`,
    );
  }
  const length = Number(declared);
  if (length > fileLength - 8) throw new FormatError(`safetensors: header length ${length} exceeds the file (${fileLength} bytes)`);
  return length;
}

function parseMetadata(raw: unknown): Record<string, string> {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new FormatError(`safetensors: __metadata__ must be an object of string values, found ${kindOf(raw)}`);
  }
  const metadata: Record<string, string> = Object.create(null);
  for (const [key, value] of Object.entries(raw)) {
    if (typeof value !== 'string')
      throw new FormatError(`safetensors: __metadata__ ${quote(key)} must be a string, found ${kindOf(value)}`);
    if (hasLoneSurrogate(key) || hasLoneSurrogate(value)) {
      throw new FormatError(`safetensors: __metadata__ ${quote(key)} holds an unpaired UTF-16 surrogate`);
    }
    metadata[key] = value;
  }
  return metadata;
}

function parseEntry(name: string, raw: unknown, dataLength: number): TensorLayout {
  const where = `safetensors: tensor ${quote(name)}`;
  if (hasLoneSurrogate(name)) throw new FormatError(`${where} has an unpaired UTF-16 surrogate in its name`);
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new FormatError(`${where} must be an object {dtype, shape, data_offsets}, found ${kindOf(raw)}`);
  }
  const info = raw as Record<string, unknown>;
  for (const key of Object.keys(info)) if (!ENTRY_KEYS.includes(key)) throw new FormatError(`${where} has unknown key ${quote(key)}`);
  for (const key of ENTRY_KEYS) if (!Object.hasOwn(info, key)) throw new FormatError(`${where} lacks key "${key}"`);
  if (typeof info.dtype !== 'string' || !SAFETENSORS_DTYPES.includes(info.dtype)) {
    throw new FormatError(`${where} has dtype ${kindOf(info.dtype)}; supported dtypes: ${SAFETENSORS_DTYPES.join(', ')}`);
  }
  const size = shapeSize(info.shape);
  if (typeof size === 'string') throw new FormatError(`${where} has an invalid shape: it ${size}`);
  const shape = (info.shape as number[]).map((d) => d + 0); // -0 → 0, so a rewrite says "0"
  const offsets = info.data_offsets;
  if (
    !Array.isArray(offsets) ||
    offsets.length !== 2 ||
    !offsets.every((o) => typeof o === 'number' && Number.isSafeInteger(o) && o >= 0) ||
    offsets[1] < offsets[0]
  ) {
    const shown = Array.isArray(offsets) ? briefShape(offsets) : kindOf(offsets);
    throw new FormatError(`${where} has invalid data_offsets ${shown}; expected [begin, end] with 0 ≤ begin ≤ end`);
  }
  const [begin, end] = offsets as [number, number];
  if (end > dataLength || end - begin !== 4 * size) {
    throw new FormatError(`${where} data_offsets [${begin}, ${end}] do not fit shape ${briefShape(shape)} in ${dataLength} data bytes`);
  }
  return { name, shape, size, begin, end };
}

/**
 * Parses and validates a header: a JSON object of at most SAFETENSORS_MAX_TENSORS entries, each
 * exactly {dtype, shape, data_offsets}, whose spans tile the `dataLength` data bytes with no
 * hole, overlap or trailing byte.
 */
export function parseSafetensorsHeader(headerBytes: Uint8Array, dataLength: number): SafetensorsHeader {
  let header: unknown;
  try {
    // ignoreBOM keeps a byte-order mark in the text, where JSON.parse rejects it as other readers do.
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(headerBytes));
  } catch (error) {
    throw new FormatError(`safetensors: header is not valid UTF-8 JSON (${(error as Error).message})`, { cause: error });
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) {
    throw new FormatError(`safetensors: header must be a JSON object, found ${kindOf(header)}`);
  }
  // A name listed twice keeps its last entry (JSON.parse): the earlier entry's bytes are then
  // a hole, rejected below, unless both entries are the same.
  const entries = Object.entries(header);
  const count = entries.length - (Object.hasOwn(header, '__metadata__') ? 1 : 0);
  if (count > SAFETENSORS_MAX_TENSORS) {
    throw new FormatError(
      `safetensors: header lists ${count} tensors, more than the limit of ${SAFETENSORS_MAX_TENSORS.toLocaleString('en-US')}`,
    );
  }
  let metadata: Record<string, string> = Object.create(null);
  const tensors: TensorLayout[] = [];
  for (const [name, raw] of entries) {
    if (name === '__metadata__') metadata = parseMetadata(raw);
    else tensors.push(parseEntry(name, raw, dataLength));
  }
  // By (begin, end), so an empty tensor sharing its offset with a non-empty one comes first.
  tensors.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let covered = 0;
  for (const t of tensors) {
    if (t.begin !== covered) {
      throw new FormatError(
        `safetensors: tensor ${quote(t.name)} starts at ${t.begin} but the previous tensor ends at ${covered} (hole or overlap)`,
      );
    }
    covered = t.end;
  }
  if (covered !== dataLength) {
    const left = dataLength - covered;
    throw new FormatError(
      `safetensors: tensors cover ${covered} of ${dataLength} data bytes, leaving ${left} byte${left === 1 ? '' : 's'} after the last tensor`,
    );
  }
  return { tensors, metadata };
}

/** Whether this machine stores numbers little-endian, as the format does (so bytes copy as they are). */
export const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Turns float32 values that hold little-endian bytes into host order, in place (nothing to do on little-endian hosts). */
export function fromLittleEndian(data: Float32Array): void {
  if (LITTLE_ENDIAN_HOST) return;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  for (let i = 0; i < data.length; i++) data[i] = view.getFloat32(4 * i, true);
}
