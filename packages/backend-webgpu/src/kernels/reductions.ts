/** Reductions: broadcast-undoing sums, sums of squares (gradient norms), column sums (bias gradients). */
import { ELEMENTWISE_ENTRY, type KernelSource, PRELUDE, storageDecl, WG } from './prelude.js';

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
