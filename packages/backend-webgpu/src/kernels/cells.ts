/** Fused recurrent cells: the per-unit gate math (shared with the fused sequences) and the standalone step kernels. */
import type { CellKind } from '@recur/core/backend';
import { GATE_COUNT, SAVED_BLOCKS } from '@recur/core/backend';
import { ELEMENTWISE_ENTRY, type KernelSource, PRELUDE, storageDecl } from './prelude.js';

/** Saved blocks per batch row of a fused cell (layout below, shared with the JS backend's order). */

/**
 * Forward math of one unit of one batch row. Inputs: `gx[k]`, `gh[k]` (pre-activations of gate
 * block k), `hp`, `cp` (previous state). Defines `hn`, `cn` and `sv[k]` (the saved blocks:
 * tanh/relu h'; LSTM i, f, g, o, tanh(c'); GRU r, z, n, gh_n; UGRNN g, c), as in backend-js.
 */
export function cellForwardMath(kind: CellKind): string {
  switch (kind) {
    case 'tanh':
      return 'let hn = tanh_(gx[0] + gh[0]); let cn = 0.0; sv[0] = hn;';
    case 'relu':
      return 'let pre = gx[0] + gh[0]; let hn = select(0.0, pre, pre > 0.0); let cn = 0.0; sv[0] = hn;';
    case 'lstm':
      return `let ig = sigm(gx[0] + gh[0]);
  let fg = sigm(gx[1] + gh[1]);
  let gg = tanh_(gx[2] + gh[2]);
  let og = sigm(gx[3] + gh[3]);
  let cn = fg * cp + ig * gg;
  let tc = tanh_(cn);
  let hn = og * tc;
  sv[0] = ig; sv[1] = fg; sv[2] = gg; sv[3] = og; sv[4] = tc;`;
    case 'gru':
      return `let r = sigm(gx[0] + gh[0]);
  let z = sigm(gx[1] + gh[1]);
  let ghn = gh[2];
  let nn = tanh_(gx[2] + r * ghn);
  let hn = (1.0 - z) * nn + z * hp;
  let cn = 0.0;
  sv[0] = r; sv[1] = z; sv[2] = nn; sv[3] = ghn;`;
    case 'ugrnn':
      return `let g = sigm(gx[0] + gh[0]);
  let c = tanh_(gx[1] + gh[1]);
  let hn = g * hp + (1.0 - g) * c;
  let cn = 0.0;
  sv[0] = g; sv[1] = c;`;
  }
}

/**
 * Backward math: from `sv[k]`, `hp`, `cp`, `dh`, `dc` defines `dgx[k]`, `dgh[k]`, `dhp`
 * (the element-wise part of the gradient on the previous h) and `dcp` (LSTM).
 */
export function cellBackwardMath(kind: CellKind): string {
  switch (kind) {
    case 'tanh':
      return 'let hv = sv[0]; let dpre = dh * (1.0 - hv * hv); dgx[0] = dpre; dgh[0] = dpre; let dhp = 0.0; let dcp = 0.0;';
    case 'relu':
      return 'let dpre = select(0.0, dh, sv[0] > 0.0); dgx[0] = dpre; dgh[0] = dpre; let dhp = 0.0; let dcp = 0.0;';
    case 'lstm':
      return `let ig = sv[0]; let fg = sv[1]; let gg = sv[2]; let og = sv[3]; let tc = sv[4];
  let dcT = dc + dh * og * (1.0 - tc * tc);
  let di = dcT * gg * ig * (1.0 - ig);
  let df = dcT * cp * fg * (1.0 - fg);
  let dgg = dcT * ig * (1.0 - gg * gg);
  let dog = dh * tc * og * (1.0 - og);
  dgx[0] = di; dgx[1] = df; dgx[2] = dgg; dgx[3] = dog;
  dgh[0] = di; dgh[1] = df; dgh[2] = dgg; dgh[3] = dog;
  let dhp = 0.0;
  let dcp = dcT * fg;`;
    case 'gru':
      return `let r = sv[0]; let z = sv[1]; let nn = sv[2]; let ghn = sv[3];
  let dn = dh * (1.0 - z) * (1.0 - nn * nn);
  let dz = dh * (hp - nn) * z * (1.0 - z);
  let dr = dn * ghn * r * (1.0 - r);
  dgx[0] = dr; dgx[1] = dz; dgx[2] = dn;
  dgh[0] = dr; dgh[1] = dz; dgh[2] = dn * r;
  let dhp = dh * z;
  let dcp = 0.0;`;
    case 'ugrnn':
      return `let g = sv[0]; let c = sv[1];
  let dg = dh * (hp - c) * g * (1.0 - g);
  let dcc = dh * (1.0 - g) * (1.0 - c * c);
  dgx[0] = dg; dgx[1] = dcc; dgh[0] = dg; dgh[1] = dcc;
  let dhp = dh * g;
  let dcp = 0.0;`;
  }
}

