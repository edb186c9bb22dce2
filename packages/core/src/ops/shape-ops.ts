import { recordOp, recordView } from '../autograd.js';
import { describeShape, ShapeError, ValueRangeError } from '../errors.js';
import { assertValidShape, normalizeAxis, type Shape, sizeOf } from '../shape.js';
import { commonBackend, Tensor } from '../tensor.js';

/** Same data, another shape; one dimension may be -1 (inferred). */
export function reshape(x: Tensor, shape: Shape): Tensor {
  const inferred = shape.indexOf(-1);
  let resolved: Shape = shape;
  if (inferred >= 0) {
    const known = sizeOf(shape.filter((_, i) => i !== inferred));
    if (known === 0 || x.size % known !== 0) {
      throw new ShapeError(`reshape: cannot infer dimension ${inferred} of ${describeShape(shape)} for ${x.size} elements`);
    }
    resolved = shape.map((d, i) => (i === inferred ? x.size / known : d));
  }
  assertValidShape(resolved, 'shape');
  if (sizeOf(resolved) !== x.size) {
    throw new ShapeError(`reshape: cannot reshape ${describeShape(x.shape)} (${x.size} elements) to ${describeShape(resolved)}`);
  }
  return recordView(x, resolved);
}

/** Reorders axes: the result's axis i is the input's axis `perm[i]`. */
export function permute(x: Tensor, perm: readonly number[]): Tensor {
  const sorted = [...perm].map((a) => normalizeAxis(a, x.rank, 'perm'));
  if (sorted.length !== x.rank || new Set(sorted).size !== x.rank) {
    throw new ShapeError(`permute: perm must list each of the ${x.rank} axes once, received [${perm.join(', ')}]`);
  }
  const inverse = new Array<number>(x.rank);
  sorted.forEach((p, i) => {
    inverse[p] = i;
  });
  const shape = sorted.map((a) => x.shape[a]);
  const buffer = x.backend.permute(x.buffer, x.shape, sorted);
  return recordOp('permute', x.backend, [x], [[buffer, shape]], ([g]) => [
    g ? Tensor.fromBuffer(x.backend, x.backend.permute(g.buffer, g.shape, inverse), x.shape) : null,
  ])[0];
}

/** Swaps two axes (the last two by default). */
export function transpose(x: Tensor, axis0 = -2, axis1 = -1): Tensor {
  const a = normalizeAxis(axis0, x.rank, 'axis0');
  const b = normalizeAxis(axis1, x.rank, 'axis1');
  const perm = x.shape.map((_, i) => i);
  perm[a] = b;
  perm[b] = a;
  return permute(x, perm);
}

/** Joins tensors along an existing axis. */
export function concat(xs: readonly Tensor[], axis = 0): Tensor {
  if (xs.length === 0) throw new ShapeError('concat: expected at least one tensor, received none');
  const backend = commonBackend('concat', ...xs);
  const ax = normalizeAxis(axis, xs[0].rank, 'axis');
  for (const [i, t] of xs.entries()) {
    if (t.rank !== xs[0].rank || t.shape.some((d, j) => j !== ax && d !== xs[0].shape[j])) {
      throw new ShapeError(
        `concat: tensor ${i} has shape ${describeShape(t.shape)}, incompatible with ${describeShape(xs[0].shape)} along axis ${ax}`,
      );
    }
  }
  const shape = [...xs[0].shape];
  shape[ax] = xs.reduce((n, t) => n + t.shape[ax], 0);
  const buffer = backend.concat(
    xs.map((t) => t.buffer),
    xs.map((t) => t.shape),
    ax,
  );
  return recordOp('concat', backend, xs, [[buffer, shape]], ([g], needs) => {
    if (!g) return xs.map(() => null);
    let start = 0;
    return xs.map((t, i) => {
      const part = needs[i] ? Tensor.fromBuffer(backend, backend.slice(g.buffer, g.shape, ax, start, t.shape[ax]), t.shape) : null;
      start += t.shape[ax];
      return part;
    });
  })[0];
}

