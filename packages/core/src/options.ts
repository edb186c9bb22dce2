/**
 * Checking of the options objects of the public API: unknown keys (with the nearest known name
 * suggested), wrong types and out-of-range numbers each throw a typed error naming the key.
 *
 * Hand-written rather than a schema library: core has no runtime dependencies and must stay
 * browser-safe, and what it needs (a dozen type specs and a spelling suggestion) is this file.
 */
import { OptionsError, ValueRangeError } from './errors.js';

/**
 * The type of one option. `check` throws `OptionsError` when the value has the wrong type and
 * `ValueRangeError` when it is a number outside the allowed range; `what` names the value in
 * the message (e.g. `LSTM: option 'dropout'`).
 */
export interface OptionSpec {
  /** What the value must be, for messages: `a positive integer`. */
  readonly expected: string;
  readonly required: boolean;
  check(value: unknown, what: string): void;
}

/** One spec per key of `T`; a key missing from the schema (or an extra one) is a type error. */
export type OptionsSchema<T> = { readonly [K in keyof T]-?: OptionSpec };

/** A readable description of a received value: `'0.5' (a string)`, `[1, 2] (an array)`, `null`. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return `${JSON.stringify(value)} (a string)`;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (typeof value === 'bigint') return `${value}n (a bigint)`;
  if (typeof value === 'function') return 'a function';
  if (value === null || value === undefined) return String(value);
  if (Array.isArray(value)) {
    const shown = value.slice(0, 6).map((v) => (typeof v === 'string' ? JSON.stringify(v) : Array.isArray(v) ? '[…]' : String(v)));
    return `[${shown.join(', ')}${value.length > 6 ? ', …' : ''}] (an array)`;
  }
  if (ArrayBuffer.isView(value)) return `a ${value.constructor.name}`;
  const proto = Object.getPrototypeOf(value);
  if (proto === Object.prototype || proto === null) return 'an object';
  const text = String(value);
  return text.startsWith('[object ') ? `a ${proto?.constructor?.name ?? 'object'}` : text;
}

function spec(expected: string, check: (value: unknown, what: string) => void): OptionSpec {
  return { expected, required: false, check };
}

function typeError(what: string, expected: string, value: unknown): OptionsError {
  return new OptionsError(`${what} must be ${expected}, received ${describeValue(value)}`);
}

/** A number spec: a non-number is an `OptionsError`, a number failing `inRange` a `ValueRangeError`. */
function numberSpec(expected: string, inRange: (v: number) => boolean): OptionSpec {
  return spec(expected, (value, what) => {
    if (typeof value !== 'number') throw typeError(what, expected, value);
    if (!inRange(value)) throw new ValueRangeError(`${what} must be ${expected}, received ${value}`);
  });
}

/** A number in an interval; `bounds` says which ends are included, as in interval notation. */
function numberIn(low: number, high: number, bounds: '[]' | '[)' | '(]' | '()' = '[]'): OptionSpec {
  const lowOk = bounds[0] === '[' ? (v: number) => v >= low : (v: number) => v > low;
  const highOk = bounds[1] === ']' ? (v: number) => v <= high : (v: number) => v < high;
  return numberSpec(`a number in ${bounds[0]}${low}, ${high}${bounds[1]}`, (v) => lowOk(v) && highOk(v));
}

function oneOf<const V extends string>(...values: V[]): OptionSpec {
  const expected = `one of ${values.map((v) => `'${v}'`).join(', ')}`;
  return spec(expected, (value, what) => {
    if (!values.includes(value as V)) throw typeError(what, expected, value);
  });
}

/** Anything `instanceof` accepts on its right (a class, even one with a protected constructor). */
type InstanceTest = { [Symbol.hasInstance](value: unknown): boolean };

/** Instances of a class (checked with `instanceof`), e.g. `instance(Tensor, 'a Tensor')`. */
function instance(type: InstanceTest, expected: string): OptionSpec {
  return spec(expected, (value, what) => {
    if (!(value instanceof type)) throw typeError(what, expected, value);
  });
}

