/**
 * The two GEMM kernels: workgroup-memory tiles for GPUs, register blocks for CPU-emulated
 * adapters. Both compute the same product with the same bindings and params.
 */
import { type KernelSource, PRELUDE, storageDecl } from './prelude.js';

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
