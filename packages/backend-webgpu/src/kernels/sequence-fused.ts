/**
 * One dispatch per time step: the recurrent product and the cell in one kernel
 * (`stepKernel: 'fused'`). The split path (kernels/sequence.ts) runs a GEMM and then a gate
 * kernel per step, with the gate pre-activations making a round trip through memory in between;
 * these kernels keep them in registers and halve the dispatches of a layer.
 *
 * A workgroup owns a tile of STEP_BATCH_TILE batch rows × STEP_UNIT_TILE hidden units and every
 * gate of those units, so the cell update needs nothing from another workgroup. The operands
 * of the product are staged through workgroup memory in chunks of STEP_K_CHUNK.
 */
import type { CellKind } from '@recur/core/backend';
import { GATE_COUNT } from '@recur/core/backend';
import { type KernelSource, PRELUDE, storageDecl, WG } from './prelude.js';
import { backwardStepUpdate, forwardStepUpdate } from './sequence.js';

export const STEP_BATCH_TILE = 4;
export const STEP_UNIT_TILE = 16;
const KC = 16;

const TILE_CONSTANTS = `const BT: u32 = ${STEP_BATCH_TILE}u;
const JT: u32 = ${STEP_UNIT_TILE}u;
const KC: u32 = ${KC}u;`;

const TILE_ENTRY = `@compute @workgroup_size(${WG})
fn main(@builtin(local_invocation_index) li: u32, @builtin(workgroup_id) wid: vec3<u32>)`;

/**
 * Forward step t. Bindings: gxAll [T, B, G·H] (input projections, b_ih included), wHh [G·H, H],
 * bHh [G·H] (any buffer when params[7] = 0), saved (rw, layout of `sequenceLayout`).
 * params: B, H, t, hasLengths, hsOff, csOff, lenOff, hasBias. Grid: [⌈H/JT⌉, ⌈B/BT⌉].
 */
export function fusedStepForwardKernel(kind: CellKind): KernelSource {
  const G = GATE_COUNT[kind];
  return {
    key: `seq-fused-fwd:${kind}`,
    storage: ['read', 'read', 'read', 'rw'],
    code: `${PRELUDE}${storageDecl(1, 'GX', 'read')}${storageDecl(2, 'W', 'read')}${storageDecl(3, 'BHH', 'read')}${storageDecl(4, 'SV', 'rw')}
${TILE_CONSTANTS}
var<workgroup> hTile: array<f32, ${STEP_BATCH_TILE * KC}>;
var<workgroup> wTile: array<f32, ${G * STEP_UNIT_TILE * KC}>;
${TILE_ENTRY} {
  let B = pu(0u);
  let H = pu(1u);
  let BH = B * H;
  let t = pu(2u);
  let hsPrev = pu(4u) + t * BH;
  let b = wid.y * BT + li / JT;
  let j = wid.x * JT + li % JT;
  var acc: array<f32, ${G}>;
  // acc[k] = Σ_p h[b, p] · W_hh[k·H + j, p], KC columns at a time.
  for (var p0 = 0u; p0 < H; p0 += KC) {
    let hb = wid.y * BT + li / KC;
    let hp = p0 + li % KC;
    var hv = 0.0;
    if (hb < B && hp < H) { hv = SV[hsPrev + hb * H + hp]; }
    hTile[li] = hv;
    for (var e = li; e < ${G}u * JT * KC; e += ${WG}u) {
      let unit = wid.x * JT + (e / KC) % JT;
      let col = p0 + e % KC;
      var wv = 0.0;
      if (unit < H && col < H) { wv = W[(e / (JT * KC) * H + unit) * H + col]; }
      wTile[e] = wv;
    }
    workgroupBarrier();
    for (var q = 0u; q < KC; q++) {
      let h = hTile[(li / JT) * KC + q];
      for (var k = 0u; k < ${G}u; k++) { acc[k] += h * wTile[(k * JT + li % JT) * KC + q]; }
    }
    workgroupBarrier();
  }
  if (b >= B || j >= H) { return; }
  let i = b * H + j;
  ${forwardStepUpdate(kind, 'gh[k] = acc[k];\n    if (pu(7u) != 0u) { gh[k] += BHH[k * H + j]; }')}
}`,
  };
}