/** An array of instances of a class, e.g. `arrayOf(Tensor, 'a Tensor')`. */
function arrayOf(type: InstanceTest, itemExpected: string): OptionSpec {
  const expected = `an array, each element ${itemExpected}`;
  return spec(expected, (value, what) => {
    if (!Array.isArray(value)) throw typeError(what, expected, value);
    value.forEach((v, i) => {
      if (!(v instanceof type)) throw typeError(`${what}[${i}]`, itemExpected, v);
    });
  });
}

/** Whether `value` is an array, typed array or other array-like object holding only numbers. */
export function isArrayLikeOfNumbers(value: unknown): value is ArrayLike<number> {
  if (value instanceof Float32Array || value instanceof Float64Array) return true;
  if (ArrayBuffer.isView(value))
    return !(value instanceof DataView) && !(value instanceof BigInt64Array || value instanceof BigUint64Array);
  if (typeof value !== 'object' || value === null || typeof (value as ArrayLike<unknown>).length !== 'number') return false;
  const items = value as ArrayLike<unknown>;
  for (let i = 0; i < items.length; i++) if (typeof items[i] !== 'number') return false;
  return true;
}

/** Checks (and describes) a value that must be an array-like of numbers, naming the first bad element. */
export function assertArrayLikeOfNumbers(value: unknown, what: string): asserts value is ArrayLike<number> {
  if (isArrayLikeOfNumbers(value)) return;
  const expected = 'an array or typed array of numbers';
  if (typeof value !== 'object' || value === null || typeof (value as ArrayLike<unknown>).length !== 'number') {
    throw typeError(what, expected, value);
  }
  const items = value as ArrayLike<unknown>;
  for (let i = 0; i < items.length; i++) {
    if (typeof items[i] !== 'number') {
      const nested =
        Array.isArray(items[i]) || ArrayBuffer.isView(items[i]) ? '; nested arrays are not read: pass flat data and a shape' : '';
      throw new OptionsError(`${what}[${i}] must be a number, received ${describeValue(items[i])}${nested}`);
    }
  }
  throw typeError(what, expected, value);
}

/**
 * `value` as numbers ready to upload: a typed array of numbers as it is (never scanned), any
 * other array-like checked and copied into a Float64Array in one pass, so the checked
 * backend's upload sees a typed array and does not scan it again.
 */
export function hostNumbers(value: unknown, what: string): ArrayLike<number> {
  if (ArrayBuffer.isView(value) || value instanceof Float32Array || value instanceof Float64Array) {
    assertArrayLikeOfNumbers(value, what);
    return value;
  }
  if (typeof value !== 'object' || value === null || typeof (value as ArrayLike<unknown>).length !== 'number') {
    assertArrayLikeOfNumbers(value, what);
  }
  const items = value as ArrayLike<unknown>;
  const out = new Float64Array(items.length);
  for (let i = 0; i < items.length; i++) {
    const item = items[i];
    if (typeof item !== 'number') assertArrayLikeOfNumbers(value, what);
    out[i] = item as number;
  }
  return out;
}

/** The type specs options are built from; wrap one in `required(…)` for a mandatory key. */
export const option = {
  boolean: spec('a boolean (true or false)', (value, what) => {
    if (typeof value !== 'boolean') throw typeError(what, 'a boolean (true or false)', value);
  }),
  finiteNumber: numberSpec('a finite number', Number.isFinite),
  nonNegativeNumber: numberSpec('a finite number ≥ 0', (v) => Number.isFinite(v) && v >= 0),
  positiveNumber: numberSpec('a finite number > 0', (v) => Number.isFinite(v) && v > 0),
  positiveInteger: numberSpec('a positive integer', (v) => Number.isInteger(v) && v >= 1),
  nonNegativeInteger: numberSpec('an integer ≥ 0', (v) => Number.isInteger(v) && v >= 0),
  numberIn,
  oneOf,
  instance,
  arrayOf,
  function: spec('a function', (value, what) => {
    if (typeof value !== 'function') throw typeError(what, 'a function', value);
  }),
  arrayLikeOfNumbers: spec('an array or typed array of numbers', (value, what) => assertArrayLikeOfNumbers(value, what)),
  /** A Backend instance (recognised by its methods, so wrappers such as a Proxy qualify). */
  backend: spec('a Backend', (value, what) => {
    const b = value as { upload?: unknown; read?: unknown } | null;
    if (typeof b !== 'object' || b === null || typeof b.upload !== 'function' || typeof b.read !== 'function') {
      throw typeError(what, 'a Backend (from createBackend)', value);
    }
  }),
  /** A plain object, e.g. a nested options object checked elsewhere. */
  object: spec('an object', (value, what) => {
    if (!isPlainObject(value)) throw typeError(what, 'an object', value);
  }),
  /** Anything at all (a value the callee passes through, such as a BPTT state). */
  anything: spec('anything', () => {}),
  /** Either of two specs: e.g. a number or an array of numbers. */
  either(a: OptionSpec, b: OptionSpec): OptionSpec {
    const expected = `${a.expected} or ${b.expected}`;
    return spec(expected, (value, what) => {
      try {
        a.check(value, what);
      } catch (first) {
        try {
          b.check(value, what);
        } catch {
          // A range error of the matching type says more than a type error listing both.
          if (first instanceof ValueRangeError) throw first;
          throw typeError(what, expected, value);
        }
      }
    });
  },
} as const;

