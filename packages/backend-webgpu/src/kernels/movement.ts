/** Data movement: permute, strided 2-D copies (concat, slice), row gather and scatter-add. */
import { ELEMENTWISE_ENTRY, type KernelSource, PRELUDE, storageDecl } from './prelude.js';

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
