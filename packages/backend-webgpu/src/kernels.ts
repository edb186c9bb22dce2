/**
 * WGSL sources of every kernel, float32 throughout.
 *
 * Conventions shared by all kernels:
 * - binding 0 is a 256-byte uniform block of 64 scalar slots, read with `pu(i)` (u32),
 *   `pf(i)` (f32) and `pi(i)` (i32); the TypeScript side writes them in the order documented
 *   next to each kernel.
 * - bindings 1.. are storage buffers, at most 4 per kernel, so every kernel fits WebGPU's
 *   compatibility-mode limit (`maxStorageBuffersPerShaderStage` may be 4 there). Where a
 *   kernel has more logical inputs or outputs they are packed into one buffer by
 *   `copyBufferToBuffer` commands in the same command encoder.
 * - element-wise kernels use 64 invocations per workgroup and a 2-D grid of workgroups when
 *   one dimension would exceed 65535 (`gindex`).
 */
import type { BinaryOp, CellKind, UnaryOp } from '@recur/core';
import { GATE_COUNT } from '@recur/core';

export type Access = 'read' | 'rw';

export interface KernelSource {
  /** Cache key: the kernel and its specialisation. */
  key: string;
  code: string;
  /** Access of storage bindings 1..n, in order. */
  storage: Access[];
}

/** Workgroup size of the element-wise kernels. */
export const WG = 64;

/** Saved blocks per batch row of a fused cell (layout below, shared with the JS backend's order). */
export const SAVED_BLOCKS: Readonly<Record<CellKind, number>> = { tanh: 1, relu: 1, lstm: 5, gru: 4, ugrnn: 2 };

const PRELUDE = /* wgsl */ `
struct Params { u: array<vec4<u32>, 16> }
@group(0) @binding(0) var<uniform> P: Params;
fn pu(i: u32) -> u32 { return P.u[i / 4u][i % 4u]; }
fn pf(i: u32) -> f32 { return bitcast<f32>(pu(i)); }
fn pi(i: u32) -> i32 { return bitcast<i32>(pu(i)); }
fn gindex(gid: vec3<u32>, nwg: vec3<u32>) -> u32 { return gid.x + gid.y * nwg.x * ${WG}u; }
// Logistic sigmoid that never evaluates exp of a positive number: exact 0/1 limits, no NaN.
fn sigm(x: f32) -> f32 {
  let e = exp(-abs(x));
  let r = 1.0 / (1.0 + e);
  return select(e * r, r, x >= 0.0);
}
// tanh that stays finite and exact (±1) at any |x|: a series near 0 (no cancellation), else
// (1 − e)/(1 + e) with e = exp(−2|x|) ∈ (0, 1].
fn tanh_(x: f32) -> f32 {
  let a = abs(x);
  var t: f32;
  if (a < 0.125) {
    let x2 = a * a;
    t = a * (1.0 + x2 * (-0.33333334 + x2 * (0.13333334 + x2 * (-0.053968254 + x2 * 0.021869488))));
  } else {
    let e = exp(-2.0 * a);
    t = (1.0 - e) / (1.0 + e);
  }
  return select(-t, t, x >= 0.0);
}
`;

const storageDecl = (binding: number, name: string, access: Access, type = 'f32') =>
  `@group(0) @binding(${binding}) var<storage, ${access === 'rw' ? 'read_write' : 'read'}> ${name}: array<${type}>;\n`;

const ELEMENTWISE_ENTRY = `@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>)`;

// --- fill, unary, binary -----------------------------------------------------------------------

/** params: n, value. */
export function fillKernel(): KernelSource {
  return {
    key: 'fill',
    storage: ['rw'],
    code: `${PRELUDE}${storageDecl(1, 'y', 'rw')}
${ELEMENTWISE_ENTRY} {
  let i = gindex(gid, nwg);
  if (i >= pu(0u)) { return; }
  y[i] = pf(1u);
}`,
  };
}

