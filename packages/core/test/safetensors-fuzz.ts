/**
 * Mutation fuzzing of safetensors decoding: byte-level damage (bit flips, truncation, length
 * rewrites) and structural damage to the JSON header (wrong types, huge numbers, odd names,
 * duplicate keys, deep nesting, many entries) applied to real checkpoints. A decoder passes
 * when every input either decodes to content that accounts for every byte and survives an
 * encode → decode round trip, or throws a FormatError. Anything else (another error type, a
 * slow decode, content that does not add up) is reported with the mutation that caused it.
 */
import { encodeSafetensors, FormatError, type Random, type SafetensorsContent } from '@recur/core';

export type Decode = (bytes: Uint8Array) => SafetensorsContent;

export interface Mutation {
  kind: string;
  description: string;
  bytes: Uint8Array;
}

export interface FuzzReport {
  accepted: number;
  rejected: number;
  /** One line per input that was neither decoded consistently nor rejected with FormatError. */
  failures: string[];
  /** Messages of the FormatErrors, to see which checks the inputs reached. */
  messages: string[];
  kinds: Map<string, number>;
}

/** A single decode slower than this counts as a hang (the slowest input here, 100,001 entries, takes well under a second). */
const HANG_MS = 3000;

const pick = <T>(random: Random, items: readonly T[]): T => items[random.int(items.length)];

interface Parts {
  header: Record<string, Record<string, unknown>>;
  headerText: string;
  data: Uint8Array;
}

function split(file: Uint8Array): Parts {
  const n = Number(new DataView(file.buffer, file.byteOffset, 8).getBigUint64(0, true));
  const headerText = new TextDecoder().decode(file.subarray(8, 8 + n));
  return { header: JSON.parse(headerText), headerText, data: file.subarray(8 + n) };
}

/** `[u64 LE length][header][data]`, with the declared length defaulting to the true one. */
export function assemble(headerText: string, data: Uint8Array, declared?: bigint): Uint8Array {
  const json = new TextEncoder().encode(headerText);
  const bytes = new Uint8Array(8 + json.length + data.length);
  new DataView(bytes.buffer).setBigUint64(0, declared ?? BigInt(json.length), true);
  bytes.set(json, 8);
  bytes.set(data, 8 + json.length);
  return bytes;
}

// JSON texts placed verbatim into a header, so values JSON.stringify cannot produce (deep nesting,
// integers past 2^53) are reachable too.
const WEIRD = [
  ...['null', 'true', '0', '-1', '1.5', '-0', '1e308', '9007199254740993', '18446744073709551615', '""', '"F32"'],
  ...['[]', '{}', '[null]', '[[1]]', '[-1]', '[0.5]', '["4"]', '{"a":1}', '[1,2,3]'],
];
const DIMS = ['-1', '0', '-0', '1.5', '2147483648', '4294967297', '9007199254740992', '1e308', '"3"', 'null', '[]', '{}', 'true'];
const NAMES = [
  ...['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', '', ' ', '__metadata__', '\\ud800', '\\udfff\\ud800'],
  ...['a'.repeat(10_000), '9', '4294967295', '-1'],
];
const METADATA = ['{"k": 5}', '{"k": null}', '{"k": {}}', '{"__proto__": "x"}', '{"k": "\\ud800"}', '{"k": "v"}'];
const DTYPES = ['F16', 'BF16', 'F64', 'I64', 'f32', 'F32 ', '', 'float32'];

const RAW = (i: number) => `\u0000RAW${i}\u0000`;

/** JSON.stringify with RAW(i) markers replaced by raw JSON texts. */
function stringify(value: unknown, raws: string[], indent?: number): string {
  let text = JSON.stringify(value, null, indent);
  raws.forEach((raw, i) => {
    text = text.replace(JSON.stringify(RAW(i)), () => raw);
  });
  return text;
}

function deep(random: Random): string {
  const depth = pick(random, [10, 1000, 100_000]);
  return random.next() < 0.5 ? `${'['.repeat(depth)}${']'.repeat(depth)}` : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
}

function manyEmpty(first: number, count: number): string {
  return Array.from({ length: count }, (_, i) => `"e${first + i}":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}`).join(',');
}

