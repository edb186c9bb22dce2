/**
 * The contract of an `OptimizerUpdate`: the kind, then every hyper-parameter of that kind
 * present, of the right type and in PyTorch's ranges, and no other key (so a stray key can
 * never switch a kernel). Core's optimizers build updates that pass; this guards direct calls.
 */
import { ValueRangeError } from '../errors.js';
import { integer, object, oneOf } from './checks.js';
import { OPTIMIZER_KINDS, OPTIMIZER_STATE_COUNT, type OptimizerKind } from './constants.js';
import type { OptimizerUpdate } from './interface.js';

/** `[low, high, lowInclusive, highInclusive]` of a real hyper-parameter, or 'boolean' / 'step'. */
type FieldRule = readonly [number, number, boolean, boolean] | 'boolean' | 'step';

const NON_NEGATIVE: FieldRule = [0, Number.POSITIVE_INFINITY, true, false];
const UNIT_OPEN: FieldRule = [0, 1, true, false];

const FIELDS: Readonly<Record<OptimizerKind, Readonly<Record<string, FieldRule>>>> = {
  sgd: {
    lr: NON_NEGATIVE,
    momentum: NON_NEGATIVE,
    dampening: [0, 1, true, true],
    nesterov: 'boolean',
    weightDecay: NON_NEGATIVE,
    firstStep: 'boolean',
  },
  adam: {
    lr: NON_NEGATIVE,
    beta1: UNIT_OPEN,
    beta2: UNIT_OPEN,
    eps: NON_NEGATIVE,
    weightDecay: NON_NEGATIVE,
    decoupled: 'boolean',
    amsgrad: 'boolean',
    step: 'step',
  },
  rmsprop: {
    lr: NON_NEGATIVE,
    alpha: [0, 1, true, true],
    eps: NON_NEGATIVE,
    weightDecay: NON_NEGATIVE,
    momentum: NON_NEGATIVE,
    centered: 'boolean',
  },
};

/** Throws a typed error naming the first bad field; returns the number of state buffers the kind takes. */
export function checkOptimizerUpdate(method: string, update: OptimizerUpdate): number {
  object(method, 'update', update);
  const kind = oneOf(method, 'update.kind', update.kind, OPTIMIZER_KINDS);
  const fields = FIELDS[kind];
  const values = update as unknown as Record<string, unknown>;
  for (const key of Object.keys(values)) {
    if (key !== 'kind' && !(key in fields)) {
      throw new ValueRangeError(`${method}: update.${key} is not a field of a ${kind} update (fields: ${Object.keys(fields).join(', ')})`);
    }
  }
  for (const [key, rule] of Object.entries(fields)) {
    const value = values[key];
    if (rule === 'boolean') {
      if (typeof value !== 'boolean') throw new ValueRangeError(`${method}: update.${key} must be a boolean, received ${String(value)}`);
    } else if (rule === 'step') {
      integer(method, `update.${key}`, value, 1);
    } else {
      const [low, high, lowIn, highIn] = rule;
      const ok =
        typeof value === 'number' &&
        Number.isFinite(value) &&
        (lowIn ? value >= low : value > low) &&
        (highIn ? value <= high : value < high);
      if (!ok) {
        throw new ValueRangeError(
          `${method}: update.${key} must be a finite number in ${lowIn ? '[' : '('}${low}, ${high}${highIn ? ']' : ')'}, received ${String(value)}`,
        );
      }
    }
  }
  return OPTIMIZER_STATE_COUNT[kind];
}