function unaryExpression(op: UnaryOp): string {
  switch (op) {
    case 'copy':
      return 'x';
    case 'neg':
      return '-x';
    case 'exp':
      return 'exp(x)';
    case 'log':
      return 'log(x)';
    case 'tanh':
      return 'tanh_(x)';
    case 'sigmoid':
      return 'sigm(x)';
    case 'relu':
      return 'select(0.0, x, x > 0.0)';
    case 'step':
      return 'select(0.0, 1.0, x > 0.0)';
    case 'sqrt':
      return 'sqrt(x)';
    case 'square':
      return 'x * x';
    case 'abs':
      return 'abs(x)';
    case 'reciprocal':
      return '1.0 / x';
    case 'scale':
      return 'x * pf(1u)';
    case 'clamp':
      // Bounds are flags + values (a missing bound does not clamp on that side).
      return 'clampOpt(x)';
  }
}

/** params: n, param, param2 (clamp: low), hasLow, hasHigh, high. `inPlace` binds one buffer. */
export function unaryKernel(op: UnaryOp, inPlace: boolean): KernelSource {
  const clamp = `fn clampOpt(v: f32) -> f32 {
  var r = v;
  if (pu(2u) != 0u) { r = max(r, pf(1u)); }
  if (pu(3u) != 0u) { r = min(r, pf(4u)); }
  return r;
}
`;
  const body = inPlace
    ? `${storageDecl(1, 'y', 'rw')}${clamp}
${ELEMENTWISE_ENTRY} {
  let i = gindex(gid, nwg);
  if (i >= pu(0u)) { return; }
  let x = y[i];
  y[i] = ${unaryExpression(op)};
}`
    : `${storageDecl(1, 'xs', 'read')}${storageDecl(2, 'y', 'rw')}${clamp}
${ELEMENTWISE_ENTRY} {
  let i = gindex(gid, nwg);
  if (i >= pu(0u)) { return; }
  let x = xs[i];
  y[i] = ${unaryExpression(op)};
}`;
  return { key: `unary:${op}:${inPlace}`, storage: inPlace ? ['rw'] : ['read', 'rw'], code: PRELUDE + body };
}

/** Rank limit of the strided kernels (binary, sumTo, permute). */
export const MAX_RANK = 8;

const BINARY_OPS: Record<BinaryOp, string> = { add: 'a + b', sub: 'a - b', mul: 'a * b', div: 'a / b' };

/** params: n, rank, _, _, shape[8] at 4, aStrides[8] at 12, bStrides[8] at 20. */
export function binaryKernel(op: BinaryOp): KernelSource {
  return {
    key: `binary:${op}`,
    storage: ['read', 'read', 'rw'],
    code: `${PRELUDE}${storageDecl(1, 'A', 'read')}${storageDecl(2, 'B', 'read')}${storageDecl(3, 'y', 'rw')}
${ELEMENTWISE_ENTRY} {
  let i = gindex(gid, nwg);
  if (i >= pu(0u)) { return; }
  let rank = pu(1u);
  var rem = i;
  var ao = 0u;
  var bo = 0u;
  for (var d = i32(rank) - 1; d >= 0; d--) {
    let du = u32(d);
    let s = pu(4u + du);
    let q = rem % s;
    rem = rem / s;
    ao += q * pu(12u + du);
    bo += q * pu(20u + du);
  }
  let a = A[ao];
  let b = B[bo];
  y[i] = ${BINARY_OPS[op]};
}`,
  };
}

/**
 * params: nOut, rank, R (input elements per output), _, inShape[8] at 4, outShape[8] at 12,
 * inStrides[8] at 20. One invocation per output element sums its R inputs.
 */
export function sumToKernel(): KernelSource {
  return {
    key: 'sumTo',
    storage: ['read', 'rw'],
    code: `${PRELUDE}${storageDecl(1, 'x', 'read')}${storageDecl(2, 'y', 'rw')}
${ELEMENTWISE_ENTRY} {
  let o = gindex(gid, nwg);
  if (o >= pu(0u)) { return; }
  let rank = i32(pu(1u));
  var rem = o;
  var base = 0u;
  for (var d = rank - 1; d >= 0; d--) {
    let du = u32(d);
    let s = pu(12u + du);
    base += (rem % s) * pu(20u + du);
    rem = rem / s;
  }
  var sum = 0.0;
  let R = pu(2u);
  for (var r = 0u; r < R; r++) {
    var rr = r;
    var off = base;
    for (var d = rank - 1; d >= 0; d--) {
      let du = u32(d);
      let n = pu(4u + du);
      if (pu(12u + du) == 1u && n != 1u) {
        off += (rr % n) * pu(20u + du);
        rr = rr / n;
      }
    }
    sum += x[off];
  }
  y[o] = sum;
}`,
  };
}