function byteMutation(random: Random, file: Uint8Array): Mutation {
  const bytes = new Uint8Array(file);
  const headerEnd = Math.min(bytes.length, 8 + Number(new DataView(file.buffer, file.byteOffset, 8).getBigUint64(0, true)));
  const position = () => (random.next() < 0.75 ? 8 + random.int(headerEnd - 8) : random.int(bytes.length));
  switch (random.int(6)) {
    case 0: {
      const at: number[] = [];
      for (let k = 1 + random.int(8); k > 0; k--) {
        const p = position();
        bytes[p] ^= 1 << random.int(8);
        at.push(p);
      }
      return { kind: 'flip', description: `bits flipped at bytes ${at.join(', ')}`, bytes };
    }
    case 1: {
      const p = position();
      const value = pick(random, [0x00, 0xff, 0x22, 0x7b, 0x7d, 0x5b, 0x5d, 0x2c, 0x3a, 0x5c, 0x80, 0xc0, 0x2d, 0x30, 0x39, 0x65]);
      bytes[p] = value;
      return { kind: 'set-byte', description: `byte ${p} set to 0x${value.toString(16)}`, bytes };
    }
    case 2: {
      const length = random.next() < 0.5 ? random.int(headerEnd) : random.int(file.length);
      return { kind: 'truncate', description: `cut to ${length} bytes`, bytes: file.slice(0, length) };
    }
    case 3: {
      const extra = Uint8Array.from({ length: 1 + random.int(64) }, () => random.int(256));
      const out = new Uint8Array(file.length + extra.length);
      out.set(file);
      out.set(extra, file.length);
      return { kind: 'extend', description: `${extra.length} random bytes appended`, bytes: out };
    }
    case 4: {
      const n = BigInt(headerEnd - 8);
      const total = BigInt(file.length);
      const declared = pick(random, [
        0n,
        1n,
        2n,
        7n,
        n - 1n,
        n + 1n,
        n - 8n,
        n + 8n,
        total,
        total - 8n,
        2n ** 32n,
        2n ** 53n,
        2n ** 64n - 1n,
        100_000_000n,
        100_000_001n,
        BigInt(random.nextUint32()),
      ]);
      new DataView(bytes.buffer).setBigUint64(0, declared < 0n ? 0n : declared, true);
      return { kind: 'header-length', description: `header length rewritten to ${declared}`, bytes };
    }
    default: {
      const p = 8 + random.int(headerEnd - 8);
      const insert = random.next() < 0.5;
      const out = new Uint8Array(file.length + (insert ? 1 : -1));
      out.set(file.subarray(0, p));
      if (insert) out[p] = pick(random, [0x20, 0x22, 0x2c, 0x7b, 0x7d, 0x30, 0x00]);
      out.set(file.subarray(insert ? p : p + 1), insert ? p + 1 : p);
      if (random.next() < 0.5) new DataView(out.buffer).setBigUint64(0, BigInt(headerEnd - 8 + (insert ? 1 : -1)), true);
      return { kind: insert ? 'insert-byte' : 'delete-byte', description: `byte ${insert ? 'inserted' : 'deleted'} at ${p}`, bytes: out };
    }
  }
}

