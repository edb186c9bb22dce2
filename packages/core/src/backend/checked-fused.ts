/**
 * The checked form of a backend's optional fused kernels (`backend.fused`). A sequence's
 * `saved` workspace has a backend-chosen layout, so instead of a length the wrapper checks its
 * provenance: a backward call only accepts a `saved` that a forward call of the same kind and
 * sizes returned (and that was saved, not the empty one of `saveForBackward: false`).
 */
import { ShapeError } from '../errors.js';
import { type BufferLedger, indices, integer, object, oneOf, optionalBoolean } from './checks.js';
import { CELL_KINDS, GATE_COUNT } from './constants.js';
import type { Backend, FusedKernels, SequenceBackwardArgs, SequenceForwardArgs, SequenceStackForwardArgs } from './interface.js';

interface Sizes {
  kind: SequenceForwardArgs['kind'];
  steps: number;
  batch: number;
  inputSize: number;
  hidden: number;
}

const signature = (s: Sizes) => `${s.kind} steps ${s.steps}, batch ${s.batch}, inputSize ${s.inputSize}, hidden ${s.hidden}`;

function checkSizes(M: string, args: Sizes): Sizes {
  object(M, 'args', args);
  return {
    kind: oneOf(M, 'kind', args.kind, CELL_KINDS),
    steps: integer(M, 'steps', args.steps),
    batch: integer(M, 'batch', args.batch),
    inputSize: integer(M, 'inputSize', args.inputSize),
    hidden: integer(M, 'hidden', args.hidden),
  };
}

function checkLengths(M: string, lengths: unknown, batch: number, steps: number): void {
  if (lengths !== undefined) indices(M, 'lengths', lengths, 0, steps + 1, batch);
}

/** One layer's weights: `wIh [G·H, inputs]`, `wHh [G·H, H]`, optional biases `[G·H]`. */
function checkWeights(
  ledger: BufferLedger,
  M: string,
  prefix: string,
  w: { wIh: unknown; wHh: unknown; bIh?: unknown; bHh?: unknown },
  kind: Sizes['kind'],
  inputs: number,
  hidden: number,
): void {
  const rows = GATE_COUNT[kind] * hidden;
  ledger.sized(M, `${prefix}wIh`, w.wIh, rows * inputs, () => `[G·hidden, inputs] = [${rows}, ${inputs}]`);
  ledger.sized(M, `${prefix}wHh`, w.wHh, rows * hidden, () => `[G·hidden, hidden] = [${rows}, ${hidden}]`);
  ledger.optional(M, `${prefix}bIh`, w.bIh, rows, () => `[G·hidden] = [${rows}]`);
  ledger.optional(M, `${prefix}bHh`, w.bHh, rows, () => `[G·hidden] = [${rows}]`);
}

function checkSequenceForward(ledger: BufferLedger, M: string, args: SequenceForwardArgs): Sizes {
  ledger.alive(M);
  const s = checkSizes(M, args);
  ledger.sized(
    M,
    'x',
    args.x,
    s.steps * s.batch * s.inputSize,
    () => `[steps, batch, inputSize] = [${s.steps}, ${s.batch}, ${s.inputSize}]`,
  );
  checkWeights(ledger, M, '', args, s.kind, s.inputSize, s.hidden);
  const state = () => `[batch, hidden] = [${s.batch}, ${s.hidden}]`;
  ledger.sized(M, 'h0', args.h0, s.batch * s.hidden, state);
  if (s.kind === 'lstm') ledger.optional(M, 'c0', args.c0, s.batch * s.hidden, state);
  else if (args.c0 !== undefined) throw new ShapeError(`${M}: c0 is the LSTM cell state; a ${s.kind} layer takes none`);
  checkLengths(M, args.lengths, s.batch, s.steps);
  optionalBoolean(M, 'saveForBackward', args.saveForBackward);
  ledger.allocation(M, 'the output', s.steps * s.batch * s.hidden);
  ledger.allocation(M, 'the input projection', s.steps * s.batch * GATE_COUNT[s.kind] * s.hidden);
  return s;
}

