import type { Backend, BackendBuffer } from '../backend/interface.js';
import { NonFiniteError, ValueRangeError } from '../errors.js';
import { checkOptions, type OptionsSchema, option } from '../options.js';
import { keep } from '../scope.js';
import { stridesOf } from '../shape.js';
import { commonBackend, type Parameter, Tensor } from '../tensor.js';

export interface ClipGradNormOptions {
  /** Throw `NonFiniteError` (and leave the gradients unchanged) when the total norm is NaN or ±∞. */
  errorIfNonfinite?: boolean;
}

const CLIP_GRAD_NORM_OPTIONS: OptionsSchema<ClipGradNormOptions> = { errorIfNonfinite: option.boolean };

/**
 * PyTorch's `clip_grad_norm_` with the 2-norm: total = ‖all gradients‖₂,
 * coef = min(1, maxNorm / (total + 1e-6)), every gradient multiplied by coef. Resolves with the
 * total norm before clipping. Parameters without a gradient are ignored.
 *
 * The scaling is enqueued on the backend before this function first awaits, with the
 * coefficient computed on the device, so a GPU step needs no read-back: start the optimizer
 * step before awaiting the returned norm. With `errorIfNonfinite` the norm is read first
 * (a sync point, as in PyTorch) and a NaN or infinite norm throws, leaving the gradients as
 * they were.
 *
 * Awaiting is therefore optional when the norm is not needed: `clipGradNorm(params, 1)` (or
 * `void clipGradNorm(…)` where a linter asks) has clipped, as far as any later call can tell,
 * when it returns, on every backend. Two exceptions: with `errorIfNonfinite` nothing is
 * clipped before the read, so await it; and the norm's read reports a deferred failure of
 * earlier work, which an un-awaited call turns into an unhandled rejection (in Node, the
 * process ends with that error). There is no synchronous variant: its norm would need a
 * blocking read, which WebGPU lacks, while the clipping needs none.
 */
export async function clipGradNorm(params: Iterable<Parameter>, maxNorm: number, options: ClipGradNormOptions = {}): Promise<number> {
  checkOptions('clipGradNorm', options, CLIP_GRAD_NORM_OPTIONS);
  if (!(maxNorm >= 0) || !Number.isFinite(maxNorm))
    throw new ValueRangeError(`clipGradNorm: maxNorm must be a finite number ≥ 0, received ${maxNorm}`);
  const owners = [...params].filter((p) => p.grad !== null);
  if (owners.length === 0) return 0;
  const backend = commonBackend('clipGradNorm', ...owners);
  const squares = backend.sumOfSquares(owners.map((p) => (p.grad as Tensor).buffer));
  const total = backend.unary('sqrt', squares);
  backend.dispose(squares);
  if (options.errorIfNonfinite) {
    const value = (await backend.read(total))[0];
    if (!Number.isFinite(value)) {
      backend.dispose(total);
      throw new NonFiniteError(`clipGradNorm: the total norm of the gradients is ${value}; set errorIfNonfinite: false to clip anyway`);
    }
  }
  scaleGradients(owners, clipCoefficient(backend, total, maxNorm));
  const value = backend.read(total);
  backend.dispose(total);
  return (await value)[0];
}

/** min(1, maxNorm / (total + 1e-6)) as a 1-element buffer, computed on the device. */
function clipCoefficient(backend: Backend, total: BackendBuffer, maxNorm: number): BackendBuffer {
  const epsilon = backend.fill(1, 1e-6);
  const shifted = backend.binary('add', total, [1], epsilon, [1], [1]);
  const coef = backend.unary('reciprocal', shifted);
  backend.unary('scale', coef, maxNorm, undefined, coef);
  backend.unary('clamp', coef, undefined, 1, coef);
  for (const b of [epsilon, shifted]) backend.dispose(b);
  return coef;
}

/** Replaces every gradient by gradient × coef (coef broadcast from one element); frees coef. */
function scaleGradients(owners: Parameter[], coef: BackendBuffer): void {
  for (const p of owners) {
    const g = p.grad as Tensor;
    const strides = stridesOf(g.shape);
    const scaled = p.backend.binary(
      'mul',
      g.buffer,
      strides,
      coef,
      strides.map(() => 0),
      g.shape,
    );
    p.grad = keep(Tensor.fromBuffer(p.backend, scaled, g.shape));
    g.dispose();
  }
  owners[0].backend.dispose(coef);
}

/** PyTorch's `clip_grad_value_`: clamps every gradient element to [−clipValue, clipValue] in place. */
export function clipGradValue(params: Iterable<Parameter>, clipValue: number): void {
  if (!(clipValue >= 0) || !Number.isFinite(clipValue)) {
    throw new ValueRangeError(`clipGradValue: clipValue must be a finite number ≥ 0, received ${clipValue}`);
  }
  for (const p of params) {
    if (!p.grad) continue;
    p.backend.unary('clamp', p.grad.buffer, -clipValue, clipValue, p.grad.buffer);
    // A gradient can be an op's input too (`mul(x, p.grad)`): such a graph must see the change.
    p.grad.bumpVersion();
  }
}
