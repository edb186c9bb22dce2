import { describeShape, ShapeError, ValueRangeError } from '../errors.js';
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

export async function accuracy(logits: Tensor, targets: ArrayLike<number>, options: AccuracyOptions = {}): Promise<number> {
  checkOptions('accuracy', options, ACCURACY_OPTIONS);
  const classes = logits.shape[logits.rank - 1];
  const rows = logits.size / Math.max(1, classes);
  if (targets.length !== rows)
    throw new ShapeError(
      `accuracy: targets must hold one id per row of logits ${describeShape(logits.shape)} (${rows}), received ${targets.length}`,
    );
  const ignoreIndex = options.ignoreIndex ?? -100;
  const values = await logits.toArray();
  let counted = 0;
  let correct = 0;
  for (let r = 0; r < rows; r++) {
    if (targets[r] === ignoreIndex || (options.mask && !options.mask[r])) continue;
    let best = 0;
    for (let c = 1; c < classes; c++) if (values[r * classes + c] > values[r * classes + best]) best = c;
    counted++;
    if (best === targets[r]) correct++;
  }
  if (counted === 0) throw new ValueRangeError('accuracy: every target is ignored or masked');
  return correct / counted;
}