/** params: n, slot. One workgroup sums squares of a whole buffer into partials[slot]. */
export function sumSquaresPartialKernel(): KernelSource {
  return {
    key: 'sumsq-partial',
    storage: ['read', 'rw'],
    code: `${PRELUDE}${storageDecl(1, 'x', 'read')}${storageDecl(2, 'partials', 'rw')}
var<workgroup> acc: array<f32, ${WG}>;
@compute @workgroup_size(${WG})
fn main(@builtin(local_invocation_index) lid: u32) {
  let n = pu(0u);
  var s = 0.0;
  for (var i = lid; i < n; i += ${WG}u) { let v = x[i]; s += v * v; }
  acc[lid] = s;
  workgroupBarrier();
  for (var w = ${WG / 2}u; w > 0u; w = w / 2u) {
    if (lid < w) { acc[lid] += acc[lid + w]; }
    workgroupBarrier();
  }
  if (lid == 0u) { partials[pu(1u)] = acc[0]; }
}`,
  };
}

/** params: count, offset. out[0] = Σ x[offset .. offset + count). */
export function sumAllKernel(): KernelSource {
  return {
    key: 'sum-all',
    storage: ['read', 'rw'],
    code: `${PRELUDE}${storageDecl(1, 'x', 'read')}${storageDecl(2, 'y', 'rw')}
@compute @workgroup_size(1)
fn main() {
  var s = 0.0;
  let n = pu(0u);
  for (var i = 0u; i < n; i++) { s += x[pu(1u) + i]; }
  y[0] = s * pf(2u);
}`,
  };
}

/** params: rows, cols, offset. out[j] = Σ_r x[offset + r·cols + j] (bias gradients). */
export function columnSumKernel(): KernelSource {
  return {
    key: 'column-sum',
    storage: ['read', 'rw'],
    code: `${PRELUDE}${storageDecl(1, 'x', 'read')}${storageDecl(2, 'y', 'rw')}
${ELEMENTWISE_ENTRY} {
  let j = gindex(gid, nwg);
  let cols = pu(1u);
  if (j >= cols) { return; }
  var s = 0.0;
  let rows = pu(0u);
  let off = pu(2u);
  for (var r = 0u; r < rows; r++) { s += x[off + r * cols + j]; }
  y[j] = s;
}`,
  };
}

// --- data movement -------------------------------------------------------------------------------

/** params: n, rank, _, _, outShape[8] at 4, readStrides[8] at 12. */
export function permuteKernel(): KernelSource {
  return {
    key: 'permute',
    storage: ['read', 'rw'],
    code: `${PRELUDE}${storageDecl(1, 'x', 'read')}${storageDecl(2, 'y', 'rw')}
${ELEMENTWISE_ENTRY} {
  let i = gindex(gid, nwg);
  if (i >= pu(0u)) { return; }
  var rem = i;
  var off = 0u;
  for (var d = i32(pu(1u)) - 1; d >= 0; d--) {
    let du = u32(d);
    let s = pu(4u + du);
    off += (rem % s) * pu(12u + du);
    rem = rem / s;
  }
  y[i] = x[off];
}`,
  };
}

/**
 * params: total (= outer·block), block, srcOffset, srcStride, dstOffset, dstStride.
 * dst[dstOffset + o·dstStride + j] = src[srcOffset + o·srcStride + j]: concat and slice.
 */
export function copy2dKernel(): KernelSource {
  return {
    key: 'copy2d',
    storage: ['read', 'rw'],
    code: `${PRELUDE}${storageDecl(1, 'x', 'read')}${storageDecl(2, 'y', 'rw')}
${ELEMENTWISE_ENTRY} {
  let i = gindex(gid, nwg);
  if (i >= pu(0u)) { return; }
  let blk = pu(1u);
  let o = i / blk;
  let j = i % blk;
  y[pu(4u) + o * pu(5u) + j] = x[pu(2u) + o * pu(3u) + j];
}`,
  };
}