/** `[start, start + length)` along `axis`. */
export function slice(x: Tensor, axis: number, start: number, length: number): Tensor {
  const ax = normalizeAxis(axis, x.rank, 'axis');
  if (!Number.isInteger(start) || !Number.isInteger(length) || start < 0 || length < 0 || start + length > x.shape[ax]) {
    throw new ValueRangeError(
      `slice: [start, start + length) must lie in [0, ${x.shape[ax]}] on axis ${ax}, received start ${start}, length ${length}`,
    );
  }
  const shape = [...x.shape];
  shape[ax] = length;
  const buffer = x.backend.slice(x.buffer, x.shape, ax, start, length);
  return recordOp('slice', x.backend, [x], [[buffer, shape]], ([g]) => {
    if (!g) return [null];
    const parts: Tensor[] = [];
    const zerosOf = (n: number) => {
      const s = [...x.shape];
      s[ax] = n;
      return Tensor.fromBuffer(x.backend, x.backend.fill(sizeOf(s), 0), s);
    };
    if (start > 0) parts.push(zerosOf(start));
    parts.push(g);
    if (start + length < x.shape[ax]) parts.push(zerosOf(x.shape[ax] - start - length));
    const buffer = x.backend.concat(
      parts.map((p) => p.buffer),
      parts.map((p) => p.shape),
      ax,
    );
    return [Tensor.fromBuffer(x.backend, buffer, x.shape)];
  })[0];
}

/**
 * Splits along axis 0 into its slices, as one recorded operation: the backward pass stacks the
 * slices' gradients in one concat instead of padding each (which would cost O(T²) for T steps).
 */
export function unstack(x: Tensor): Tensor[] {
  if (x.rank === 0) throw new ShapeError('unstack: expected a tensor of rank ≥ 1, received a scalar');
  const count = x.shape[0];
  const inner = x.shape.slice(1);
  const outputs = Array.from({ length: count }, (_, i) => [x.backend.slice(x.buffer, x.shape, 0, i, 1), inner] as const);
  return recordOp('unstack', x.backend, [x], outputs, (grads) => {
    const parts = grads.map((g) => g?.buffer ?? x.backend.fill(sizeOf(inner), 0));
    const buffer = x.backend.concat(
      parts,
      parts.map(() => [1, ...inner]),
      0,
    );
    grads.forEach((g, i) => {
      if (!g) x.backend.dispose(parts[i]);
    });
    return [Tensor.fromBuffer(x.backend, buffer, x.shape)];
  });
}

/** Joins same-shaped tensors along a new axis 0. */
export function stack(xs: readonly Tensor[]): Tensor {
  if (xs.length === 0) throw new ShapeError('stack: expected at least one tensor, received none');
  for (const [i, t] of xs.entries()) {
    if (t.shape.length !== xs[0].shape.length || t.shape.some((d, j) => d !== xs[0].shape[j])) {
      throw new ShapeError(`stack: tensor ${i} has shape ${describeShape(t.shape)}, expected ${describeShape(xs[0].shape)}`);
    }
  }
  return concat(
    xs.map((t) => recordView(t, [1, ...t.shape])),
    0,
  );
}

/**
 * Row gather: `x` is read as `[rows, width]` (rows = first dimension) and the result is
 * `[index.length, ...x.shape.slice(1)]` with `out[i] = x[index[i]]`. Its gradient scatter-adds.
 * `shape`, when given, is the result's shape instead (any with the same number of elements):
 * an embedding lookup then needs no reshape.
 */
export function gatherRows(x: Tensor, index: Int32Array, shape?: Shape): Tensor {
  const rows = x.shape[0];
  for (let i = 0; i < index.length; i++) {
    const r = index[i];
    if (!Number.isInteger(r) || r < 0 || r >= rows) {
      throw new ValueRangeError(`gatherRows: index[${i}] = ${r} is out of range [0, ${rows})`);
    }
  }
  const width = x.size / Math.max(1, rows);
  let outShape: Shape;
  if (shape) {
    assertValidShape(shape, 'gatherRows: shape');
    if (sizeOf(shape) !== index.length * width) {
      throw new ShapeError(`gatherRows: shape ${describeShape(shape)} must hold index.length · width = ${index.length * width} elements`);
    }
    outShape = shape;
  } else {
    const rest = x.shape.slice(1);
    rest.unshift(index.length);
    outShape = rest;
  }
  const buffer = x.backend.gatherRows(x.buffer, width, index);
  return recordOp('gatherRows', x.backend, [x], [[buffer, outShape]], ([g]) => [
    g ? Tensor.fromBuffer(x.backend, x.backend.scatterAddRows(g.buffer, width, index, rows), x.shape) : null,
  ])[0];
}
