/**
 * Optimizer updates with PyTorch 1.13's semantics (the single-tensor `for` loops of
 * `torch.optim.{SGD, Adam, AdamW, RMSprop}`), element by element. The arithmetic follows
 * PyTorch's order of operations so float64 results agree to rounding.
 */
import type { FloatArray, OptimizerUpdate } from '@recur/core/backend';

type Sgd = Extract<OptimizerUpdate, { kind: 'sgd' }>;
type Adam = Extract<OptimizerUpdate, { kind: 'adam' }>;
type RmsProp = Extract<OptimizerUpdate, { kind: 'rmsprop' }>;

/** Updates `param` and `state` in place. State: sgd `[momentum]`; adam `[m, v, vMax]`; rmsprop `[squareAvg, momentum, gradAvg]`. */
export function optimizerStep(update: OptimizerUpdate, param: FloatArray, grad: FloatArray, state: readonly FloatArray[]): void {
  switch (update.kind) {
    case 'sgd':
      sgdStep(update, param, grad, state);
      break;
    case 'adam':
      adamStep(update, param, grad, state);
      break;
    case 'rmsprop':
      rmspropStep(update, param, grad, state);
      break;
  }
}

/**
 * d = g + wd·p; with momentum: buf = d on the first step, else buf = μ·buf + (1 − dampening)·d,
 * and d = d + μ·buf (Nesterov) or d = buf; then p −= lr·d.
 */
function sgdStep(u: Sgd, param: FloatArray, grad: FloatArray, state: readonly FloatArray[]): void {
  const buf = state[0];
  for (let i = 0; i < param.length; i++) {
    let d = grad[i];
    if (u.weightDecay !== 0) d += u.weightDecay * param[i];
    if (u.momentum !== 0) {
      buf[i] = u.firstStep ? d : u.momentum * buf[i] + (1 - u.dampening) * d;
      d = u.nesterov ? d + u.momentum * buf[i] : buf[i];
    }
    param[i] += -u.lr * d;
  }
}

/**
 * Adam (L2 decay added to the gradient) or AdamW (`decoupled`: p *= 1 − lr·wd first):
 *   m = β1·m + (1 − β1)·g,  v = β2·v + (1 − β2)·g²,  vMax = max(vMax, v) with amsgrad,
 *   p −= (lr / (1 − β1^t)) · m / (sqrt(v or vMax) / sqrt(1 − β2^t) + eps).
 */
function adamStep(u: Adam, param: FloatArray, grad: FloatArray, state: readonly FloatArray[]): void {
  const [m, v, vMax] = state;
  const stepSize = u.lr / (1 - u.beta1 ** u.step);
  const correction2Sqrt = Math.sqrt(1 - u.beta2 ** u.step);
  for (let i = 0; i < param.length; i++) {
    let g = grad[i];
    if (u.weightDecay !== 0) {
      if (u.decoupled) param[i] *= 1 - u.lr * u.weightDecay;
      else g += u.weightDecay * param[i];
    }
    m[i] = m[i] * u.beta1 + (1 - u.beta1) * g;
    v[i] = v[i] * u.beta2 + (1 - u.beta2) * g * g;
    let second = v[i];
    if (u.amsgrad) {
      vMax[i] = Math.max(vMax[i], v[i]);
      second = vMax[i];
    }
    const denom = Math.sqrt(second) / correction2Sqrt + u.eps;
    param[i] += -stepSize * (m[i] / denom);
  }
}

/**
 * RMSprop: g += wd·p;  sq = α·sq + (1 − α)·g²;  centered: ga = α·ga + (1 − α)·g and
 * avg = sqrt(sq − ga²) + eps, else avg = sqrt(sq) + eps;  with momentum buf = μ·buf + g/avg
 * and p −= lr·buf, else p −= lr·g/avg.
 */
function rmspropStep(u: RmsProp, param: FloatArray, grad: FloatArray, state: readonly FloatArray[]): void {
  const [squareAvg, buf, gradAvg] = state;
  for (let i = 0; i < param.length; i++) {
    let g = grad[i];
    if (u.weightDecay !== 0) g += u.weightDecay * param[i];
    squareAvg[i] = squareAvg[i] * u.alpha + (1 - u.alpha) * g * g;
    let avg: number;
    if (u.centered) {
      gradAvg[i] = gradAvg[i] * u.alpha + (1 - u.alpha) * g;
      avg = Math.sqrt(squareAvg[i] - gradAvg[i] * gradAvg[i]) + u.eps;
    } else {
      avg = Math.sqrt(squareAvg[i]) + u.eps;
    }
    if (u.momentum > 0) {
      buf[i] = buf[i] * u.momentum + g / avg;
      param[i] += -u.lr * buf[i];
    } else {
      param[i] += -u.lr * (g / avg);
    }
  }
}
