import { noGrad } from '../autograd.js';
import { ShapeError } from '../errors.js';
import { describeValue } from '../options.js';
import { normalizeAxis } from '../shape.js';
import { Tensor } from '../tensor.js';
import { add, div, exp, log, relu, sub } from './elementwise.js';
import { sum } from './reduce.js';
import { concat, slice } from './shape-ops.js';

function checkInput(where: string, x: unknown, axis: unknown): number {
  if (!(x instanceof Tensor)) throw new ShapeError(`${where}: x must be a Tensor, received ${describeValue(x)}`);
  if (x.rank === 0) throw new ShapeError(`${where}: x must have at least one axis, received a scalar`);
  if (typeof axis !== 'number') throw new ShapeError(`${where}: axis must be an integer, received ${describeValue(axis)}`);
  return normalizeAxis(axis, x.rank, `${where}: axis`);
}

/**
 * The maximum of `x` along `axis`, kept as a size-1 axis, computed without recording: the
 * backends have no max reduction, so it halves the axis repeatedly with
 * `max(a, b) = b + relu(a − b)` (log₂ n steps of element-wise kernels, on every backend).
 * Softmax is invariant to the shift, so the shift needs no gradient, and rounding in it (an ulp
 * or so) only moves the largest exponent off exactly 1, which costs no accuracy.
 */
function maxAlong(x: Tensor, axis: number): Tensor {
  return noGrad(() => {
    let m = x;
    while (m.shape[axis] > 1) {
      const n = m.shape[axis];
      const half = Math.floor(n / 2);
      const a = slice(m, axis, 0, half);
      const b = slice(m, axis, half, half);
      const difference = sub(a, b);
      const positive = relu(difference);
      let next = add(b, positive);
      for (const t of [a, b, difference, positive]) t.dispose();
      if (n % 2 === 1) {
        const last = slice(m, axis, n - 1, 1);
        const joined = concat([next, last], axis);
        for (const t of [next, last]) t.dispose();
        next = joined;
      }
      if (m !== x) m.dispose();
      m = next;
    }
    return m === x ? x.detach() : m;
  });
}

/**
 * `exp(x) / Σ exp(x)` along `axis` (default the last), PyTorch's `torch.softmax(x, dim)`.
 * Numerically stable: the maximum along the axis is subtracted first, so logits of ±1000 give
 * exact probabilities instead of `Infinity / Infinity`. Differentiable (built from recorded ops).
 */
export function softmax(x: Tensor, axis = -1): Tensor {
  const ax = checkInput('softmax', x, axis);
  const shift = maxAlong(x, ax);
  const e = exp(sub(x, shift));
  shift.dispose();
  return div(e, sum(e, ax, { keepDims: true }));
}

/**
 * `x − log Σ exp(x)` along `axis` (default the last), PyTorch's `torch.log_softmax(x, dim)`:
 * log-probabilities computed stably (the maximum is subtracted before `exp`, and the log is of a
 * sum that is at least 1), where `log(softmax(x))` would give `-Infinity` for a probability that
 * underflows. Differentiable (built from recorded ops).
 */
export function logSoftmax(x: Tensor, axis = -1): Tensor {
  const ax = checkInput('logSoftmax', x, axis);
  const shift = maxAlong(x, ax);
  const shifted = sub(x, shift);
  shift.dispose();
  return sub(shifted, log(sum(exp(shifted), ax, { keepDims: true })));
}
