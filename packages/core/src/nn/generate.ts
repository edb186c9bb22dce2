import { noGrad } from '../autograd.js';
import { describeShape, OptionsError, ShapeError, ValueRangeError } from '../errors.js';
import { type IntTensor, indexArgument, intTensor } from '../int-tensor.js';
import { SAMPLE_OPTIONS, type SampleOptions, sample } from '../ops/sampling.js';
import { reshape, slice } from '../ops/shape-ops.js';
import { checkOptions, describeValue } from '../options.js';
import { tidy } from '../scope.js';
import type { Tensor } from '../tensor.js';
import { RecurrentLayer } from './recurrent.js';
import { Sequential } from './sequential.js';

/** How `generate` draws each token: `sample`'s options (`temperature` 0 takes the arg-max). */
export type GenerateOptions = SampleOptions;

/**
 * Continues `prime` by `n` tokens with a language model: a `Sequential` mapping ids to logits
 * over the vocabulary (Embedding → recurrent layer(s) → Linear). It feeds the whole prime in one
 * call, then draws one token at a time with `sample(logits, options)` and feeds it back,
 * carrying every recurrent layer's state from call to call (`forwardWithState`), with nothing
 * recorded for autograd. The only waits are the reads of each step's logits, so it runs on every
 * backend. Dropout stays as the model's mode says: call `model.eval()` first.
 *
 * `prime` is one sequence of ids (an array, or an int32 tensor `[T]`), or a batch `[T, B]`
 * (`[B, T]` when the model's recurrent layers are `batchFirst`); it must hold at least one token.
 * Resolves with the `n` new ids only: `[n]` for one sequence, `[n, B]` (or `[B, n]`) for a batch.
 *
 * ```ts
 * const ids = await generate(model.eval(), encode('ROMEO:'), 200, { temperature: 0.8, random: new Random(1) });
 * ```
 */
export async function generate(
  model: Sequential,
  prime: IntTensor | ArrayLike<number>,
  n: number,
  options: GenerateOptions = {},
): Promise<IntTensor> {
  if (!(model instanceof Sequential)) {
    throw new OptionsError(
      `generate: model must be a Sequential language model (Embedding, recurrent layers, Linear), received ${describeValue(model)}`,
    );
  }
  checkOptions('generate', options, SAMPLE_OPTIONS);
  if (!Number.isInteger(n) || n < 0) throw new ValueRangeError(`generate: n must be an integer ≥ 0, received ${n}`);
  const given = indexArgument(prime, 'generate', 'prime');
  const shape = given.shape ?? [given.values.length];
  if (shape.length !== 1 && shape.length !== 2) {
    throw new ShapeError(`generate: prime must be [T] or [T, B] token ids, received ${describeShape(shape)}`);
  }
  const batchFirst = model.layers.some((layer) => layer instanceof RecurrentLayer && layer.batchFirst);
  const timeAxis = shape.length === 2 && batchFirst ? 1 : 0;
  const steps = shape[timeAxis];
  if (steps < 1) throw new ShapeError(`generate: prime must hold at least one token per sequence, received ${describeShape(shape)}`);
  const batch = shape.length === 2 ? shape[1 - timeAxis] : 1;
  // The model always sees two axes; a one-step input is [1, B] or [B, 1].
  const inputShape = (t: number) => (batchFirst ? [batch, t] : [t, batch]);
  const drawn = new Int32Array(n * batch);
  let state: Tensor[][] | undefined;
  let input = intTensor(given.values, inputShape(steps));
  for (let i = 0; i < n; i++) {
    const step = noGrad(() =>
      tidy(() => {
        const out = model.forwardWithState(input, { state });
        const logits = out.output;
        if (logits.rank !== 3) {
          throw new ShapeError(`generate: the model must return logits [T, B, vocabulary], received ${describeShape(logits.shape)}`);
        }
        const last = slice(logits, batchFirst ? 1 : 0, logits.shape[batchFirst ? 1 : 0] - 1, 1);
        return { logits: reshape(last, [batch, logits.shape[2]]), state: out.state };
      }),
    );
    if (state) for (const s of state.flat()) s.dispose();
    state = step.state;
    const ids = await sample(step.logits, options).finally(() => step.logits.dispose());
    // Time-major [n, B] output, or [B, n] for batch-first models.
    for (let b = 0; b < batch; b++) drawn[batchFirst ? b * n + i : i * batch + b] = ids.data[b];
    input = intTensor(ids.data, inputShape(1));
  }
  if (state) for (const s of state.flat()) s.dispose();
  const outShape = shape.length === 1 ? [n] : batchFirst ? [batch, n] : [n, batch];
  return intTensor(drawn, outShape);
}
