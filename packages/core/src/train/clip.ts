import { NonFiniteError, ValueRangeError } from '../errors.js';
import type { Parameter } from '../tensor.js';

export interface ClipGradNormOptions {
  /** Throw `NonFiniteError` (and leave the gradients unchanged) when the total norm is NaN or ±∞. */
  errorIfNonfinite?: boolean;
}

/**
 * PyTorch's `clip_grad_norm_` with the 2-norm: total = ‖all gradients‖₂,
 * coef = min(1, maxNorm / (total + 1e-6)), every gradient scaled by coef in place.
 * Resolves with the total norm before clipping. Parameters without a gradient are ignored.
 */
export async function clipGradNorm(params: Iterable<Parameter>, maxNorm: number, options: ClipGradNormOptions = {}): Promise<number> {
  if (!(maxNorm >= 0) || !Number.isFinite(maxNorm)) throw new ValueRangeError(`clipGradNorm: maxNorm must be a finite number ≥ 0, received ${maxNorm}`);
  const grads = [...params].flatMap((p) => (p.grad ? [p.grad] : []));
  if (grads.length === 0) return 0;
  const backend = grads[0].backend;
  const squares = backend.sumOfSquares(grads.map((g) => g.buffer));
  const total = Math.sqrt((await backend.read(squares))[0]);
  backend.dispose(squares);
  if (!Number.isFinite(total) && options.errorIfNonfinite) {
    throw new NonFiniteError(`clipGradNorm: the total norm of the gradients is ${total}; set errorIfNonfinite: false to clip anyway`);
  }
  const coef = Math.min(1, maxNorm / (total + 1e-6));
  // PyTorch multiplies even when coef is 1; skipping that changes nothing but saves a pass.
  if (coef < 1 || Number.isNaN(coef)) for (const g of grads) backend.unary('scale', g.buffer, coef, undefined, g.buffer);
  return total;
}

/** PyTorch's `clip_grad_value_`: clamps every gradient element to [−clipValue, clipValue] in place. */
export function clipGradValue(params: Iterable<Parameter>, clipValue: number): void {
  if (!(clipValue >= 0) || !Number.isFinite(clipValue)) {
    throw new ValueRangeError(`clipGradValue: clipValue must be a finite number ≥ 0, received ${clipValue}`);
  }
  for (const p of params) if (p.grad) p.backend.unary('clamp', p.grad.buffer, -clipValue, clipValue, p.grad.buffer);
}
