/** Element-wise kernels: fill, the unary ops, and binary ops over broadcast strides. */
import type { BinaryOp, UnaryOp } from '@recur/core/backend';
import { ELEMENTWISE_ENTRY, type KernelSource, PRELUDE, storageDecl } from './prelude.js';

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
