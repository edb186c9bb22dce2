/**
 * Cell kinds as the addon numbers them, and the argument checks and addon calls of the
 * single-step fused cells (`cellForward`, `cellBackward`). Layouts are in src/native/cells.h.
 */
import {
  type CellBackwardArgs,
  type CellBackwardResult,
  type CellForwardArgs,
  type CellForwardResult,
  type CellKind,
  GATE_COUNT,
  ValueRangeError,
} from '@recur/core';
import type { BufferChecks } from './checks.js';
import { count, product } from './validate.js';

const CELL_KINDS: readonly CellKind[] = ['tanh', 'relu', 'lstm', 'gru', 'ugrnn'];
/** Blocks of `hidden` values saved per batch row by a cell's forward (layout in src/native/cells.h). */
export const SAVED_BLOCKS: Readonly<Record<CellKind, number>> = { tanh: 1, relu: 1, lstm: 5, gru: 4, ugrnn: 2 };

/** The addon's code for a cell kind (its index in `CellKind` order). */
export function cellCode(method: string, kind: unknown): number {
  const code = CELL_KINDS.indexOf(kind as CellKind);
  if (code < 0) throw new ValueRangeError(`${method}: kind must be one of ${CELL_KINDS.join(', ')}, received ${String(kind)}`);
  return code;
}

export function cellForward(c: BufferChecks, kind: CellKind, args: CellForwardArgs): CellForwardResult {
  const M = `cellForward(${String(kind)})`;
  c.live(M);
  const code = cellCode(M, kind);
  const batch = count(M, 'batch', args.batch);
  const hidden = count(M, 'hidden', args.hidden);
  const width = product(M, 'gates', batch, GATE_COUNT[kind], hidden);
  const state = batch * hidden;
  const gx = c.sized(M, 'gx', args.gx, width, () => `[batch, ${GATE_COUNT[kind]}·hidden]`);
  const gh = c.sized(M, 'gh', args.gh, width, () => `[batch, ${GATE_COUNT[kind]}·hidden]`);
  const h = c.sized(M, 'h', args.h, state, () => '[batch, hidden]');
  const cState = kind === 'lstm' ? c.optional(M, 'c', args.c, state, () => '[batch, hidden]') : null;
  const [hOut, cOut, saved] = c.engine.cellForward(code, batch, hidden, gx, gh, h, cState);
  const result: CellForwardResult = { h: c.wrap(hOut, state), saved: c.wrap(saved, batch * SAVED_BLOCKS[kind] * hidden) };
  if (cOut) result.c = c.wrap(cOut, state);
  return result;
}

export function cellBackward(c: BufferChecks, kind: CellKind, args: CellBackwardArgs): CellBackwardResult {
  const M = `cellBackward(${String(kind)})`;
  c.live(M);
  const code = cellCode(M, kind);
  const batch = count(M, 'batch', args.batch);
  const hidden = count(M, 'hidden', args.hidden);
  const width = product(M, 'gates', batch, GATE_COUNT[kind], hidden);
  const state = batch * hidden;
  const saved = c.sized(
    M,
    'saved',
    args.saved,
    product(M, 'saved', batch, SAVED_BLOCKS[kind], hidden),
    () => "the cell's forward workspace",
  );
  const h = c.sized(M, 'h', args.h, state, () => '[batch, hidden]');
  const cState = kind === 'lstm' ? c.optional(M, 'c', args.c, state, () => '[batch, hidden]') : null;
  const dh = c.sized(M, 'dh', args.dh, state, () => '[batch, hidden]');
  const dc = kind === 'lstm' ? c.optional(M, 'dc', args.dc, state, () => '[batch, hidden]') : null;
  const [dgx, dgh, dhPrev, dcPrev] = c.engine.cellBackward(code, batch, hidden, saved, h, cState, dh, dc);
  const result: CellBackwardResult = { dgx: c.wrap(dgx, width), dgh: c.wrap(dgh, width), dhPrev: c.wrap(dhPrev, state) };
  if (dcPrev) result.dcPrev = c.wrap(dcPrev, state);
  return result;
}