/** params: n (= count·width), width. */
export function gatherKernel(): KernelSource {
  return {
    key: 'gather',
    storage: ['read', 'read', 'rw'],
    code: `${PRELUDE}${storageDecl(1, 'x', 'read')}${storageDecl(2, 'index', 'read', 'i32')}${storageDecl(3, 'y', 'rw')}
${ELEMENTWISE_ENTRY} {
  let i = gindex(gid, nwg);
  if (i >= pu(0u)) { return; }
  let w = pu(1u);
  y[i] = x[u32(index[i / w]) * w + i % w];
}`,
  };
}

/**
 * params: rows, width. `csr` holds rowStart[rows + 1] then the source rows grouped by target
 * row (built on the host from the index list): one invocation per output element adds its
 * sources in index order, deterministic and without float atomics.
 */
export function scatterKernel(): KernelSource {
  return {
    key: 'scatter',
    storage: ['read', 'read', 'rw'],
    code: `${PRELUDE}${storageDecl(1, 'g', 'read')}${storageDecl(2, 'csr', 'read', 'i32')}${storageDecl(3, 'y', 'rw')}
${ELEMENTWISE_ENTRY} {
  let i = gindex(gid, nwg);
  let rows = pu(0u);
  let w = pu(1u);
  if (i >= rows * w) { return; }
  let r = i / w;
  let j = i % w;
  var s = 0.0;
  let end = u32(csr[r + 1u]);
  for (var p = u32(csr[r]); p < end; p++) {
    s += g[u32(csr[rows + 1u + p]) * w + j];
  }
  y[i] = s;
}`,
  };
}

// --- GEMM ----------------------------------------------------------------------------------------

export const GEMM_TILE = 16;

/**
 * C[cOff + i·n + j] = alpha·Σ_p op(A)[i,p]·op(B)[p,j] (+ bias[j]) (+ beta·C[...]).
 * params: m, n, k, transA, transB, alpha, beta, aOff, bOff, cOff.
 * 16×16 output tiles with 16-deep K tiles in workgroup memory; 16×8 = 128 invocations each
 * computing two outputs. `checked` adds bounds tests; it is off when m, n, k are multiples of 16.
 * `beta` is only read from C when nonzero (NaN in an uninitialised C cannot leak in).
 */
export function gemmKernel(checked: boolean, bias: boolean): KernelSource {
  const T = GEMM_TILE;
  const H = T / 2;
  return {
    key: `gemm:${checked}:${bias}`,
    storage: bias ? ['read', 'read', 'read', 'rw'] : ['read', 'read', 'rw'],
    code: `${PRELUDE}${storageDecl(1, 'A', 'read')}${storageDecl(2, 'B', 'read')}${bias ? storageDecl(3, 'bias', 'read') : ''}${storageDecl(bias ? 4 : 3, 'C', 'rw')}
var<workgroup> As: array<array<f32, ${T}>, ${T}>;
var<workgroup> Bs: array<array<f32, ${T}>, ${T}>;
fn loadA(i: u32, p: u32, m: u32, k: u32) -> f32 {
  ${checked ? 'if (i >= m || p >= k) { return 0.0; }' : ''}
  if (pu(3u) != 0u) { return A[pu(7u) + p * m + i]; }
  return A[pu(7u) + i * k + p];
}
fn loadB(p: u32, j: u32, n: u32, k: u32) -> f32 {
  ${checked ? 'if (p >= k || j >= n) { return 0.0; }' : ''}
  if (pu(4u) != 0u) { return B[pu(8u) + j * k + p]; }
  return B[pu(8u) + p * n + j];
}
fn store(i: u32, j: u32, m: u32, n: u32, acc: f32) {
  ${checked ? 'if (i >= m || j >= n) { return; }' : ''}
  let o = pu(9u) + i * n + j;
  var v = pf(5u) * acc;
  ${bias ? 'v += bias[j];' : ''}
  let beta = pf(6u);
  if (beta != 0.0) { v += beta * C[o]; }
  C[o] = v;
}
@compute @workgroup_size(${T}, ${H})
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
  let m = pu(0u);
  let n = pu(1u);
  let k = pu(2u);
  let tx = lid.x;
  let ty = lid.y;
  let row0 = wid.y * ${T}u;
  let col0 = wid.x * ${T}u;
  var acc0 = 0.0;
  var acc1 = 0.0;
  for (var k0 = 0u; k0 < k; k0 += ${T}u) {
    As[ty][tx] = loadA(row0 + ty, k0 + tx, m, k);
    As[ty + ${H}u][tx] = loadA(row0 + ty + ${H}u, k0 + tx, m, k);
    Bs[ty][tx] = loadB(k0 + ty, col0 + tx, n, k);
    Bs[ty + ${H}u][tx] = loadB(k0 + ty + ${H}u, col0 + tx, n, k);
    workgroupBarrier();
    for (var kk = 0u; kk < ${T}u; kk++) {
      let b = Bs[kk][tx];
      acc0 += As[ty][kk] * b;
      acc1 += As[ty + ${H}u][kk] * b;
    }
    workgroupBarrier();
  }
  store(row0 + ty, col0 + tx, m, n, acc0);
  store(row0 + ty + ${H}u, col0 + tx, m, n, acc1);
}`,
  };
}

