/**
 * The single-step fused cells (`cellForward`, `cellBackward`) as addon calls. Layouts are in
 * src/native/cells.h; the checked wrapper has validated every argument.
 */
import {
  CELL_KINDS,
  type CellBackwardArgs,
  type CellBackwardResult,
  type CellForwardArgs,
  type CellForwardResult,
  type CellKind,
  GATE_COUNT,
  SAVED_BLOCKS,
} from '@recur/core/backend';
import type { NativeEngine } from './addon.js';
import { handleOf, NativeBuffer, optionalHandle } from './buffer.js';

export function cellForward(engine: NativeEngine, kind: CellKind, args: CellForwardArgs): CellForwardResult {
  const { batch, hidden } = args;
  const state = batch * hidden;
  const c = kind === 'lstm' ? optionalHandle(args.c) : null;
  const [hOut, cOut, saved] = engine.cellForward(
    CELL_KINDS.indexOf(kind),
    batch,
    hidden,
    handleOf(args.gx),
    handleOf(args.gh),
    handleOf(args.h),
    c,
  );
  const result: CellForwardResult = { h: new NativeBuffer(hOut, state), saved: new NativeBuffer(saved, state * SAVED_BLOCKS[kind]) };
  if (cOut) result.c = new NativeBuffer(cOut, state);
  return result;
}

export function cellBackward(engine: NativeEngine, kind: CellKind, args: CellBackwardArgs): CellBackwardResult {
  const { batch, hidden } = args;
  const state = batch * hidden;
  const gates = state * GATE_COUNT[kind];
  const lstm = kind === 'lstm';
  const [dgx, dgh, dhPrev, dcPrev] = engine.cellBackward(
    CELL_KINDS.indexOf(kind),
    batch,
    hidden,
    handleOf(args.saved),
    handleOf(args.h),
    lstm ? optionalHandle(args.c) : null,
    handleOf(args.dh),
    lstm ? optionalHandle(args.dc) : null,
  );
  const result: CellBackwardResult = {
    dgx: new NativeBuffer(dgx, gates),
    dgh: new NativeBuffer(dgh, gates),
    dhPrev: new NativeBuffer(dhPrev, state),
  };
  if (dcPrev) result.dcPrev = new NativeBuffer(dcPrev, state);
  return result;
}