/** One change to the parsed header of a valid file; returns the new header text and a description. */
function structuralChange(random: Random, parts: Parts): [kind: string, description: string, text: string] {
  const header = structuredClone(parts.header);
  const names = Object.keys(header).filter((n) => n !== '__metadata__');
  const name = pick(random, names);
  const target = header[name];
  const raws: string[] = [];
  const raw = (text: string) => RAW(raws.push(text) - 1);
  const field = pick(random, ['dtype', 'shape', 'data_offsets']);
  const offsets = target.data_offsets as number[];
  switch (random.int(14)) {
    case 0:
      return ['header-value', 'header replaced', pick(random, ['null', '5', '-1', '"x"', 'true', '[]', `[${parts.headerText}]`])];
    case 1: {
      const value = pick(random, WEIRD);
      header[name] = raw(value) as never;
      return ['entry-value', `${name} = ${value}`, stringify(header, raws)];
    }
    case 2: {
      const value = random.next() < 0.1 ? deep(random) : pick(random, WEIRD);
      target[field] = raw(value);
      return ['field-value', `${name}.${field} = ${value.slice(0, 40)}`, stringify(header, raws)];
    }
    case 3: {
      const shape = [...(target.shape as unknown[])];
      const dim = pick(random, DIMS);
      const action = random.int(4);
      if (action === 0 && shape.length > 0) shape[random.int(shape.length)] = raw(dim);
      else if (action === 1) shape.push(raw(dim));
      else if (action === 2) shape.pop();
      else shape.splice(0, shape.length, 2 ** 26, 2 ** 26, 2 ** 26);
      target.shape = shape;
      return ['shape', `${name}.shape changed (${action}, ${dim})`, stringify(header, raws)];
    }
    case 4: {
      const [b, e] = offsets;
      const other = header[pick(random, names)].data_offsets as number[];
      const d = pick(random, [-8, -4, -1, 1, 4, 8]);
      const [ob, oe] = other;
      const text = pick(random, [
        ...[`[${b + d},${e + d}]`, `[${e},${b}]`, `[${b},${e + d}]`, `[-4,${e}]`, `[${b},${2 ** 60}]`, `[${ob},${oe}]`],
        ...[`[${ob},${e}]`, `[${b}]`, `[${b},${e},${e}]`, `[${b + 0.5},${e}]`, `[${b},"${e}"]`, `[${b},${e}.0]`],
      ]);
      target.data_offsets = raw(text);
      return ['offsets', `${name}.data_offsets = ${text}`, stringify(header, raws)];
    }
    case 5: {
      const action = random.int(3);
      // defineProperty, as assigning '__proto__' would set the prototype instead of adding a key.
      if (action === 0)
        Object.defineProperty(target, pick(random, ['extra', 'offsets', '__proto__', 'Dtype']), { value: 1, enumerable: true });
      else if (action === 1) delete target[field];
      else {
        target.data_offset = target.data_offsets;
        delete target.data_offsets;
      }
      return ['entry-keys', `${name} keys changed (${action})`, stringify(header, raws)];
    }
    case 6:
      target.dtype = pick(random, DTYPES);
      return ['dtype', `${name}.dtype = ${target.dtype}`, stringify(header, raws)];
    case 7: {
      const value = pick(random, [...WEIRD, ...METADATA]);
      header.__metadata__ = raw(value) as never;
      return ['metadata', `__metadata__ = ${value}`, stringify(header, raws)];
    }
    case 8: {
      // Keys go through a marker too, so escapes such as \ud800 reach the decoder as written.
      const to = pick(random, NAMES);
      const renamed = Object.fromEntries(Object.entries(header).map(([n, v]) => [n === name ? RAW(0) : n, v]));
      return ['rename', `${name} renamed to ${to.slice(0, 20)}`, stringify(renamed, [`"${to}"`])];
    }
    case 9: {
      const copy = JSON.stringify(random.next() < 0.5 ? target : { ...target, data_offsets: [0, (offsets[1] - offsets[0]) | 0] });
      const key = random.next() < 0.5 ? JSON.stringify(name) : `"\\u${name.charCodeAt(0).toString(16).padStart(4, '0')}${name.slice(1)}"`;
      const text = JSON.stringify(header);
      return ['duplicate', `duplicate key ${key}`, `${text.slice(0, -1)},${key}:${copy}}`];
    }
    case 10: {
      const text = JSON.stringify(header);
      const count = 1 + random.int(200);
      return ['many', `${count} empty entries added`, `${text.slice(0, -1)},${manyEmpty(0, count)}}`];
    }
    case 11:
      return ['whitespace', 'pretty-printed', `${JSON.stringify(header, null, 1 + random.int(4))}${' '.repeat(random.int(16))}`];
    case 12: {
      const shuffled = Object.entries(header).sort(() => random.next() - 0.5);
      return ['reorder', 'keys reordered', JSON.stringify(Object.fromEntries(shuffled))];
    }
    default: {
      // Swap the offsets of two entries: valid when their sizes match, a mismatch otherwise.
      const other = header[pick(random, names)];
      [target.data_offsets, other.data_offsets] = [other.data_offsets, target.data_offsets];
      return ['swap-offsets', `${name} swapped offsets`, JSON.stringify(header)];
    }
  }
}