// --- fused cells ---------------------------------------------------------------------------------

/**
 * Forward math of one unit of one batch row. Inputs: `gx[k]`, `gh[k]` (pre-activations of gate
 * block k), `hp`, `cp` (previous state). Defines `hn`, `cn` and `sv[k]` (the saved blocks:
 * tanh/relu h'; LSTM i, f, g, o, tanh(c'); GRU r, z, n, gh_n; UGRNN g, c), as in backend-js.
 */
function cellForwardMath(kind: CellKind): string {
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
function cellBackwardMath(kind: CellKind): string {
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

const CELL_VARS = 'var gx: array<f32, 4>; var gh: array<f32, 4>; var sv: array<f32, 5>;';
const CELL_GRAD_VARS = 'var sv: array<f32, 5>; var dgx: array<f32, 4>; var dgh: array<f32, 4>;';

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
  let i = gindex(gid, nwg);
  let B = pu(0u);
  let H = pu(1u);
  let BH = B * H;
  if (i >= BH) { return; }
  let b = i / H;
  let j = i % H;
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
  let i = gindex(gid, nwg);
  let B = pu(0u);
  let H = pu(1u);
  let BH = B * H;
  if (i >= BH) { return; }
  let b = i / H;
  let j = i % H;
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
  const S = SAVED_BLOCKS[kind];
  const lstm = kind === 'lstm';
  return {
    key: `seq-fwd:${kind}`,
    storage: ['read', 'read', 'rw'],
    code: `${PRELUDE}${storageDecl(1, 'GX', 'read')}${storageDecl(2, 'GH', 'read')}${storageDecl(3, 'SV', 'rw')}
${ELEMENTWISE_ENTRY} {
  let i = gindex(gid, nwg);
  let B = pu(0u);
  let H = pu(1u);
  let BH = B * H;
  if (i >= BH) { return; }
  let t = pu(2u);
  let b = i / H;
  let j = i % H;
  let hsPrev = pu(4u) + t * BH;
  let csPrev = pu(5u) + t * BH;
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
  let ghBase = b * ${G}u * H + j;
  for (var k = 0u; k < ${G}u; k++) { gx[k] = GX[gxBase + k * H]; gh[k] = GH[ghBase + k * H]; }
  ${cellForwardMath(kind)}
  for (var k = 0u; k < ${S}u; k++) { SV[cells + k * H] = sv[k]; }
  SV[hsPrev + BH + i] = hn;
  ${lstm ? 'SV[csPrev + BH + i] = cn;' : ''}
}`,
  };
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
  const S = SAVED_BLOCKS[kind];
  const lstm = kind === 'lstm';
  return {
    key: `seq-bwd:${kind}`,
    storage: ['read', 'read', 'rw', 'rw'],
    code: `${PRELUDE}${storageDecl(1, 'SV', 'read')}${storageDecl(2, 'DO', 'read')}${storageDecl(3, 'DS', 'rw')}${storageDecl(4, 'DG', 'rw')}
${ELEMENTWISE_ENTRY} {
  let i = gindex(gid, nwg);
  let B = pu(0u);
  let H = pu(1u);
  let BH = B * H;
  if (i >= BH) { return; }
  let t = pu(2u);
  let T = pu(7u);
  let b = i / H;
  let j = i % H;
  let gBase = t * B * ${G}u * H + b * ${G}u * H + j;
  let dGhOff = T * B * ${G}u * H;
  let live = pu(3u) == 0u || f32(t) < SV[pu(6u) + b];
  if (!live) {
    for (var k = 0u; k < ${G}u; k++) { DG[gBase + k * H] = 0.0; DG[dGhOff + gBase + k * H] = 0.0; }
    return;
  }
  ${CELL_GRAD_VARS}
  let cells = t * B * ${S}u * H + b * ${S}u * H + j;
  for (var k = 0u; k < ${S}u; k++) { sv[k] = SV[cells + k * H]; }
  let hp = SV[pu(4u) + t * BH + i];
  let cp = ${lstm ? 'SV[pu(5u) + t * BH + i]' : '0.0'};
  let dh = DS[i] + DO[t * BH + i];
  let dc = ${lstm ? 'DS[BH + i]' : '0.0'};
  ${cellBackwardMath(kind)}
  for (var k = 0u; k < ${G}u; k++) { DG[gBase + k * H] = dgx[k]; DG[dGhOff + gBase + k * H] = dgh[k]; }
  DS[i] = dhp;
  ${lstm ? 'DS[BH + i] = dcp;' : ''}
}`,
  };
}

// --- loss ---------------------------------------------------------------------------------------

/**
 * Softmax cross-entropy, one invocation per row. Bindings: logits, targets (i32), dLogits (rw),
 * rowLoss (rw). params: rows, classes, ignoreIndex (i32), 1/count.
 */
export function crossEntropyKernel(): KernelSource {
  return {
    key: 'xent',
    storage: ['read', 'read', 'rw', 'rw'],
    code: `${PRELUDE}${storageDecl(1, 'L', 'read')}${storageDecl(2, 'Y', 'read', 'i32')}${storageDecl(3, 'D', 'rw')}${storageDecl(4, 'RL', 'rw')}
${ELEMENTWISE_ENTRY} {
  let r = gindex(gid, nwg);
  if (r >= pu(0u)) { return; }
  let C = pu(1u);
  let base = r * C;
  let y = Y[r];
  if (y == pi(2u)) {
    for (var j = 0u; j < C; j++) { D[base + j] = 0.0; }
    RL[r] = 0.0;
    return;
  }
  var mx = L[base];
  for (var j = 1u; j < C; j++) { mx = max(mx, L[base + j]); }
  var s = 0.0;
  for (var j = 0u; j < C; j++) { s += exp(L[base + j] - mx); }
  let inv = pf(3u);
  let yu = u32(y);
  RL[r] = log(s) + mx - L[base + yu];
  for (var j = 0u; j < C; j++) {
    let p = exp(L[base + j] - mx) / s;
    D[base + j] = (p - select(0.0, 1.0, j == yu)) * inv;
  }
}`,
  };
}

// --- optimizers ---------------------------------------------------------------------------------

/** SGD. Bindings param (rw), grad, momentum buffer (rw). params: n, lr, momentum, dampening, nesterov, wd, firstStep. */
export function sgdKernel(): KernelSource {
  return {
    key: 'sgd',
    storage: ['rw', 'read', 'rw'],
    code: `${PRELUDE}${storageDecl(1, 'Pm', 'rw')}${storageDecl(2, 'G', 'read')}${storageDecl(3, 'M', 'rw')}
${ELEMENTWISE_ENTRY} {
  let i = gindex(gid, nwg);
  if (i >= pu(0u)) { return; }
  let mu = pf(2u);
  let wd = pf(5u);
  var d = G[i];
  if (wd != 0.0) { d += wd * Pm[i]; }
  if (mu != 0.0) {
    var buf: f32;
    if (pu(6u) != 0u) { buf = d; } else { buf = mu * M[i] + (1.0 - pf(3u)) * d; }
    M[i] = buf;
    if (pu(4u) != 0u) { d = d + mu * buf; } else { d = buf; }
  }
  Pm[i] = Pm[i] + (-pf(1u)) * d;
}`,
  };
}

/**
 * Adam/AdamW, part 1. Bindings param (rw), grad, m (rw), v (rw).
 * params: n, lr, beta1, beta2, 1−beta1, 1−beta2, eps, wd, decoupled, amsgrad, stepSize, sqrt(1−beta2^t).
 * Without AMSGrad it also updates the parameter.
 */
export function adamKernel(): KernelSource {
  return {
    key: 'adam',
    storage: ['rw', 'read', 'rw', 'rw'],
    code: `${PRELUDE}${storageDecl(1, 'Pm', 'rw')}${storageDecl(2, 'G', 'read')}${storageDecl(3, 'M', 'rw')}${storageDecl(4, 'V', 'rw')}
${ELEMENTWISE_ENTRY} {
  let i = gindex(gid, nwg);
  if (i >= pu(0u)) { return; }
  var p = Pm[i];
  var g = G[i];
  let wd = pf(7u);
  if (wd != 0.0) {
    if (pu(8u) != 0u) { p = p * (1.0 - pf(1u) * wd); } else { g = g + wd * p; }
  }
  let m = M[i] * pf(2u) + pf(4u) * g;
  let v = V[i] * pf(3u) + pf(5u) * g * g;
  M[i] = m;
  V[i] = v;
  if (pu(9u) == 0u) {
    let denom = sqrt(v) / pf(11u) + pf(6u);
    p = p + (-pf(10u)) * (m / denom);
  }
  Pm[i] = p;
}`,
  };
}

/** AMSGrad part 2. Bindings param (rw), m, v, vMax (rw). params as adamKernel. */
export function amsgradKernel(): KernelSource {
  return {
    key: 'amsgrad',
    storage: ['rw', 'read', 'read', 'rw'],
    code: `${PRELUDE}${storageDecl(1, 'Pm', 'rw')}${storageDecl(2, 'M', 'read')}${storageDecl(3, 'V', 'read')}${storageDecl(4, 'VX', 'rw')}
${ELEMENTWISE_ENTRY} {
  let i = gindex(gid, nwg);
  if (i >= pu(0u)) { return; }
  let vx = max(VX[i], V[i]);
  VX[i] = vx;
  let denom = sqrt(vx) / pf(11u) + pf(6u);
  Pm[i] = Pm[i] + (-pf(10u)) * (M[i] / denom);
}`,
  };
}

/**
 * RMSprop in three kernels of ≤ 4 storage buffers, through a scratch buffer `tmp`.
 * params: n, lr, alpha, 1−alpha, eps, wd, momentum, centered.
 */
export function rmspropKernels(): KernelSource[] {
  return [
    {
      key: 'rmsprop-1',
      storage: ['read', 'read', 'rw', 'rw'],
      // g = grad + wd·p; squareAvg update; tmp = g.
      code: `${PRELUDE}${storageDecl(1, 'Pm', 'read')}${storageDecl(2, 'G', 'read')}${storageDecl(3, 'SQ', 'rw')}${storageDecl(4, 'TMP', 'rw')}
${ELEMENTWISE_ENTRY} {
  let i = gindex(gid, nwg);
  if (i >= pu(0u)) { return; }
  var g = G[i];
  let wd = pf(5u);
  if (wd != 0.0) { g = g + wd * Pm[i]; }
  SQ[i] = SQ[i] * pf(2u) + pf(3u) * g * g;
  TMP[i] = g;
}`,
    },
    {
      key: 'rmsprop-2',
      storage: ['read', 'rw', 'rw'],
      // centered: gradAvg update; tmp = g / avg.
      code: `${PRELUDE}${storageDecl(1, 'SQ', 'read')}${storageDecl(2, 'GA', 'rw')}${storageDecl(3, 'TMP', 'rw')}
${ELEMENTWISE_ENTRY} {
  let i = gindex(gid, nwg);
  if (i >= pu(0u)) { return; }
  let g = TMP[i];
  var avg: f32;
  if (pu(7u) != 0u) {
    let ga = GA[i] * pf(2u) + pf(3u) * g;
    GA[i] = ga;
    avg = sqrt(SQ[i] - ga * ga) + pf(4u);
  } else {
    avg = sqrt(SQ[i]) + pf(4u);
  }
  TMP[i] = g / avg;
}`,
    },
    {
      key: 'rmsprop-3',
      storage: ['rw', 'rw', 'read'],
      code: `${PRELUDE}${storageDecl(1, 'Pm', 'rw')}${storageDecl(2, 'BUF', 'rw')}${storageDecl(3, 'TMP', 'read')}
${ELEMENTWISE_ENTRY} {
  let i = gindex(gid, nwg);
  if (i >= pu(0u)) { return; }
  let mu = pf(6u);
  if (mu > 0.0) {
    let b = BUF[i] * mu + TMP[i];
    BUF[i] = b;
    Pm[i] = Pm[i] + (-pf(1u)) * b;
  } else {
    Pm[i] = Pm[i] + (-pf(1u)) * TMP[i];
  }
}`,
    },
  ];
}

/** Rows and columns of C computed by one workgroup of the register-blocked GEMM. */
export const GEMM_REG_BLOCK = 32;

/**
 * The same product as `gemmKernel` for CPU-emulated adapters (llvmpipe, SwiftShader), where
 * workgroup memory and barriers are pure overhead: no shared tiles, each of 8×8 invocations
 * accumulates a 4×4 block of C in registers (rows ty + 8r, columns tx + 8c, so neighbouring
 * invocations, which such drivers run in SIMD lanes, read neighbouring columns of B).
 * Indices past m or n are clamped on load and skipped on store. Same bindings and params.
 */
export function gemmRegisterKernel(bias: boolean): KernelSource {
  return {
    key: `gemm-reg:${bias}`,
    storage: bias ? ['read', 'read', 'read', 'rw'] : ['read', 'read', 'rw'],
    code: `${PRELUDE}${storageDecl(1, 'A', 'read')}${storageDecl(2, 'B', 'read')}${bias ? storageDecl(3, 'bias', 'read') : ''}${storageDecl(bias ? 4 : 3, 'C', 'rw')}
@compute @workgroup_size(8, 8)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
  let m = pu(0u);
  let n = pu(1u);
  let k = pu(2u);
  let transA = pu(3u) != 0u;
  let transB = pu(4u) != 0u;
  let aOff = pu(7u);
  let bOff = pu(8u);
  var ar: array<u32, 4>;
  var bc: array<u32, 4>;
  var aStep: u32;
  var bStep: u32;
  for (var r = 0u; r < 4u; r++) {
    let i = min(wid.y * 32u + lid.y + 8u * r, m - 1u);
    let j = min(wid.x * 32u + lid.x + 8u * r, n - 1u);
    if (transA) { ar[r] = aOff + i; } else { ar[r] = aOff + i * k; }
    if (transB) { bc[r] = bOff + j * k; } else { bc[r] = bOff + j; }
  }
  if (transA) { aStep = m; } else { aStep = 1u; }
  if (transB) { bStep = 1u; } else { bStep = n; }
  var acc: array<vec4<f32>, 4>;
  for (var p = 0u; p < k; p++) {
    let a = vec4<f32>(A[ar[0]], A[ar[1]], A[ar[2]], A[ar[3]]);
    let b = vec4<f32>(B[bc[0]], B[bc[1]], B[bc[2]], B[bc[3]]);
    acc[0] += a.x * b;
    acc[1] += a.y * b;
    acc[2] += a.z * b;
    acc[3] += a.w * b;
    for (var r = 0u; r < 4u; r++) { ar[r] += aStep; bc[r] += bStep; }
  }
  let alpha = pf(5u);
  let beta = pf(6u);
  for (var r = 0u; r < 4u; r++) {
    let i = wid.y * 32u + lid.y + 8u * r;
    if (i >= m) { continue; }
    for (var c = 0u; c < 4u; c++) {
      let j = wid.x * 32u + lid.x + 8u * c;
      if (j >= n) { continue; }
      let o = pu(9u) + i * n + j;
      var v = alpha * acc[r][c];
      ${bias ? 'v += bias[j];' : ''}
      if (beta != 0.0) { v += beta * C[o]; }
      C[o] = v;
    }
  }
}`,
  };
}
