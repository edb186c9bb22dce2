import type { FloatArray } from '@recur/core/backend';

export interface CrossEntropyArrays {
  rows: number;
  classes: number;
  logits: FloatArray;
  targets: Int32Array;
  ignoreIndex: number;
  count: number;
  /** `[rows, classes]`, written in full (zero rows for ignored targets). */
  dLogits: FloatArray;
}

/**
 * Mean softmax cross-entropy over the counted rows; returns the loss and writes its gradient
 * `(softmax − onehot) / count` into `dLogits`.
 *
 * Per row, with m = max logit and s = Σ exp(o_j − m):
 *   −log softmax(o)_y = log s + m − o_y,   softmax_j = exp(o_j − m) / s.
 * Subtracting m keeps every exponent ≤ 0, so logits of any magnitude give finite values.
 */
export function softmaxCrossEntropy(a: CrossEntropyArrays): number {
  const { classes, logits, dLogits } = a;
  let total = 0;
  for (let r = 0; r < a.rows; r++) {
    const base = r * classes;
    const y = a.targets[r];
    if (y === a.ignoreIndex) {
      dLogits.fill(0, base, base + classes);
      continue;
    }
    let max = -Infinity;
    for (let j = 0; j < classes; j++) max = Math.max(max, logits[base + j]);
    let sum = 0;
    for (let j = 0; j < classes; j++) sum += Math.exp(logits[base + j] - max);
    total += Math.log(sum) + max - logits[base + y];
    for (let j = 0; j < classes; j++) {
      const p = Math.exp(logits[base + j] - max) / sum;
      dLogits[base + j] = (p - (j === y ? 1 : 0)) / a.count;
    }
  }
  return total / a.count;
}
