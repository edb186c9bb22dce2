/** Fused sequences: the per-step gate kernels of `sequenceForward`/`sequenceBackward` and their `saved` layout. */
import type { CellKind } from '@recur/core/backend';
import { GATE_COUNT, SAVED_BLOCKS } from '@recur/core/backend';
import { CELL_GRAD_VARS, CELL_VARS, cellBackwardMath, cellForwardMath, STATE_ELEMENT } from './cells.js';
import { ELEMENTWISE_ENTRY, type KernelSource, PRELUDE, storageDecl } from './prelude.js';

/**
 * Layout of the fused sequence's `saved` buffer (element offsets):
 *   cells [T, B, S·H] | hs [T + 1, B, H] | cs [T + 1, B, H] (LSTM) | lengths [B] (as f32)
 */
export function sequenceLayout(kind: CellKind, T: number, B: number, H: number) {
  const cells = T * B * SAVED_BLOCKS[kind] * H;
  const states = (T + 1) * B * H;
  const hs = cells;
  const cs = hs + states;
  const lengths = cs + (kind === 'lstm' ? states : 0);
  return { hs, cs, lengths, total: lengths + B };
}

/**
 * One step of the fused sequence forward. Bindings: gxAll [T, B, G·H], gh [B, G·H], saved (rw).
 * params: B, H, t, hasLengths, hsOff, csOff, lenOff. Rows past their length carry the state.
 */
export function sequenceStepForwardKernel(kind: CellKind): KernelSource {
  const G = GATE_COUNT[kind];
  return {
    key: `seq-fwd:${kind}`,
    storage: ['read', 'read', 'rw'],
    code: `${PRELUDE}${storageDecl(1, 'GX', 'read')}${storageDecl(2, 'GH', 'read')}${storageDecl(3, 'SV', 'rw')}
${ELEMENTWISE_ENTRY} {
  ${STATE_ELEMENT}
  let t = pu(2u);
  let hsPrev = pu(4u) + t * BH;
  ${forwardStepUpdate(kind, `gh[k] = GH[b * ${G}u * H + j + k * H];`)}
}`,
  };
}

/**
 * The cell update of forward step t for element i = (b, j) of the batch, shared by the split
 * (this file) and fused (sequence-fused.ts) step kernels: rows past their length carry the
 * state and zero their saved cells; live rows run the cell and write its activations and new
 * state into `saved`. Expects B, H, BH, t, b, j, i and hsPrev in scope and GX, SV bound;
 * `readGh` is WGSL that sets gh[k] inside the loop over the gates k.
 */
export function forwardStepUpdate(kind: CellKind, readGh: string): string {
  const G = GATE_COUNT[kind];
  const S = SAVED_BLOCKS[kind];
  const lstm = kind === 'lstm';
  return `let csPrev = pu(5u) + t * BH;
  let hp = SV[hsPrev + i];
  let cp = ${lstm ? 'SV[csPrev + i]' : '0.0'};
  let live = pu(3u) == 0u || f32(t) < SV[pu(6u) + b];
  let cells = t * B * ${S}u * H + b * ${S}u * H + j;
  if (!live) {
    SV[hsPrev + BH + i] = hp;
    ${lstm ? 'SV[csPrev + BH + i] = cp;' : ''}
    for (var k = 0u; k < ${S}u; k++) { SV[cells + k * H] = 0.0; }
    return;
  }
  ${CELL_VARS}
  let gxBase = t * B * ${G}u * H + b * ${G}u * H + j;
  for (var k = 0u; k < ${G}u; k++) {
    gx[k] = GX[gxBase + k * H];
    ${readGh}
  }
  ${cellForwardMath(kind)}
  for (var k = 0u; k < ${S}u; k++) { SV[cells + k * H] = sv[k]; }
  SV[hsPrev + BH + i] = hn;
  ${lstm ? 'SV[csPrev + BH + i] = cn;' : ''}`;
}

