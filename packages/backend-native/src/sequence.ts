/**
 * The fused sequence kernels (`fused.sequence.forward/backward`, `fused.stack.forward`) as addon
 * calls. Layouts are in src/native/sequence.h; the checked wrapper has validated every argument
 * (and that a backward's `saved` came from a forward of the same sizes).
 */
import {
  CELL_KINDS,
  type CellKind,
  GATE_COUNT,
  SAVED_BLOCKS,
  type SequenceBackwardArgs,
  type SequenceBackwardResult,
  type SequenceForwardArgs,
  type SequenceForwardResult,
  type SequenceStackForwardArgs,
  type SequenceStackForwardResult,
} from '@recur/core/backend';
import type { NativeEngine, NativeHandle, SequenceCallArgs } from './addon.js';
import { handleOf, NativeBuffer, optionalHandle } from './buffer.js';

/** Length of the forward's `saved` workspace: cells [T,B,S·H], hs [T+1,B,H], cs (LSTM). */
export function sequenceSavedLength(kind: CellKind, steps: number, batch: number, hidden: number): number {
  const states = (steps + 1) * batch * hidden;
  return steps * batch * SAVED_BLOCKS[kind] * hidden + (kind === 'lstm' ? 2 : 1) * states;
}

function sequenceCall(args: SequenceForwardArgs): SequenceCallArgs {
  const lstm = args.kind === 'lstm';
  return [
    CELL_KINDS.indexOf(args.kind),
    args.steps,
    args.batch,
    args.inputSize,
    args.hidden,
    handleOf(args.x),
    handleOf(args.wIh),
    handleOf(args.wHh),
    optionalHandle(args.bIh),
    optionalHandle(args.bHh),
    handleOf(args.h0),
    lstm ? optionalHandle(args.c0) : null,
    args.lengths ?? null,
  ];
}

export function sequenceForward(engine: NativeEngine, args: SequenceForwardArgs): SequenceForwardResult {
  const { kind, steps: T, batch: B, hidden: H } = args;
  const save = args.saveForBackward !== false;
  const [output, hN, cN, saved] = engine.sequenceForward(...sequenceCall(args), save);
  const result: SequenceForwardResult = {
    output: new NativeBuffer(output, T * B * H),
    hN: new NativeBuffer(hN, B * H),
    saved: new NativeBuffer(saved, save ? sequenceSavedLength(kind, T, B, H) : 0),
  };
  if (cN) result.cN = new NativeBuffer(cN, B * H);
  return result;
}

export function sequenceBackward(engine: NativeEngine, args: SequenceBackwardArgs): SequenceBackwardResult {
  const { kind, steps: T, batch: B, inputSize: I, hidden: H } = args;
  const GH = GATE_COUNT[kind] * H;
  const dcN = kind === 'lstm' ? optionalHandle(args.dcN) : null;
  const [dx, dWIh, dWHh, dBIh, dBHh, dh0, dc0] = engine.sequenceBackward(
    ...sequenceCall(args),
    handleOf(args.saved),
    handleOf(args.dOutput),
    handleOf(args.dhN),
    dcN,
  );
  const result: SequenceBackwardResult = {
    dx: new NativeBuffer(dx, T * B * I),
    dWIh: new NativeBuffer(dWIh, GH * I),
    dWHh: new NativeBuffer(dWHh, GH * H),
    dh0: new NativeBuffer(dh0, B * H),
  };
  if (dBIh) result.dBIh = new NativeBuffer(dBIh, GH);
  if (dBHh) result.dBHh = new NativeBuffer(dBHh, GH);
  if (dc0) result.dc0 = new NativeBuffer(dc0, B * H);
  return result;
}

/** Runs once per generated token in single-sequence inference: a plain loop, no closures. */
export function sequenceStackForward(engine: NativeEngine, args: SequenceStackForwardArgs): SequenceStackForwardResult {
  const { steps: T, batch: B, inputSize: I, hidden: H, layers } = args;
  const weights: (NativeHandle | null)[] = [];
  for (let l = 0; l < layers.length; l++) {
    const layer = layers[l];
    weights.push(handleOf(layer.wIh), handleOf(layer.wHh), optionalHandle(layer.bIh), optionalHandle(layer.bHh));
  }
  const c0 = args.kind === 'lstm' ? optionalHandle(args.c0) : null;
  const lengths = args.lengths ?? null;
  const [output, hN, cN] = engine.sequenceStackForward(
    CELL_KINDS.indexOf(args.kind),
    T,
    B,
    I,
    H,
    handleOf(args.x),
    weights,
    optionalHandle(args.h0),
    c0,
    lengths,
  );
  const states = layers.length * B * H;
  const result: SequenceStackForwardResult = { output: new NativeBuffer(output, T * B * H), hN: new NativeBuffer(hN, states) };
  if (cN) result.cN = new NativeBuffer(cN, states);
  return result;
}
