/**
 * Ids and targets as tensors, as in PyTorch: `Embedding.forward`, `crossEntropy` (function and
 * method) and `accuracy` take an int32 tensor and give exactly what the same ids as a host array
 * give; a float tensor, or targets whose shape does not match the logits, is a typed error
 * naming the argument and saying how to fix it.
 */
import { accuracy, crossEntropy, Embedding, OptionsError, ShapeError, type Tensor, tensor, ValueRangeError } from '@recur/core';
import { describe, expect, it } from 'vitest';
import { expectError, expectRejection, f64, randomArray, values } from './helpers.js';

const backend = f64();
const ids = [3, 0, 4, 4, 1, 2];
const targets = [2, 0, -100, 3, 1, 3];

describe('Embedding.forward with an int32 tensor', () => {
  const embed = () => new Embedding({ numEmbeddings: 5, embeddingDim: 2, backend, seed: 7 });

  it('gives [...ids.shape, embeddingDim] and the values (and gradient) of the array form', async () => {
    const fromTensor = embed();
    const fromArray = embed();
    const a = fromTensor.forward(tensor(ids, [3, 2], { dtype: 'int32' }));
    const b = fromArray.forward(ids, [3, 2]);
    expect([...a.shape]).toEqual([3, 2, 2]);
    expect(await values(a)).toEqual(await values(b));
    const weights = tensor(randomArray(1, 12), [3, 2, 2], { backend });
    a.mul(weights).sum().backward();
    b.mul(weights).sum().backward();
    expect(await values(fromTensor.weight.grad as Tensor)).toEqual(await values(fromArray.weight.grad as Tensor));
  });

  it('a float tensor of ids names the argument, the dtype, the shape and the fix', () => {
    const floats = tensor(ids.slice(0, 4), [4, 1], { backend });
    const error = expectError(
      () => embed().forward(floats as never),
      OptionsError,
      "Embedding.forward: ids must be an int32 tensor (tensor(ids, shape, { dtype: 'int32' })) or an array of integers, received a float64 tensor [4, 1] on js",
    );
    expect(error.message).not.toContain('every dimension');
  });

  it('other non-arrays are OptionsErrors naming ids', () => {
    expectError(() => embed().forward(3 as never), OptionsError, 'Embedding.forward: ids', 'received 3');
    expectError(() => embed().forward('0123' as never), OptionsError, 'Embedding.forward: ids', '"0123" (a string)');
    expectError(() => embed().forward(['1'] as never), OptionsError, 'ids[0] must be a number');
  });

  it('shape is taken from the tensor: passing one too is a ShapeError', () => {
    expectError(
      () => embed().forward(tensor(ids, [3, 2], { dtype: 'int32' }), [2, 3]),
      ShapeError,
      'shape must be omitted',
      '[3, 2]',
      'ids.reshape([2, 3])',
    );
    expectError(() => embed().forward(ids, 6 as never), ShapeError, 'Embedding.forward: shape', 'received 6');
  });

  it('ids out of range are checked as for arrays', () => {
    expectError(() => embed().forward(tensor([0, 9], [2, 1], { dtype: 'int32' })), ValueRangeError, 'ids[1] = 9', '[0, 5)');
    expectError(() => embed().forward(tensor([-1], [1], { dtype: 'int32' })), ValueRangeError, 'ids[0] = -1');
  });
});

describe('crossEntropy and accuracy with int32 targets', () => {
  const logitsData = randomArray(2, 3 * 2 * 4, -2, 2);
  const logits = (requiresGrad = false) => tensor(logitsData, [3, 2, 4], { backend, requiresGrad });
  const intTargets = () => tensor(targets, [3, 2], { dtype: 'int32' });

  it('same loss and gradient as with an array, for the function and the method', async () => {
    const [a, b, c] = [logits(true), logits(true), logits(true)];
    const fromArray = crossEntropy(a, targets);
    const fromTensor = crossEntropy(b, intTargets());
    const fromMethod = c.crossEntropy(intTargets(), { ignoreIndex: -100 });
    const expected = await fromArray.item();
    expect(await fromTensor.item()).toBe(expected);
    expect(await fromMethod.item()).toBe(expected);
    for (const loss of [fromArray, fromTensor, fromMethod]) loss.backward();
    expect(await values(b.grad as Tensor)).toEqual(await values(a.grad as Tensor));
    expect(await values(c.grad as Tensor)).toEqual(await values(a.grad as Tensor));
  });

  it('same accuracy as with an array', async () => {
    const expected = await accuracy(logits(), targets);
    expect(await accuracy(logits(), intTargets())).toBe(expected);
    expect(await accuracy(logits(), intTargets(), { mask: [1, 1, 1, 0, 1, 1] })).toBe(
      await accuracy(logits(), targets, { mask: [1, 1, 1, 0, 1, 1] }),
    );
  });

  it('targets whose shape is not the logits’ without the class axis name both shapes', async () => {
    const transposed = tensor(targets, [2, 3], { dtype: 'int32' });
    expectError(() => crossEntropy(logits(), transposed), ShapeError, 'crossEntropy: targets [2, 3]', 'logits [3, 2, 4]', '[3, 2]');
    expectError(() => crossEntropy(logits(), tensor(targets, [6], { dtype: 'int32' })), ShapeError, 'targets [6]', '[3, 2, 4]');
    await expectRejection(() => accuracy(logits(), transposed), ShapeError, 'accuracy: targets [2, 3]', 'logits [3, 2, 4]', '[3, 2]');
    // Host arrays carry no shape: their length is what is checked, as before.
    expectError(() => crossEntropy(logits(), [0, 1, 2]), ShapeError, 'targets', '(6)', 'received 3');
  });

  it('a float tensor of targets, or swapped arguments, is an OptionsError saying what to pass', async () => {
    const floats = tensor([2, 0, 1, 3, 1, 3], [3, 2], { backend });
    expectError(
      () => crossEntropy(logits(), floats as never),
      OptionsError,
      "crossEntropy: targets must be an int32 tensor (tensor(targets, shape, { dtype: 'int32' }))",
      'received a float64 tensor [3, 2] on js',
    );
    expectError(() => logits().crossEntropy(floats as never), OptionsError, 'crossEntropy: targets must be an int32 tensor');
    await expectRejection(() => accuracy(logits(), floats as never), OptionsError, 'accuracy: targets must be an int32 tensor', 'float64');
    expectError(
      () => crossEntropy(intTargets() as never, logits() as never),
      OptionsError,
      'crossEntropy: logits must be a float Tensor',
      'targets go second',
    );
  });

  it('int32 targets out of range are checked as for arrays', () => {
    expectError(
      () => crossEntropy(logits(), tensor([0, 1, 2, 3, 4, 0], [3, 2], { dtype: 'int32' })),
      ValueRangeError,
      'targets[4] = 4',
      '[0, 4)',
    );
  });
});
