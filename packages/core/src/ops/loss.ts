import { recordOp } from '../autograd.js';
import { describeShape, NonFiniteError, OptionsError, ShapeError, ValueRangeError } from '../errors.js';
import { IntTensor, rowTargets } from '../int-tensor.js';
import { checkOptions, describeValue, type OptionsSchema, option } from '../options.js';
import { sameShape, stridesOf } from '../shape.js';
import { commonBackend, Tensor } from '../tensor.js';
import { square, sub } from './elementwise.js';
import { mean } from './reduce.js';

export interface CrossEntropyOptions {
  /** Targets equal to this are not counted (PyTorch's default -100). */
  ignoreIndex?: number;
  /** Per-row weights of 0 or 1 (or booleans): rows with 0 are not counted. */
  mask?: ArrayLike<number | boolean>;
}

/**
 * Mean softmax cross-entropy `−log softmax(logits)_y` over counted rows. `logits` is
 * `[..., classes]`; `targets` holds one class id per row (rows = all leading axes).
 */
const CROSS_ENTROPY_OPTIONS: OptionsSchema<CrossEntropyOptions> = { ignoreIndex: option.finiteNumber, mask: option.anything };

export function crossEntropy(logits: Tensor, targets: IntTensor | ArrayLike<number>, options: CrossEntropyOptions = {}): Tensor {
  checkOptions('crossEntropy', options, CROSS_ENTROPY_OPTIONS);
  const ignoreIndex = options.ignoreIndex ?? -100;
  checkLogits('crossEntropy', logits);
  const classes = logits.shape[logits.rank - 1];
  const rows = logits.size / Math.max(1, classes);
  const given = rowTargets('crossEntropy', targets, logits.shape);
  if (options.mask && options.mask.length !== rows) {
    throw new ShapeError(`crossEntropy: mask must hold one entry per row (${rows}), received ${options.mask.length}`);
  }
  const ids = new Int32Array(rows);
  let count = 0;
  for (let i = 0; i < rows; i++) {
    const y = given[i];
    const masked = options.mask ? !options.mask[i] : false;
    if (y === ignoreIndex || masked) {
      ids[i] = ignoreIndex;
      continue;
    }
    if (!Number.isInteger(y) || y < 0 || y >= classes) {
      throw new ValueRangeError(`crossEntropy: targets[${i}] = ${y} is out of range [0, ${classes}) (ignoreIndex is ${ignoreIndex})`);
    }
    ids[i] = y;
    count++;
  }
  if (count === 0) throw new ValueRangeError('crossEntropy: every target is ignored or masked, so the mean loss is undefined');
  const backend = logits.backend;
  const { loss, dLogits } = backend.softmaxCrossEntropy({ rows, classes, logits: logits.buffer, targets: ids, ignoreIndex, count });
  const grad = Tensor.fromBuffer(backend, dLogits, logits.shape);
  return recordOp('crossEntropy', backend, [logits], [[loss, []]], ([g]) => {
    if (!g) return [null];
    const strides = stridesOf(logits.shape);
    return [
      Tensor.fromBuffer(
        backend,
        backend.binary(
          'mul',
          grad.buffer,
          strides,
          g.buffer,
          strides.map(() => 0),
          logits.shape,
        ),
        logits.shape,
      ),
    ];
  })[0];
}

/**
 * Throws unless `logits` is a float `Tensor` of rank ≥ 1: swapped arguments (targets first) or
 * host data would otherwise fail later with a message about something else.
 */
export function checkLogits(where: string, logits: unknown): asserts logits is Tensor {
  if (!(logits instanceof Tensor)) {
    const what = logits instanceof IntTensor ? `an int32 tensor ${describeShape(logits.shape)} (targets go second)` : describeValue(logits);
    throw new OptionsError(`${where}: logits must be a float Tensor [..., classes], received ${what}`);
  }
  if (logits.rank < 1) throw new ShapeError(`${where}: logits must be [..., classes], received ${describeShape(logits.shape)}`);
}

/** Mean squared error `mean((input − target)²)`; `target` must have `input`'s shape. */
export function mse(input: Tensor, target: Tensor): Tensor {
  commonBackend('mse', input, target);
  if (!sameShape(input.shape, target.shape)) {
    throw new ShapeError(`mse: target must have the input's shape ${describeShape(input.shape)}, received ${describeShape(target.shape)}`);
  }
  return mean(square(sub(input, target)));
}

/** Resolves with the value of a one-element tensor, throwing `NonFiniteError` if it is NaN or ±∞. */
export async function checkFinite(t: Tensor, name = 'loss'): Promise<number> {
  const value = await t.item();
  if (!Number.isFinite(value)) throw new NonFiniteError(`${name} is ${value}; check the learning rate, the inputs and gradient clipping`);
  return value;
}
