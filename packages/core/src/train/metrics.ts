import { ValueRangeError } from '../errors.js';
import { type IntTensor, rowTargets } from '../int-tensor.js';
import { checkLogits } from '../ops/loss.js';
import { checkOptions, type OptionsSchema, option } from '../options.js';
import type { Tensor } from '../tensor.js';

/** exp(mean cross-entropy in nats); a uniform prediction over V classes gives V. */
export function perplexity(meanCrossEntropy: number): number {
  if (Number.isNaN(meanCrossEntropy)) throw new ValueRangeError('perplexity: the mean cross-entropy is NaN');
  return Math.exp(meanCrossEntropy);
}

export interface AccuracyOptions {
  ignoreIndex?: number;
  mask?: ArrayLike<number | boolean>;
}

/**
 * Fraction of counted rows whose arg-max class equals the target; `logits` is `[..., classes]`.
 * Ties resolve to the lowest class index.
 */
const ACCURACY_OPTIONS: OptionsSchema<AccuracyOptions> = { ignoreIndex: option.finiteNumber, mask: option.anything };

export async function accuracy(logits: Tensor, targets: IntTensor | ArrayLike<number>, options: AccuracyOptions = {}): Promise<number> {
  checkOptions('accuracy', options, ACCURACY_OPTIONS);
  checkLogits('accuracy', logits);
  const classes = logits.shape[logits.rank - 1];
  const rows = logits.size / Math.max(1, classes);
  const ids = rowTargets('accuracy', targets, logits.shape);
  const ignoreIndex = options.ignoreIndex ?? -100;
  const values = await logits.toArray();
  let counted = 0;
  let correct = 0;
  for (let r = 0; r < rows; r++) {
    if (ids[r] === ignoreIndex || (options.mask && !options.mask[r])) continue;
    let best = 0;
    for (let c = 1; c < classes; c++) if (values[r * classes + c] > values[r * classes + best]) best = c;
    counted++;
    if (best === ids[r]) correct++;
  }
  if (counted === 0) throw new ValueRangeError('accuracy: every target is ignored or masked');
  return correct / counted;
}