/**
 * Layout of the fused backward's workspace (element offsets):
 *   dGx [T, B, G·H] | dGh [T, B, G·H] | dOutput [T, B, H] | dState [dh B·H | dc B·H (LSTM)]
 */
export function fusedBackwardLayout(kind: CellKind, T: number, B: number, H: number) {
  const gates = T * B * GATE_COUNT[kind] * H;
  const dOutput = 2 * gates;
  const dState = dOutput + T * B * H;
  return { dGh: gates, dOutput, dState, total: dState + (kind === 'lstm' ? 2 : 1) * B * H };
}

/**
 * Backward step t. Bindings: saved, wHh [G·H, H], workspace (rw, `fusedBackwardLayout`).
 * params: B, H, t, hasLengths, hsOff, csOff, lenOff, T, next, hasNext, cellStep, dOutputOff, dStateOff.
 * First folds the recurrent part of the state gradient, dh[b, j] += Σ_r dGh_next[b, r]·W_hh[r, j]
 * (when hasNext), then (when cellStep) runs the cell backward of step t: writes step t's gate
 * gradients (zero on finished rows) and leaves the element-wise part of the gradient on the
 * previous state in dState, for the next dispatch to complete. With cellStep = 0 and next = 0
 * it completes dh0. Grid: [⌈H/JT⌉, ⌈B/BT⌉].
 */
export function fusedStepBackwardKernel(kind: CellKind): KernelSource {
  const G = GATE_COUNT[kind];
  return {
    key: `seq-fused-bwd:${kind}`,
    storage: ['read', 'read', 'rw'],
    code: `${PRELUDE}${storageDecl(1, 'SV', 'read')}${storageDecl(2, 'W', 'read')}${storageDecl(3, 'WS', 'rw')}
${TILE_CONSTANTS}
var<workgroup> gTile: array<f32, ${STEP_BATCH_TILE * KC}>;
var<workgroup> wTile: array<f32, ${KC * STEP_UNIT_TILE}>;
${TILE_ENTRY} {
  let B = pu(0u);
  let H = pu(1u);
  let BH = B * H;
  let t = pu(2u);
  let T = pu(7u);
  let GH = ${G}u * H;
  let dGhOff = T * B * GH;
  let b = wid.y * BT + li / JT;
  let j = wid.x * JT + li % JT;
  var acc = 0.0;
  if (pu(9u) != 0u) {
    let nextOff = dGhOff + pu(8u) * B * GH;
    for (var r0 = 0u; r0 < GH; r0 += KC) {
      let gb = wid.y * BT + li / KC;
      let gr = r0 + li % KC;
      var gv = 0.0;
      if (gb < B && gr < GH) { gv = WS[nextOff + gb * GH + gr]; }
      gTile[li] = gv;
      for (var e = li; e < KC * JT; e += ${WG}u) {
        let row = r0 + e / JT;
        let unit = wid.x * JT + e % JT;
        var wv = 0.0;
        if (row < GH && unit < H) { wv = W[row * H + unit]; }
        wTile[e] = wv;
      }
      workgroupBarrier();
      for (var q = 0u; q < KC; q++) { acc += gTile[(li / JT) * KC + q] * wTile[q * JT + li % JT]; }
      workgroupBarrier();
    }
  }
  if (b >= B || j >= H) { return; }
  let i = b * H + j;
  let ds = pu(12u);
  let live = pu(3u) == 0u || f32(t) < SV[pu(6u) + b];
  if (pu(10u) == 0u || !live) {
    WS[ds + i] += acc;
    if (pu(10u) != 0u) {
      let gBase = t * B * GH + b * GH + j;
      for (var k = 0u; k < ${G}u; k++) { WS[gBase + k * H] = 0.0; WS[dGhOff + gBase + k * H] = 0.0; }
    }
    return;
  }
  let gBase = t * B * GH + b * GH + j;
  ${backwardStepUpdate(kind, { grads: 'WS', state: 'WS', stateOffset: 'ds + ', dh: 'WS[ds + i] + acc + WS[pu(11u) + t * BH + i]' })}
}`,
  };
}