/** output[t, b, j] = live ? hs[t + 1][b, j] : 0. Bindings saved, output. params: T·B·H, B, H, hasLengths, hsOff, lenOff. */
export function sequenceOutputKernel(): KernelSource {
  return {
    key: 'seq-out',
    storage: ['read', 'rw'],
    code: `${PRELUDE}${storageDecl(1, 'SV', 'read')}${storageDecl(2, 'Y', 'rw')}
${ELEMENTWISE_ENTRY} {
  let i = gindex(gid, nwg);
  if (i >= pu(0u)) { return; }
  let B = pu(1u);
  let H = pu(2u);
  let t = i / (B * H);
  let b = (i / H) % B;
  let live = pu(3u) == 0u || f32(t) < SV[pu(5u) + b];
  Y[i] = select(0.0, SV[pu(4u) + B * H + i], live);
}`,
  };
}

/**
 * One step of the fused sequence backward. Bindings: saved, dOutput [T, B, H],
 * dState (rw) [dh B·H | dc B·H], dG (rw) [dGx T·B·G·H | dGh T·B·G·H].
 * params: B, H, t, hasLengths, hsOff, csOff, lenOff, T.
 * Writes step t's gate gradients (zero on finished rows) and replaces dState by the
 * element-wise part of the gradient on the previous state; the caller then adds dGh_t·W_hh.
 */
export function sequenceStepBackwardKernel(kind: CellKind): KernelSource {
  const G = GATE_COUNT[kind];
  return {
    key: `seq-bwd:${kind}`,
    storage: ['read', 'read', 'rw', 'rw'],
    code: `${PRELUDE}${storageDecl(1, 'SV', 'read')}${storageDecl(2, 'DO', 'read')}${storageDecl(3, 'DS', 'rw')}${storageDecl(4, 'DG', 'rw')}
${ELEMENTWISE_ENTRY} {
  ${STATE_ELEMENT}
  let t = pu(2u);
  let T = pu(7u);
  let gBase = t * B * ${G}u * H + b * ${G}u * H + j;
  let dGhOff = T * B * ${G}u * H;
  let live = pu(3u) == 0u || f32(t) < SV[pu(6u) + b];
  if (!live) {
    for (var k = 0u; k < ${G}u; k++) { DG[gBase + k * H] = 0.0; DG[dGhOff + gBase + k * H] = 0.0; }
    return;
  }
  ${backwardStepUpdate(kind, { grads: 'DG', state: 'DS', stateOffset: '', dh: 'DS[i] + DO[t * BH + i]' })}
}`,
  };
}

/**
 * The cell backward of step t for element i = (b, j), shared by the split (this file) and fused
 * (sequence-fused.ts) backward step kernels, for a live row: reads the step's saved activations
 * and the state gradient `dh` (a WGSL expression; dc is `state[stateOffset BH + i]` for LSTM),
 * writes the gate gradients at `grads[gBase + k·H]` (x side) and `grads[dGhOff + gBase + k·H]`
 * (h side), and leaves the element-wise gradient on the previous state in `state`. Expects
 * B, H, BH, t, b, j, i, gBase and dGhOff in scope and SV bound.
 */
export function backwardStepUpdate(kind: CellKind, io: { grads: string; state: string; stateOffset: string; dh: string }): string {
  const G = GATE_COUNT[kind];
  const S = SAVED_BLOCKS[kind];
  const lstm = kind === 'lstm';
  const { grads, state, stateOffset } = io;
  return `${CELL_GRAD_VARS}
  let cells = t * B * ${S}u * H + b * ${S}u * H + j;
  for (var k = 0u; k < ${S}u; k++) { sv[k] = SV[cells + k * H]; }
  let hp = SV[pu(4u) + t * BH + i];
  let cp = ${lstm ? 'SV[pu(5u) + t * BH + i]' : '0.0'};
  let dh = ${io.dh};
  let dc = ${lstm ? `${state}[${stateOffset}BH + i]` : '0.0'};
  ${cellBackwardMath(kind)}
  for (var k = 0u; k < ${G}u; k++) { ${grads}[gBase + k * H] = dgx[k]; ${grads}[dGhOff + gBase + k * H] = dgh[k]; }
  ${state}[${stateOffset}i] = dhp;
  ${lstm ? `${state}[${stateOffset}BH + i] = dcp;` : ''}`;
}
