/**
 * What every WGSL kernel is built from, float32 throughout.
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
import { RecurError } from '@recur/core';

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

/** Rank limit of the strided kernels (binary, sumTo, permute): their shapes and strides fill fixed uniform slots. */
export const MAX_RANK = 8;

export function checkRank(what: string, rank: number): void {
  if (rank > MAX_RANK) throw new RecurError(`WebGpuBackend.${what}: rank ${rank} exceeds the supported ${MAX_RANK}`);
}

export const PRELUDE = /* wgsl */ `
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

export const storageDecl = (binding: number, name: string, access: Access, type = 'f32') =>
  `@group(0) @binding(${binding}) var<storage, ${access === 'rw' ? 'read_write' : 'read'}> ${name}: array<${type}>;\n`;

export const ELEMENTWISE_ENTRY = `@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>)`;
