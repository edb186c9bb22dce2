import {
  add,
  BackendMismatchError,
  BackendUnavailableError,
  concat,
  createBackend,
  crossEntropy,
  Embedding,
  GRU,
  LSTM,
  linear,
  matmul,
  mse,
  mul,
  permute,
  RecurError,
  RNN,
  ShapeError,
  slice,
  stack,
  tensor,
  ValueRangeError,
  zeros,
} from '@recur/core';
import { describe, expect, it } from 'vitest';
import { expectError, expectRejection, f64 } from './helpers.js';

const backend = f64();
const t = (shape: number[]) => zeros(shape, { backend });

describe('typed errors name the argument and the expected and received values', () => {
  it('every typed error is a RecurError with its class name', () => {
    const e = expectError(() => matmul(t([2, 3]), t([4, 5])), ShapeError);
    expect(e).toBeInstanceOf(RecurError);
    expect(e.name).toBe('ShapeError');
  });

  it('matmul', () => {
    expectError(() => matmul(t([2, 3]), t([4, 5])), ShapeError, 'matmul', '[2, 3]', '[4, 5]');
    expectError(() => matmul(t([2, 3]), t([3])), ShapeError, 'matmul', '[3]');
  });

  it('linear', () => {
    expectError(() => linear(t([2, 3]), t([5, 4])), ShapeError, 'linear', 'x', '[2, 3]', '[5, 4]');
    expectError(() => linear(t([2, 4]), t([5, 4]), t([4])), ShapeError, 'linear', 'bias', '[5]', '[4]');
    expectError(() => linear(t([2, 4]), t([4])), ShapeError, 'linear', 'weight', '[out, in]', 'received [4]');
  });

  it('broadcasting element-wise ops', () => {
    expectError(() => add(t([2, 3]), t([2])), ShapeError, 'add', '[2, 3]', '[2]');
    expectError(() => mul(t([2, 3]), t([3, 3])), ShapeError, 'mul', '[2, 3]', '[3, 3]');
  });

  it('concat, stack, permute, slice', () => {
    expectError(() => concat([t([2, 3]), t([2, 4])], 0), ShapeError, 'concat', 'tensor 1', '[2, 4]', '[2, 3]');
    expectError(() => concat([t([2, 3]), t([2, 3, 1])], 0), ShapeError, 'concat', '[2, 3, 1]');
    expectError(() => concat([], 0), ShapeError, 'concat');
    expectError(() => concat([t([2, 3]), t([2, 3])], 2), ValueRangeError, 'axis', '2');
    expectError(() => stack([t([2]), t([3])]), ShapeError, 'stack', '[3]', '[2]');
    expectError(() => permute(t([2, 3]), [0, 0]), ShapeError, 'permute', '[0, 0]');
    expectError(() => slice(t([2, 3]), 1, 2, 2), ValueRangeError, 'slice', 'start 2', 'length 2');
  });

  it('mse and tensor creation', () => {
    expectError(() => mse(t([2, 3]), t([3, 2])), ShapeError, 'mse', '[2, 3]', '[3, 2]');
    expectError(() => tensor([1, 2, 3], [2, 2], { backend }), ShapeError, 'tensor', '3', '[2, 2]');
    expectError(() => zeros([2, -1], { backend }), ShapeError, 'shape', '[2, -1]');
  });

  describe('recurrent layers', () => {
    const rnn = new GRU({ inputSize: 3, hiddenSize: 4, numLayers: 2, bidirectional: true, backend, seed: 1 });

    it('input rank and size', () => {
      // [T, I] is unbatched input (as in PyTorch); other ranks and widths are errors.
      expectError(() => rnn.forward(t([5, 2])), ShapeError, 'input', '[T, B, 3] or [T, 3] (unbatched)', '[5, 2]');
      expectError(() => rnn.forward(t([5])), ShapeError, 'input', '[T, B, 3]', '[5]');
      expectError(() => rnn.forward(t([5, 2, 4])), ShapeError, 'input', '[T, B, 3]', '[5, 2, 4]');
      const batchFirst = new RNN({ inputSize: 3, hiddenSize: 4, batchFirst: true, backend, seed: 1 });
      expectError(() => batchFirst.forward(t([2, 5, 2])), ShapeError, '[B, T, 3]', '[2, 5, 2]');
    });

    it('h0 and c0 shapes', () => {
      // [numLayers·D, B, H] = [4, 2, 4]
      expectError(() => rnn.forward(t([5, 2, 3]), { h0: t([2, 2, 4]) }), ShapeError, 'h0', '[4, 2, 4]', '[2, 2, 4]');
      expectError(() => rnn.forward(t([5, 2, 3]), { h0: t([4, 2]) }), ShapeError, 'h0', '[4, 2, 4]', '[4, 2]');
      const lstm = new LSTM({ inputSize: 3, hiddenSize: 4, backend, seed: 1 });
      expectError(() => lstm.forward(t([5, 2, 3]), { c0: t([1, 3, 4]) }), ShapeError, 'c0', '[1, 2, 4]', '[1, 3, 4]');
    });

    it('lengths: wrong count and out of range', () => {
      expectError(() => rnn.forward(t([5, 2, 3]), { lengths: [5] }), ShapeError, 'lengths', '2', 'received 1');
      expectError(() => rnn.forward(t([5, 2, 3]), { lengths: [5, 6] }), ValueRangeError, 'lengths[1] = 6', '[1, 5]');
      expectError(() => rnn.forward(t([5, 2, 3]), { lengths: [0, 5] }), ValueRangeError, 'lengths[0] = 0', '[1, 5]');
      expectError(() => rnn.forward(t([5, 2, 3]), { lengths: [2.5, 5] }), ValueRangeError, 'lengths[0] = 2.5');
    });

    it('constructor options', () => {
      expectError(() => new RNN({ inputSize: 0, hiddenSize: 4, backend }), ValueRangeError, 'inputSize', '0');
      expectError(() => new RNN({ inputSize: 3, hiddenSize: 4, numLayers: 1.5, backend }), ValueRangeError, 'numLayers', '1.5');
      expectError(() => new RNN({ inputSize: 3, hiddenSize: 4, dropout: 1, backend }), ValueRangeError, 'dropout', '1');
    });
  });

  it('token ids out of range in Embedding.forward', () => {
    const embed = new Embedding({ numEmbeddings: 5, embeddingDim: 2, backend, seed: 1 });
    expectError(() => embed.forward([0, 4, 5, 1]), ValueRangeError, 'ids[2] = 5', '[0, 5)');
    expectError(() => embed.forward([-1]), ValueRangeError, 'ids[0] = -1');
    expectError(() => embed.forward([1.5]), ValueRangeError, 'ids[0] = 1.5');
    expectError(() => embed.forward([1, 2, 3], [2, 2]), ShapeError, 'ids', '3', '[2, 2]');
  });

  it('crossEntropy targets out of range, wrong count, all ignored', () => {
    const logits = t([2, 3, 4]);
    expectError(() => crossEntropy(logits, [0, 1, 2, 3, 4, 0]), ValueRangeError, 'targets[4] = 4', '[0, 4)');
    expectError(() => crossEntropy(logits, [0, 1, -1, 3, 0, 0]), ValueRangeError, 'targets[2] = -1');
    expectError(() => crossEntropy(logits, [0, 1, 2]), ShapeError, 'targets', '6', 'received 3');
    expectError(() => crossEntropy(logits, [0, 1, 2, 3, 0, 0], { mask: [1, 0] }), ShapeError, 'mask', '6', 'received 2');
    expectError(() => crossEntropy(logits, [-100, -100, -100, -100, -100, -100]), ValueRangeError, 'crossEntropy', 'ignored');
    expectError(() => crossEntropy(logits, [7, 7, 7, 7, 7, 7], { ignoreIndex: 7 }), ValueRangeError, 'ignored');
    expectError(() => crossEntropy(logits, [0, 1, 2, 3, 0, 0], { mask: [0, 0, 0, 0, 0, 0] }), ValueRangeError, 'masked');
  });

  it('tensors from two backend instances (BackendMismatchError)', () => {
    const other = f64();
    const a = t([2, 3]);
    const b = zeros([2, 3], { backend: other });
    expectError(() => add(a, b), BackendMismatchError, 'add', 'argument 1', 'another backend instance');
    expectError(() => matmul(a, zeros([3, 2], { backend: other })), BackendMismatchError, 'matmul');
    expectError(() => concat([a, b], 0), BackendMismatchError, 'concat');
    expectError(() => mse(a, b), BackendMismatchError, 'mse');
    expectError(() => linear(a, t([4, 3]), zeros([4], { backend: other })), BackendMismatchError, 'linear', 'argument 2');
    const rnn = new RNN({ inputSize: 3, hiddenSize: 2, backend, seed: 1 });
    expectError(() => rnn.forward(zeros([4, 1, 3], { backend: other })), BackendMismatchError);
    expectError(() => rnn.forward(t([4, 1, 3]), { h0: zeros([1, 1, 2], { backend: other }) }), BackendMismatchError);
  });

  it("createBackend('nope') (BackendUnavailableError)", async () => {
    await expectRejection(() => createBackend('nope'), BackendUnavailableError, "'nope'");
  });
});
