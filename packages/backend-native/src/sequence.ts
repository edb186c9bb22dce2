/**
 * Argument checks and addon calls of the fused sequence methods (`sequenceForward`,
 * `sequenceBackward`, `sequenceStackForward`). Layouts are in src/native/sequence.h.
 */
import {
  type CellKind,
  GATE_COUNT,
  type SequenceBackwardArgs,
  type SequenceBackwardResult,
  type SequenceForwardArgs,
  type SequenceForwardResult,
  type SequenceStackForwardArgs,
  type SequenceStackForwardResult,
  ShapeError,
  ValueRangeError,
} from '@recur/core';
import type { NativeHandle, SequenceCallArgs } from './addon.js';
import { cellCode, SAVED_BLOCKS } from './cells.js';
import type { BufferChecks } from './checks.js';
import { count, indicesInRange, int32Array, product } from './validate.js';

/** Length of `sequenceForward`'s `saved` workspace: cells [T,B,S·H], hs [T+1,B,H], cs (LSTM). */
export function sequenceSavedLength(kind: CellKind, steps: number, batch: number, hidden: number): number {
  const states = (steps + 1) * batch * hidden;
  return steps * batch * SAVED_BLOCKS[kind] * hidden + (kind === 'lstm' ? 2 : 1) * states;
}

/** Per-row lengths as an Int32Array in [0, steps], or null when omitted. */
function checkedLengths(M: string, lengths: unknown, batch: number, steps: number): Int32Array | null {
  if (lengths === undefined || lengths === null) return null;
  const checked = int32Array(M, 'lengths', lengths);
  if (checked.length !== batch)
    throw new ShapeError(`${M}: lengths must have one entry per batch row (${batch}), received ${checked.length}`);
  indicesInRange(M, 'lengths', checked, steps + 1);
  return checked;
}

function sequenceCall(c: BufferChecks, M: string, args: SequenceForwardArgs): SequenceCallArgs {
  c.live(M);
  const code = cellCode(M, args.kind);
  const T = count(M, 'steps', args.steps);
  const B = count(M, 'batch', args.batch);
  const I = count(M, 'inputSize', args.inputSize);
  const H = count(M, 'hidden', args.hidden);
  const GH = product(M, 'gate rows', GATE_COUNT[args.kind], H);
  product(M, 'the saved workspace', sequenceSavedLength(args.kind, T, B, H));
  product(M, 'the input projection', T, B, GH);
  const x = c.sized(M, 'x', args.x, product(M, 'x', T, B, I), () => `[steps, batch, inputSize] = [${T}, ${B}, ${I}]`);
  const wIh = c.sized(M, 'wIh', args.wIh, product(M, 'wIh', GH, I), () => `[G·hidden, inputSize] = [${GH}, ${I}]`);
  const wHh = c.sized(M, 'wHh', args.wHh, product(M, 'wHh', GH, H), () => `[G·hidden, hidden] = [${GH}, ${H}]`);
  const bIh = c.optional(M, 'bIh', args.bIh, GH, () => '[G·hidden]');
  const bHh = c.optional(M, 'bHh', args.bHh, GH, () => '[G·hidden]');
  const state = () => `[batch, hidden] = [${B}, ${H}]`;
  const h0 = c.sized(M, 'h0', args.h0, B * H, state);
  const c0 = args.kind === 'lstm' ? c.optional(M, 'c0', args.c0, B * H, state) : null;
  return [code, T, B, I, H, x, wIh, wHh, bIh, bHh, h0, c0, checkedLengths(M, args.lengths, B, T)];
}

export function sequenceForward(c: BufferChecks, args: SequenceForwardArgs): SequenceForwardResult {
  const M = `sequenceForward(${String(args?.kind)})`;
  const call = sequenceCall(c, M, args);
  const { kind, steps: T, batch: B, hidden: H } = args;
  const save = args.saveForBackward !== false;
  const [output, hN, cN, saved] = c.engine.sequenceForward(...call, save);
  const result: SequenceForwardResult = {
    output: c.wrap(output, T * B * H),
    hN: c.wrap(hN, B * H),
    saved: c.wrap(saved, save ? sequenceSavedLength(kind, T, B, H) : 0),
  };
  if (cN) result.cN = c.wrap(cN, B * H);
  return result;
}

export function sequenceBackward(c: BufferChecks, args: SequenceBackwardArgs): SequenceBackwardResult {
  const M = `sequenceBackward(${String(args?.kind)})`;
  const call = sequenceCall(c, M, args);
  const { kind, steps: T, batch: B, inputSize: I, hidden: H } = args;
  const GH = GATE_COUNT[kind] * H;
  const state = () => `[batch, hidden] = [${B}, ${H}]`;
  const saved = c.sized(M, 'saved', args.saved, sequenceSavedLength(kind, T, B, H), () => "the forward call's workspace");
  const dOutput = c.sized(M, 'dOutput', args.dOutput, T * B * H, () => `[steps, batch, hidden] = [${T}, ${B}, ${H}]`);
  const dhN = c.sized(M, 'dhN', args.dhN, B * H, state);
  const dcN = kind === 'lstm' ? c.optional(M, 'dcN', args.dcN, B * H, state) : null;
  const [dx, dWIh, dWHh, dBIh, dBHh, dh0, dc0] = c.engine.sequenceBackward(...call, saved, dOutput, dhN, dcN);
  const result: SequenceBackwardResult = {
    dx: c.wrap(dx, T * B * I),
    dWIh: c.wrap(dWIh, GH * I),
    dWHh: c.wrap(dWHh, GH * H),
    dh0: c.wrap(dh0, B * H),
  };
  if (dBIh) result.dBIh = c.wrap(dBIh, GH);
  if (dBHh) result.dBHh = c.wrap(dBHh, GH);
  if (dc0) result.dc0 = c.wrap(dc0, B * H);
  return result;
}

