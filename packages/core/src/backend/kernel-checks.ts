/**
 * The argument contracts of the loss and optimizer kernels. An `OptimizerUpdate` must have its
 * kind, then every hyper-parameter of that kind, of the right type and in PyTorch's ranges, and
 * no other key (so a stray key can never switch a kernel). Core's optimizers and losses build
 * calls that pass; these guard direct calls.
 */
import { ShapeError, ValueRangeError } from '../errors.js';
import { type BufferLedger, integer, object, oneOf } from './checks.js';
import {
  CELL_KINDS,
  type CellKind,
  GATE_COUNT,
  OPTIMIZER_KINDS,
  OPTIMIZER_STATE_COUNT,
  type OptimizerKind,
  SAVED_BLOCKS,
} from './constants.js';
import type { BackendBuffer, CrossEntropyArgs, OptimizerUpdate } from './interface.js';

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

/** `optimizerStep`'s update, and its buffers: param, a grad as long, and the kind's state buffers, none aliased. */
export function checkOptimizerStep(
  ledger: BufferLedger,
  M: string,
  update: OptimizerUpdate,
  param: BackendBuffer,
  grad: BackendBuffer,
  state: readonly BackendBuffer[],
): void {
  const stateCount = checkOptimizerUpdate(M, update);
  const p = ledger.owned(M, 'param', param);
  ledger.sized(M, 'grad', grad, p.length, () => 'the length of param');
  if (!Array.isArray(state) || state.length !== stateCount) {
    throw new ShapeError(
      `${M}: a ${update.kind} update takes ${stateCount} state buffers, received ${Array.isArray(state) ? state.length : String(state)}`,
    );
  }
  for (let i = 0; i < state.length; i++) {
    ledger.sized(M, `state[${i}]`, state[i], p.length, () => 'the length of param');
    if (state[i] === param || state[i] === grad) throw new ShapeError(`${M}: state[${i}] must not alias param or grad`);
  }
}

/** `softmaxCrossEntropy`'s sizes, logits, targets (each a class or the ignore index) and the count of rows not ignored. */
export function checkCrossEntropy(ledger: BufferLedger, M: string, args: CrossEntropyArgs): void {
  object(M, 'args', args);
  const rows = integer(M, 'rows', args.rows);
  const classes = integer(M, 'classes', args.classes);
  ledger.sized(M, 'logits', args.logits, rows * classes, () => `[rows, classes] = [${rows}, ${classes}]`);
  const ignoreIndex = integer(M, 'ignoreIndex', args.ignoreIndex, -(2 ** 31), 2 ** 31 - 1);
  if (!(args.targets instanceof Int32Array) || args.targets.length !== rows) {
    throw new ShapeError(`${M}: targets must be an Int32Array with one class id per row (${rows})`);
  }
  let counted = 0;
  for (let i = 0; i < rows; i++) {
    const t = args.targets[i];
    if (t === ignoreIndex) continue;
    if (t < 0 || t >= classes) {
      throw new ValueRangeError(`${M}: targets[${i}] = ${t} lies outside [0, ${classes}) and is not the ignore index ${ignoreIndex}`);
    }
    counted++;
  }
  if (counted === 0) throw new ValueRangeError(`${M}: every row is ignored (ignoreIndex ${ignoreIndex}); nothing to average`);
  if (args.count !== counted) {
    throw new ValueRangeError(`${M}: count must be the number of rows not ignored (${counted}), received ${String(args.count)}`);
  }
}

export interface CellSizes {
  batch: number;
  hidden: number;
  state: number;
  gates: number;
  saved: number;
  describe: () => string;
}

/** The kind, sizes and state buffers shared by `cellForward` and `cellBackward`. */
export function checkCellSizes(
  ledger: BufferLedger,
  M: string,
  kind: CellKind,
  args: { batch: number; hidden: number; h: BackendBuffer; c?: BackendBuffer },
): CellSizes {
  oneOf(M, 'kind', kind, CELL_KINDS);
  object(M, 'args', args);
  const batch = integer(M, 'batch', args.batch);
  const hidden = integer(M, 'hidden', args.hidden);
  const state = batch * hidden;
  const describe = () => `[batch, hidden] = [${batch}, ${hidden}]`;
  ledger.sized(M, 'h', args.h, state, describe);
  if (kind === 'lstm') ledger.optional(M, 'c', args.c, state, describe);
  else if (args.c !== undefined) throw new ShapeError(`${M}: c is the LSTM cell state; a ${kind} cell takes none`);
  return { batch, hidden, state, gates: state * GATE_COUNT[kind], saved: state * SAVED_BLOCKS[kind], describe };
}

/** `cellForward`'s gate pre-activations: `[batch, G·hidden]` each. */
export function checkGates(ledger: BufferLedger, M: string, kind: CellKind, sizes: CellSizes, args: { gx: unknown; gh: unknown }): void {
  const gates = () => `[batch, G·hidden] = [${sizes.batch}, ${GATE_COUNT[kind] * sizes.hidden}]`;
  ledger.sized(M, 'gx', args.gx, sizes.gates, gates);
  ledger.sized(M, 'gh', args.gh, sizes.gates, gates);
}

/** `cellBackward`'s state gradients: `dh`, and `dc` for LSTM only. */
export function checkStateGradients(
  ledger: BufferLedger,
  M: string,
  kind: CellKind,
  sizes: CellSizes,
  args: { dh: unknown; dc?: unknown },
): void {
  ledger.sized(M, 'dh', args.dh, sizes.state, sizes.describe);
  if (kind === 'lstm') ledger.optional(M, 'dc', args.dc, sizes.state, sizes.describe);
  else if (args.dc !== undefined) throw new ShapeError(`${M}: dc is the LSTM cell-state gradient; a ${kind} cell takes none`);
}
