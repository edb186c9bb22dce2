import { NonFiniteError, ShapeError } from '../errors.js';
import { type IntTensor, intTensor } from '../int-tensor.js';
import { checkOptions, type OptionsSchema, option } from '../options.js';
import { globalGenerator, Random } from '../random.js';
import type { Tensor } from '../tensor.js';

export interface SampleOptions {
  /** Divides the logits: below 1 sharpens, above 1 flattens; 0 takes the arg-max. Default 1. */
  temperature?: number;
  /** Only the `topK` most likely classes may be drawn. */
  topK?: number;
  /** Only the smallest set of most likely classes whose probabilities reach `topP` (nucleus sampling). */
  topP?: number;
  /** The generator to draw from (default: the global one, seeded by `manualSeed`). */
  random?: Random;
}

export const SAMPLE_OPTIONS: OptionsSchema<SampleOptions> = {
  temperature: option.nonNegativeNumber,
  topK: option.positiveInteger,
  topP: option.numberIn(0, 1, '(]'),
  random: option.instance(Random, 'a Random'),
};

/**
 * Draws one class per row of `logits` (`[..., classes]`) from `softmax(logits / temperature)`,
 * restricted to the `topK` and `topP` most likely classes when given: PyTorch's
 * `torch.multinomial(torch.softmax(logits / t, -1), 1)` with the usual truncations. Resolves
 * with an int32 tensor of the leading shape. Reads the logits back (the one await).
 */
export async function sample(logits: Tensor, options: SampleOptions = {}): Promise<IntTensor> {
  checkOptions('sample', options, SAMPLE_OPTIONS);
  if (logits.rank < 1 || logits.shape[logits.rank - 1] < 1) {
    throw new ShapeError(`sample: logits must be [..., classes] with at least one class, received [${logits.shape.join(', ')}]`);
  }
  const classes = logits.shape[logits.rank - 1];
  const rows = logits.size / classes;
  const temperature = options.temperature ?? 1;
  const random = options.random ?? globalGenerator();
  const values = await logits.toArray();
  const drawn = new Int32Array(rows);
  const order = Array.from({ length: classes }, (_, i) => i);
  for (let row = 0; row < rows; row++) {
    const z = values.subarray(row * classes, (row + 1) * classes);
    const bad = z.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) throw new NonFiniteError(`sample: logits row ${row} holds ${z[bad]} (class ${bad}); the model diverged`);
    order.sort((a, b) => z[b] - z[a]);
    if (temperature === 0) {
      drawn[row] = order[0];
      continue;
    }
    // Probabilities of the classes in decreasing order, shifted by the maximum for stability.
    let kept = Math.min(classes, options.topK ?? classes);
    const weights = new Float64Array(kept);
    let total = 0;
    for (let i = 0; i < kept; i++) total += weights[i] = Math.exp((z[order[i]] - z[order[0]]) / temperature);
    if (options.topP !== undefined) {
      let mass = 0;
      for (let i = 0; i < kept; i++) {
        mass += weights[i] / total;
        if (mass >= options.topP) {
          kept = i + 1;
          break;
        }
      }
      total = 0;
      for (let i = 0; i < kept; i++) total += weights[i];
    }
    let u = random.next() * total;
    let pick = kept - 1;
    for (let i = 0; i < kept; i++) {
      u -= weights[i];
      if (u < 0) {
        pick = i;
        break;
      }
    }
    drawn[row] = order[pick];
  }
  return intTensor(drawn, logits.shape.slice(0, -1));
}