const LAYER_PARTS = ['wIh', 'wHh', 'bIh', 'bHh'] as const;

/**
 * Runs once per generated token in single-sequence inference, so the success path makes no
 * strings and no closures: every buffer is checked inline and only a failure goes through
 * `describeStackError` to find and word the problem.
 */
export function sequenceStackForward(c: BufferChecks, args: SequenceStackForwardArgs): SequenceStackForwardResult {
  const M = 'sequenceStackForward';
  c.live(M);
  const code = cellCode(M, args.kind);
  const T = count(M, 'steps', args.steps);
  const B = count(M, 'batch', args.batch);
  const I = count(M, 'inputSize', args.inputSize);
  const H = count(M, 'hidden', args.hidden);
  const layers = args.layers;
  if (!Array.isArray(layers) || layers.length === 0) throw new ValueRangeError(`${M}: layers must be a non-empty array of layer weights`);
  const L = layers.length;
  const GH = product(M, 'gate rows', GATE_COUNT[args.kind], H);
  product(M, 'the input projection', T, B, GH);
  const BH = product(M, 'a state', B, H);
  const states = product(M, 'the stacked states', L, BH);
  product(M, 'x', T, B, I);
  product(M, 'wIh', GH, Math.max(I, H));
  const lstm = args.kind === 'lstm';
  let ok = c.owns(args.x, T * B * I) && c.ownsOptional(args.h0, states) && (!lstm || c.ownsOptional(args.c0, states));
  const weights: (NativeHandle | null)[] = [];
  for (let l = 0; ok && l < L; l++) {
    const layer = layers[l];
    ok = layer !== null && typeof layer === 'object' && c.owns(layer.wIh, GH * (l === 0 ? I : H)) && c.owns(layer.wHh, GH * H);
    ok &&= c.ownsOptional(layer.bIh, GH) && c.ownsOptional(layer.bHh, GH);
    if (ok) weights.push(c.unchecked(layer.wIh), c.unchecked(layer.wHh), c.uncheckedOptional(layer.bIh), c.uncheckedOptional(layer.bHh));
  }
  if (!ok) describeStackError(c, M, args, T, B, I, H, GH, states);
  const lengths = checkedLengths(M, args.lengths, B, T);
  const h0 = c.uncheckedOptional(args.h0);
  const c0 = lstm ? c.uncheckedOptional(args.c0) : null;
  const [output, hN, cN] = c.engine.sequenceStackForward(code, T, B, I, H, c.unchecked(args.x), weights, h0, c0, lengths);
  const result: SequenceStackForwardResult = { output: c.wrap(output, T * BH), hN: c.wrap(hN, states) };
  if (cN) result.cN = c.wrap(cN, states);
  return result;
}

/** Throws the typed error for the first bad buffer of a `sequenceStackForward` call (one is known to be bad). */
function describeStackError(
  c: BufferChecks,
  M: string,
  args: SequenceStackForwardArgs,
  T: number,
  B: number,
  I: number,
  H: number,
  GH: number,
  states: number,
): never {
  c.sized(M, 'x', args.x, T * B * I, () => `[steps, batch, inputSize] = [${T}, ${B}, ${I}]`);
  const stacked = () => `[layers, batch, hidden] = [${args.layers.length}, ${B}, ${H}]`;
  c.optional(M, 'h0', args.h0, states, stacked);
  if (args.kind === 'lstm') c.optional(M, 'c0', args.c0, states, stacked);
  args.layers.forEach((layer, l) => {
    if (layer === null || typeof layer !== 'object') throw new ValueRangeError(`${M}: layers[${l}] must be an object of weight buffers`);
    const [wIh, wHh, bIh, bHh] = LAYER_PARTS.map((part) => `layers[${l}].${part}`);
    const inputs = l === 0 ? I : H;
    c.sized(M, wIh, layer.wIh, GH * inputs, () => `[G·hidden, ${l === 0 ? 'inputSize' : 'hidden'}] = [${GH}, ${inputs}]`);
    c.sized(M, wHh, layer.wHh, GH * H, () => `[G·hidden, hidden] = [${GH}, ${H}]`);
    c.optional(M, bIh, layer.bIh, GH, () => '[G·hidden]');
    c.optional(M, bHh, layer.bHh, GH, () => '[G·hidden]');
  });
  throw new ValueRangeError(`${M}: invalid buffer arguments`);
}