export function checkedFused(backend: Backend, ledger: BufferLedger): FusedKernels {
  const { sequence, stack } = backend.fused;
  /** Where each live, non-empty `saved` workspace came from. */
  const provenance = new WeakMap<object, string>();
  const fused: { sequence?: FusedKernels['sequence']; stack?: FusedKernels['stack'] } = {};
  if (sequence) {
    fused.sequence = {
      forward(args) {
        const s = checkSequenceForward(ledger, 'fused.sequence.forward', args);
        const result = sequence.forward(args);
        ledger.adopt(result.output);
        ledger.adopt(result.hN);
        ledger.adopt(result.cN);
        ledger.adopt(result.saved);
        if (result.saved.length > 0) provenance.set(result.saved, signature(s));
        return result;
      },
      backward(args: SequenceBackwardArgs) {
        const M = 'fused.sequence.backward';
        const s = checkSequenceForward(ledger, M, args);
        ledger.owned(M, 'saved', args.saved);
        const from = provenance.get(args.saved);
        if (from !== signature(s)) {
          throw new ShapeError(
            `${M}: saved must come from fused.sequence.forward with the same sizes and saveForBackward (${signature(s)}); ${from ? `it came from one with ${from}` : 'it did not come from a saving forward call'}`,
          );
        }
        ledger.sized(M, 'dOutput', args.dOutput, s.steps * s.batch * s.hidden, () => '[steps, batch, hidden]');
        ledger.sized(M, 'dhN', args.dhN, s.batch * s.hidden, () => '[batch, hidden]');
        if (s.kind === 'lstm') ledger.optional(M, 'dcN', args.dcN, s.batch * s.hidden, () => '[batch, hidden]');
        else if (args.dcN !== undefined) throw new ShapeError(`${M}: dcN is the LSTM cell-state gradient; a ${s.kind} layer takes none`);
        ledger.allocation(M, 'the weight gradient', GATE_COUNT[s.kind] * s.hidden * Math.max(s.inputSize, s.hidden));
        const result = sequence.backward(args);
        for (const b of [result.dx, result.dWIh, result.dWHh, result.dBIh, result.dBHh, result.dh0, result.dc0]) ledger.adopt(b);
        return result;
      },
    };
  }
  if (stack) {
    fused.stack = {
      forward(args: SequenceStackForwardArgs) {
        const M = 'fused.stack.forward';
        ledger.alive(M);
        const s = checkSizes(M, args);
        if (!Array.isArray(args.layers) || args.layers.length === 0) throw new ShapeError(`${M}: layers must be a non-empty array`);
        const layers = args.layers.length;
        ledger.sized(M, 'x', args.x, s.steps * s.batch * s.inputSize, () => '[steps, batch, inputSize]');
        args.layers.forEach((w, l) => {
          object(M, `layers[${l}]`, w);
          checkWeights(ledger, M, `layers[${l}].`, w, s.kind, l === 0 ? s.inputSize : s.hidden, s.hidden);
        });
        const states = layers * s.batch * s.hidden;
        const describe = () => `[layers, batch, hidden] = [${layers}, ${s.batch}, ${s.hidden}]`;
        ledger.optional(M, 'h0', args.h0, states, describe);
        if (s.kind === 'lstm') ledger.optional(M, 'c0', args.c0, states, describe);
        else if (args.c0 !== undefined) throw new ShapeError(`${M}: c0 is the LSTM cell state; a ${s.kind} stack takes none`);
        checkLengths(M, args.lengths, s.batch, s.steps);
        ledger.allocation(M, 'the output', s.steps * s.batch * s.hidden);
        const result = stack.forward(args);
        ledger.adopt(result.output);
        ledger.adopt(result.hN);
        ledger.adopt(result.cN);
        return result;
      },
    };
  }
  return Object.freeze(fused);
}
