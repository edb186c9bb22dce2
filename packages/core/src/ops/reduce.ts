import { recordOp } from '../autograd.js';
import { checkOptions, type OptionsSchema, option } from '../options.js';
import { broadcastStrides, normalizeAxis, type Shape, sizeOf } from '../shape.js';
import { Tensor } from '../tensor.js';
import { scale } from './elementwise.js';

export interface ReduceOptions {
  /** Keep reduced axes as size-1 dimensions. Default false. */
  keepDims?: boolean;
}

const REDUCE_OPTIONS: OptionsSchema<ReduceOptions> = { keepDims: option.boolean };

/** `[shape with reduced axes set to 1, result shape]`. */
function reducedShapes(x: Tensor, axes: number | readonly number[] | undefined, keepDims: boolean): [number[], number[]] {
  const list =
    axes === undefined ? x.shape.map((_, i) => i) : (typeof axes === 'number' ? [axes] : axes).map((a) => normalizeAxis(a, x.rank, 'axes'));
  const kept = x.shape.map((d, i) => (list.includes(i) ? 1 : d));
  return [kept, keepDims ? kept : x.shape.filter((_, i) => !list.includes(i))];
}

/** Broadcasts `g` (whose data has shape `from`, broadcast-compatible with `to`) to shape `to`. */
export function expandTo(g: Tensor, from: Shape, to: Shape): Tensor {
  const one = g.backend.fill(1, 1);
  const buffer = g.backend.binary(
    'mul',
    g.buffer,
    broadcastStrides(from, to),
    one,
    to.map(() => 0),
    to,
  );
  g.backend.dispose(one);
  return Tensor.fromBuffer(g.backend, buffer, to);
}

/** Sum over `axes` (all axes when omitted). */
export function sum(x: Tensor, axes?: number | readonly number[], options: ReduceOptions = {}): Tensor {
  checkOptions('sum', options, REDUCE_OPTIONS);
  const [kept, shape] = reducedShapes(x, axes, options.keepDims ?? false);
  const buffer = x.backend.sumTo(x.buffer, x.shape, kept);
  return recordOp('sum', x.backend, [x], [[buffer, shape]], ([g]) => [g ? expandTo(g, kept, x.shape) : null])[0];
}

/** Mean over `axes` (all axes when omitted). */
export function mean(x: Tensor, axes?: number | readonly number[], options: ReduceOptions = {}): Tensor {
  checkOptions('mean', options, REDUCE_OPTIONS);
  const [kept] = reducedShapes(x, axes, true);
  return scale(sum(x, axes, options), sizeOf(kept) / Math.max(1, x.size));
}