/**
 * The start of a kernel with one invocation per element of a [B, H] state (params 0 and 1 are
 * B and H): defines i, B, H, BH, b and j; invocations past the end return.
 */
export const STATE_ELEMENT = `let i = gindex(gid, nwg);
  let B = pu(0u);
  let H = pu(1u);
  let BH = B * H;
  if (i >= BH) { return; }
  let b = i / H;
  let j = i % H;`;

export const CELL_VARS = 'var gx: array<f32, 4>; var gh: array<f32, 4>; var sv: array<f32, 5>;';
export const CELL_GRAD_VARS = 'var sv: array<f32, 5>; var dgx: array<f32, 4>; var dgh: array<f32, 4>;';

/**
 * One fused cell step. Bindings: gx, gh, state ([h | c], c LSTM only), saved (rw).
 * params: batch, hidden. `saved` = [cells B·S·H | h' B·H | c' B·H | h B·H | c B·H] (the c
 * parts LSTM only): the forward's inputs are kept so the backward needs nothing else.
 */
export function cellForwardKernel(kind: CellKind): KernelSource {
  const G = GATE_COUNT[kind];
  const S = SAVED_BLOCKS[kind];
  const lstm = kind === 'lstm';
  return {
    key: `cell-fwd:${kind}`,
    storage: ['read', 'read', 'read', 'rw'],
    code: `${PRELUDE}${storageDecl(1, 'GX', 'read')}${storageDecl(2, 'GH', 'read')}${storageDecl(3, 'ST', 'read')}${storageDecl(4, 'SV', 'rw')}
${ELEMENTWISE_ENTRY} {
  ${STATE_ELEMENT}
  ${CELL_VARS}
  for (var k = 0u; k < ${G}u; k++) { gx[k] = GX[b * ${G}u * H + k * H + j]; gh[k] = GH[b * ${G}u * H + k * H + j]; }
  let hp = ST[i];
  let cp = ${lstm ? 'ST[BH + i]' : '0.0'};
  ${cellForwardMath(kind)}
  for (var k = 0u; k < ${S}u; k++) { SV[b * ${S}u * H + k * H + j] = sv[k]; }
  let states = ${S}u * BH;
  SV[states + i] = hn;
  ${lstm ? 'SV[states + BH + i] = cn; SV[states + 2u * BH + i] = hp; SV[states + 3u * BH + i] = cp;' : 'SV[states + BH + i] = hp;'}
}`,
  };
}

/**
 * Backward of one fused cell step. Bindings: saved (from cellForwardKernel), grads ([dh | dc]),
 * out (rw) = [dgx B·G·H | dgh B·G·H | dhPrev B·H | dcPrev B·H]. params: batch, hidden.
 */
export function cellBackwardKernel(kind: CellKind): KernelSource {
  const G = GATE_COUNT[kind];
  const S = SAVED_BLOCKS[kind];
  const lstm = kind === 'lstm';
  return {
    key: `cell-bwd:${kind}`,
    storage: ['read', 'read', 'rw'],
    code: `${PRELUDE}${storageDecl(1, 'SV', 'read')}${storageDecl(2, 'DS', 'read')}${storageDecl(3, 'O', 'rw')}
${ELEMENTWISE_ENTRY} {
  ${STATE_ELEMENT}
  ${CELL_GRAD_VARS}
  for (var k = 0u; k < ${S}u; k++) { sv[k] = SV[b * ${S}u * H + k * H + j]; }
  let states = ${S}u * BH;
  let hp = SV[states + ${lstm ? '2u' : '1u'} * BH + i];
  let cp = ${lstm ? 'SV[states + 3u * BH + i]' : '0.0'};
  let dh = DS[i];
  let dc = ${lstm ? 'DS[BH + i]' : '0.0'};
  ${cellBackwardMath(kind)}
  let GBH = ${G}u * BH;
  for (var k = 0u; k < ${G}u; k++) {
    O[b * ${G}u * H + k * H + j] = dgx[k];
    O[GBH + b * ${G}u * H + k * H + j] = dgh[k];
  }
  O[2u * GBH + i] = dhp;
  ${lstm ? 'O[2u * GBH + BH + i] = dcp;' : ''}
}`,
  };
}