/** `count` mutations of the seed files, from a seeded generator (the same list on every run). */
export function* mutations(random: Random, seeds: Uint8Array[], count: number): Generator<Mutation> {
  const parsed = seeds.map(split);
  for (let i = 0; i < count; i++) {
    const s = random.int(seeds.length);
    if (random.next() < 0.4) {
      const m = byteMutation(random, seeds[s]);
      yield { ...m, description: `seed ${s}: ${m.description}` };
      continue;
    }
    const parts = parsed[s];
    let [kind, description, text] = structuralChange(random, parts);
    // Now and then stack a second change on the first (when the first left a parseable object).
    if (random.next() < 0.2) {
      try {
        const again = JSON.parse(text);
        if (again && typeof again === 'object' && !Array.isArray(again) && Object.keys(again).some((n) => n !== '__metadata__')) {
          const [k2, d2, t2] = structuralChange(random, { ...parts, header: again, headerText: text });
          [kind, description, text] = [`${kind}+${k2}`, `${description}; ${d2}`, t2];
        }
      } catch {
        // The first change left something the second cannot work on (not JSON, an entry that is
        // not an object): keep the single change.
      }
    }
    yield { kind, description: `seed ${s}: ${description}`, bytes: assemble(text, parts.data) };
  }
}

/**
 * A header one entry past the tensor-count limit, built once (too slow to draw at random; the
 * limit itself and 200,000 entries are in safetensors-validation.test.ts).
 */
export function manyEntryCases(limit: number): Mutation[] {
  const data = new Uint8Array(0);
  return [limit + 1].map((n) => ({
    kind: 'many',
    description: `${n} empty entries`,
    bytes: assemble(`{${manyEmpty(0, n)}}`, data),
  }));
}

function sameContent(a: SafetensorsContent, b: SafetensorsContent): string | undefined {
  const names = Object.keys(a.tensors).sort();
  if (JSON.stringify(names) !== JSON.stringify(Object.keys(b.tensors).sort())) return 'tensor names differ after a round trip';
  for (const n of names) {
    const [x, y] = [a.tensors[n], b.tensors[n]];
    if (JSON.stringify(x.shape) !== JSON.stringify(y.shape)) return `${JSON.stringify(n)} shape differs after a round trip`;
    if (x.data.length !== y.data.length || x.data.some((v, i) => !Object.is(v, y.data[i]))) return `${JSON.stringify(n)} data differs`;
  }
  const meta = (m: Record<string, string>) => JSON.stringify(Object.entries(m).sort());
  if (meta(a.metadata) !== meta(b.metadata)) return 'metadata differs after a round trip';
  return undefined;
}

/** What is wrong with an accepted decode, if anything. */
async function checkAccepted(bytes: Uint8Array, content: SafetensorsContent, decode: Decode): Promise<string | undefined> {
  const headerLength = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
  let dataBytes = 0;
  for (const [n, t] of Object.entries(content.tensors)) {
    if (!(t.data instanceof Float32Array)) return `${JSON.stringify(n)} data is not a Float32Array`;
    if (t.data.length !== t.shape.reduce((p, d) => p * d, 1)) return `${JSON.stringify(n)} holds ${t.data.length} values for its shape`;
    dataBytes += t.data.byteLength;
  }
  // Every data byte belongs to a tensor: a tensor that vanished (a name lost to a prototype
  // setter, say) leaves bytes unaccounted for.
  if (8 + headerLength + dataBytes !== bytes.length) return `tensors hold ${dataBytes} bytes of ${bytes.length - 8 - headerLength}`;
  try {
    return sameContent(content, decode(await encodeSafetensors(content.tensors, content.metadata)));
  } catch (error) {
    return `accepted, but the round trip threw ${describeError(error)}`;
  }
}

function describeError(error: unknown): string {
  return error instanceof Error ? `${error.constructor.name}: ${error.message.slice(0, 200)}` : `non-error ${String(error)}`;
}

export async function fuzz(decode: Decode, cases: Iterable<Mutation>): Promise<FuzzReport> {
  const report: FuzzReport = { accepted: 0, rejected: 0, failures: [], messages: [], kinds: new Map() };
  for (const { kind, description, bytes } of cases) {
    report.kinds.set(kind, (report.kinds.get(kind) ?? 0) + 1);
    const started = performance.now();
    let content: SafetensorsContent;
    try {
      content = decode(bytes);
    } catch (error) {
      if (error instanceof FormatError) {
        report.rejected++;
        report.messages.push(error.message);
      } else {
        report.failures.push(`${description}: threw ${describeError(error)}`);
      }
      continue;
    } finally {
      const ms = performance.now() - started;
      if (ms > HANG_MS) report.failures.push(`${description}: took ${ms.toFixed(0)} ms`);
    }
    const problem = await checkAccepted(bytes, content, decode);
    if (problem) report.failures.push(`${description}: ${problem}`);
    else report.accepted++;
  }
  return report;
}
