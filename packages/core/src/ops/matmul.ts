import { recordOp } from '../autograd.js';
import type { BackendBuffer } from '../backend/interface.js';
import { describeShape, ShapeError } from '../errors.js';
import { commonBackend, Tensor } from '../tensor.js';

/**
 * Matrix product `a · b` with `a` `[..., k]` (leading axes flattened into rows) and `b` `[k, n]`;
 * the result is `[..., n]`.
 */
export function matmul(a: Tensor, b: Tensor): Tensor {
  const backend = commonBackend('matmul', a, b);
  if (a.rank < 1 || b.rank !== 2 || a.shape[a.rank - 1] !== b.shape[0]) {
    throw new ShapeError(`matmul: expected a [..., k] and b [k, n], received a ${describeShape(a.shape)} and b ${describeShape(b.shape)}`);
  }
  const k = b.shape[0];
  const n = b.shape[1];
  const m = a.size / Math.max(1, k);
  const shape = [...a.shape.slice(0, -1), n];
  const buffer = backend.gemm(a.buffer, b.buffer, { m, n, k });
  return recordOp('matmul', backend, [a, b], [[buffer, shape]], ([g], needs) => {
    if (!g) return [null, null];
    const ga = needs[0] ? Tensor.fromBuffer(backend, backend.gemm(g.buffer, b.buffer, { m, n: k, k: n, transB: true }), a.shape) : null;
    const gb = needs[1] ? Tensor.fromBuffer(backend, backend.gemm(a.buffer, g.buffer, { m: k, n, k: m, transA: true }), b.shape) : null;
    return [ga, gb];
  })[0];
}

/**
 * The affine map of a `Linear` layer and of RNN input projections: `x · weightᵀ + bias` with
 * `x` `[..., in]`, `weight` `[out, in]` (PyTorch layout) and `bias` `[out]`; result `[..., out]`.
 */
export function linear(x: Tensor, weight: Tensor, bias?: Tensor | null): Tensor {
  const backend = bias ? commonBackend('linear', x, weight, bias) : commonBackend('linear', x, weight);
  if (weight.rank !== 2) throw new ShapeError(`linear: weight must be [out, in], received ${describeShape(weight.shape)}`);
  const outFeatures = weight.shape[0];
  const inFeatures = weight.shape[1];
  if (x.rank < 1 || x.shape[x.rank - 1] !== inFeatures) {
    throw new ShapeError(
      `linear: expected x [..., ${inFeatures}] for weight ${describeShape(weight.shape)}, received x ${describeShape(x.shape)}`,
    );
  }
  if (bias && (bias.rank !== 1 || bias.shape[0] !== outFeatures)) {
    throw new ShapeError(`linear: bias must be [${outFeatures}], received ${describeShape(bias.shape)}`);
  }
  const m = x.size / Math.max(1, inFeatures);
  const shape = x.shape.slice(0, -1);
  shape.push(outFeatures);
  let buffer: BackendBuffer;
  if (bias && m === 1) {
    // One row (per-token inference): accumulate the product into a copy of the bias, one
    // backend call fewer than adding the bias afterwards, with the same single rounding.
    buffer = backend.gemm(
      x.buffer,
      weight.buffer,
      { m, n: outFeatures, k: inFeatures, transB: true, beta: 1 },
      backend.unary('copy', bias.buffer),
    );
  } else {
    buffer = backend.gemm(x.buffer, weight.buffer, { m, n: outFeatures, k: inFeatures, transB: true });
    if (bias) {
      const withBias = backend.binary('add', buffer, [outFeatures, 1], bias.buffer, [0, 1], [m, outFeatures]);
      backend.dispose(buffer);
      buffer = withBias;
    }
  }
  return recordOp('linear', backend, [x, weight, bias ?? null], [[buffer, shape]], ([g], needs) => {
    if (!g) return [null, null, null];
    const gx = needs[0]
      ? Tensor.fromBuffer(backend, backend.gemm(g.buffer, weight.buffer, { m, n: inFeatures, k: outFeatures }), x.shape)
      : null;
    const gw = needs[1]
      ? Tensor.fromBuffer(backend, backend.gemm(g.buffer, x.buffer, { m: outFeatures, n: inFeatures, k: m, transA: true }), weight.shape)
      : null;
    const gb = needs[2] ? Tensor.fromBuffer(backend, backend.sumTo(g.buffer, [m, outFeatures], [1, outFeatures]), [outFeatures]) : null;
    return [gx, gw, gb];
  })[0];
}