/** The same spec, but the key must be present (and not `undefined`). */
export function required(base: OptionSpec): OptionSpec {
  return { ...base, required: true };
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Levenshtein distance (insertions, deletions, substitutions), for spelling suggestions. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length];
}

/**
 * The known key `key` was most likely meant to be, or undefined when none is close: the same
 * name in another case or in snake_case (`num_layers`), a prefix (`hidden` for `hiddenSize`), or
 * one within an edit distance of about a third of its length (`numLayer`, `bidirectonal`).
 */
export function nearestKey(key: string, known: readonly string[]): string | undefined {
  const normalize = (s: string) => s.toLowerCase().replace(/[_-]/g, '');
  const k = normalize(key);
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of known) {
    const c = normalize(candidate);
    let distance = editDistance(k, c);
    if (k.length >= 3 && c.startsWith(k)) distance = Math.min(distance, 1);
    const limit = Math.max(1, Math.floor(c.length / 3));
    if (distance <= limit && distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/**
 * Checks an options object against its schema and returns it (an absent one as `{}`).
 * - `options` must be a plain object or undefined (`null`, a number, a tensor → `OptionsError`);
 * - a key the schema does not know → `OptionsError` suggesting the nearest known key;
 * - a missing required key, or a value of the wrong type → `OptionsError` naming key, expected
 *   type and received value; a number out of range → `ValueRangeError`.
 * Keys whose value is `undefined` count as absent. `where` prefixes every message (`'LSTM'`,
 * `'LSTM.forward'`).
 */
export function checkOptions<T extends object>(where: string, options: T | undefined, schema: OptionsSchema<T>): T {
  if (options === undefined) options = {} as T;
  if (!isPlainObject(options)) {
    throw new OptionsError(`${where}: options must be an object such as { key: value }, received ${describeValue(options)}`);
  }
  const specs = schema as Readonly<Record<string, OptionSpec>>;
  const known = Object.keys(specs);
  const unknown = Object.keys(options).filter((key) => !Object.hasOwn(specs, key) && options[key] !== undefined);
  if (unknown.length > 0) throw unknownKeysError(where, unknown, known);
  for (const key of known) {
    const s = specs[key];
    const value = options[key];
    if (value === undefined) {
      if (s.required) throw new OptionsError(`${where}: option '${key}' is required (${s.expected})`);
      continue;
    }
    s.check(value, `${where}: option '${key}'`);
  }
  return options as T;
}

function unknownKeysError(where: string, unknown: string[], known: string[]): OptionsError {
  const knownList = `known options: ${known.join(', ')}`;
  if (unknown.length === 1) {
    const near = nearestKey(unknown[0], known);
    return new OptionsError(`${where}: unknown option '${unknown[0]}'; ${near ? `did you mean '${near}'?` : knownList}`);
  }
  const described = unknown.map((key) => {
    const near = nearestKey(key, known);
    return near ? `'${key}' (did you mean '${near}'?)` : `'${key}'`;
  });
  return new OptionsError(`${where}: unknown options ${described.join(', ')}; ${knownList}`);
}
