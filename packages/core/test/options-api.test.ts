/**
 * Every options object of the public API rejects misspelled keys (suggesting the right one)
 * and wrongly typed values, instead of silently using a default.
 */
import {
  Adam,
  AdamW,
  accuracy,
  clipGradNorm,
  crossEntropy,
  Dropout,
  Embedding,
  full,
  GRU,
  LeakyCell,
  LeakyRNN,
  Linear,
  LSTM,
  mean,
  OptionsError,
  Parameter,
  RecurrentLayer,
  RMSprop,
  RNN,
  SGD,
  sum,
  tensor,
  truncatedBptt,
  UGRNN,
  ValueRangeError,
  zeros,
} from '@recur/core';
import { describe, expect, it } from 'vitest';
import { FusedCell } from '../src/nn/cells.js';
import { expectError, expectRejection, f64 } from './helpers.js';

const backend = f64();
const sizes = { inputSize: 3, hiddenSize: 4, backend };

describe('recurrent layers', () => {
  const layers = { RNN, LSTM, GRU, UGRNN, LeakyRNN } as const;
  for (const [name, Layer] of Object.entries(layers)) {
    it(`${name}: misspelled keys are OptionsErrors with a suggestion, not a silent default`, () => {
      expectError(() => new Layer({ ...sizes, numLayer: 3 } as never), OptionsError, `${name}: unknown option 'numLayer'`, "'numLayers'");
      expectError(() => new Layer({ ...sizes, bidirectonal: true } as never), OptionsError, "did you mean 'bidirectional'?");
      expectError(() => new Layer({ ...sizes, hidden_size: 4 } as never), OptionsError, "did you mean 'hiddenSize'?");
    });

    it(`${name}: wrongly typed values are OptionsErrors`, () => {
      expectError(() => new Layer({ ...sizes, bidirectional: 'no' } as never), OptionsError, 'bidirectional', 'boolean', '"no"');
      expectError(() => new Layer({ ...sizes, dropout: '0.5', numLayers: 2 } as never), OptionsError, 'dropout', '"0.5"');
      expectError(() => new Layer({ ...sizes, batchFirst: 1 } as never), OptionsError, 'batchFirst', 'boolean', '1');
      expectError(() => new Layer({ ...sizes, numLayers: '2' } as never), OptionsError, 'numLayers', 'positive integer');
      expectError(() => new Layer({ ...sizes, bias: 'false' } as never), OptionsError, 'bias', 'boolean');
      expectError(() => new Layer({ ...sizes, seed: '1' } as never), OptionsError, 'seed', '"1"');
      expectError(() => new Layer({ ...sizes, backend: 'js' } as never), OptionsError, 'backend', 'a Backend');
    });
  }

  it('a layer with a valid `numLayers` and `bidirectional` builds exactly that', () => {
    const lstm = new LSTM({ ...sizes, numLayers: 3, bidirectional: true });
    expect(lstm.numLayers).toBe(3);
    expect(lstm.bidirectional).toBe(true);
    expect(lstm.cells.length).toBe(3);
  });

  it('built-in layers do not take a `cell`; RecurrentLayer requires one (a function)', () => {
    expectError(() => new LSTM({ ...sizes, cell: () => null } as never), OptionsError, "LSTM: unknown option 'cell'");
    expectError(() => new RecurrentLayer({ ...sizes } as never), OptionsError, "RecurrentLayer: option 'cell' is required", 'a function');
    expectError(() => new RecurrentLayer({ ...sizes, cell: 'lstm' } as never), OptionsError, "option 'cell'", 'a function', '"lstm"');
  });

  it("RNN({ nonlinearity: 'softsign' }) names the supported nonlinearities", () => {
    expectError(
      () => new RNN({ ...sizes, nonlinearity: 'softsign' } as never),
      OptionsError,
      'nonlinearity',
      "'tanh', 'relu', 'sigmoid'",
      '"softsign"',
    );
  });

  it("LeakyRNN({ nonlinearity: 'softsign' }) throws instead of falling back to tanh", () => {
    expectError(
      () => new LeakyRNN({ ...sizes, nonlinearity: 'softsign' } as never),
      OptionsError,
      'nonlinearity',
      "'tanh', 'relu', 'sigmoid'",
    );
    expectError(() => new LeakyCell({ ...sizes, nonlinearity: 'softsign' } as never), OptionsError, 'LeakyCell', 'nonlinearity');
    expectError(() => new LeakyRNN({ ...sizes, tau: '2' } as never), OptionsError, 'tau', '"2"');
    expectError(() => new LeakyRNN({ ...sizes, tau: 2, learnTau: 'yes' } as never), OptionsError, 'learnTau', 'boolean');
  });

  it('cells: unknown keys and wrong types; a factory may pass its arguments straight on', () => {
    expectError(
      () => new FusedCell('lstm', { ...sizes, biass: false } as never),
      OptionsError,
      "FusedCell: unknown option 'biass'",
      "'bias'",
    );
    expectError(() => new FusedCell('sigmoid' as never, sizes), OptionsError, 'FusedCell: kind', "'tanh', 'relu', 'lstm', 'gru', 'ugrnn'");
    const layer = new RecurrentLayer({ ...sizes, cell: (args) => new LeakyCell({ ...args, tau: 3 }) });
    expect(layer.parameters().length).toBe(4);
  });

  it('forward options: misspelled keys, wrong types, and a tensor passed where options belong', () => {
    const lstm = new LSTM({ ...sizes, seed: 1 });
    const x = zeros([2, 1, 3], { backend });
    const h0 = zeros([1, 1, 4], { backend });
    expectError(() => lstm.forward(x, { ho: h0 } as never), OptionsError, "LSTM.forward: unknown option 'ho'", "did you mean 'h0'?");
    expectError(() => lstm.forward(x, { h0: [0, 0, 0, 0] } as never), OptionsError, "option 'h0'", 'a Tensor');
    expectError(() => lstm.forward(x, { lengths: ['2'] } as never), OptionsError, "option 'lengths'[0]", 'a number');
    expectError(() => lstm.forward(x, { state: h0 } as never), OptionsError, "option 'state'", 'an array');
    expectError(() => lstm.forward(x, h0 as never), OptionsError, 'LSTM.forward: options must be an object', 'received Tensor#');
  });
});

describe('other modules', () => {
  it('Linear, Embedding, Dropout', () => {
    expectError(
      () => new Linear({ inFeatures: 2, outFeature: 3, backend } as never),
      OptionsError,
      "Linear: unknown option 'outFeature'",
      "'outFeatures'",
    );
    expectError(() => new Linear({ inFeatures: 2, outFeatures: 3, bias: 0, backend } as never), OptionsError, 'bias', 'boolean');
    expectError(
      () => new Embedding({ numEmbeddings: 5, embeddingDims: 2, backend } as never),
      OptionsError,
      "did you mean 'embeddingDim'?",
    );
    expectError(() => new Embedding({ numEmbeddings: '5', embeddingDim: 2, backend } as never), OptionsError, 'numEmbeddings', '"5"');
    expectError(() => new Dropout({ rate: 0.2, backend } as never), OptionsError, "Dropout: unknown option 'rate'");
    expectError(() => new Dropout({ p: '0.2', backend } as never), OptionsError, "option 'p'", '"0.2"');
    expect(new Dropout({ p: 0.2, backend }).p).toBe(0.2);
  });

  it('loadStateDict options', async () => {
    const linear = new Linear({ inFeatures: 2, outFeatures: 1, backend });
    await expectRejection(() => linear.loadStateDict({}, { strcit: false } as never), OptionsError, "did you mean 'strict'?");
    await expectRejection(() => linear.loadStateDict({}, { strict: 'no' } as never), OptionsError, 'strict', 'boolean');
  });
});

describe('optimizers', () => {
  const params = () => [new Parameter(backend, [1, 2], [2])];

  it('unknown keys never reach the kernel: { kind } and misspellings are OptionsErrors', () => {
    expectError(() => new SGD(params(), { lr: 0.1, kind: 'adam' } as never), OptionsError, "SGD: unknown option 'kind'");
    expectError(() => new SGD(params(), { lr: 0.1, momentun: 0.9 } as never), OptionsError, "did you mean 'momentum'?");
    expectError(
      () => new Adam(params(), { lr: 0.1, weight_decay: 0.1 } as never),
      OptionsError,
      "Adam: unknown option 'weight_decay'",
      "'weightDecay'",
    );
    expectError(() => new AdamW(params(), { beta: [0.9, 0.99] } as never), OptionsError, "AdamW: unknown option 'beta'", "'betas'");
    expectError(() => new RMSprop(params(), { lr: 0.1, kind: 'sgd' } as never), OptionsError, "RMSprop: unknown option 'kind'");
  });

  it('wrong types and ranges', () => {
    expectError(() => new SGD(params(), {} as never), OptionsError, "SGD: option 'lr' is required");
    expectError(() => new SGD(params(), { lr: '0.1' } as never), OptionsError, "option 'lr'", '"0.1"');
    expectError(() => new SGD(params(), { lr: -1 }), ValueRangeError, "option 'lr'", '-1');
    expectError(() => new SGD(params(), { lr: 0.1, nesterov: 1 } as never), OptionsError, 'nesterov', 'boolean');
    expectError(() => new Adam(params(), { betas: [0.9] } as never), OptionsError, 'betas', 'two numbers');
    expectError(() => new Adam(params(), { betas: [0.9, 1] }), ValueRangeError, "option 'betas'[1]", '[0, 1)');
    expectError(() => new RMSprop(params(), { centered: 'yes' } as never), OptionsError, 'centered', 'boolean');
  });
});

describe('training utilities and tensor creation', () => {
  it('clipGradNorm options', async () => {
    const p = new Parameter(backend, [1], [1]);
    p.grad = tensor([3], [1], { backend });
    await expectRejection(
      () => clipGradNorm([p], 1, { errorIfNonFinite: true } as never),
      OptionsError,
      "did you mean 'errorIfNonfinite'?",
    );
  });

  it('truncatedBptt options', async () => {
    const base = { length: 4, k1: 2, initialState: null, step: () => null };
    await expectRejection(() => truncatedBptt({ ...base, k: 2 } as never), OptionsError, "truncatedBptt: unknown option 'k'");
    await expectRejection(() => truncatedBptt({ ...base, k1: '2' } as never), OptionsError, "option 'k1'", '"2"');
    await expectRejection(() => truncatedBptt({ ...base, step: undefined } as never), OptionsError, "option 'step' is required");
  });

  it('tensor / full / zeros options', () => {
    expectError(
      () => tensor([1], [1], { backend, requiresGrad: 'yes' } as never),
      OptionsError,
      "tensor: option 'requiresGrad'",
      'boolean',
    );
    expectError(
      () => zeros([1], { backend, requiresgrad: true } as never),
      OptionsError,
      "zeros: unknown option 'requiresgrad'",
      "'requiresGrad'",
    );
    expectError(() => full([1], 2, { backnd: backend } as never), OptionsError, "full: unknown option 'backnd'", "'backend'");
  });

  it('loss, reduction and metric options', async () => {
    const logits = tensor([1, 2, 3, 4], [2, 2], { backend });
    expectError(() => crossEntropy(logits, [0, 1], { ignore_index: -1 } as never), OptionsError, "did you mean 'ignoreIndex'?");
    expectError(() => crossEntropy(logits, [0, 1], { ignoreIndex: '-1' } as never), OptionsError, "option 'ignoreIndex'");
    expectError(() => sum(logits, 0, { keepdim: true } as never), OptionsError, "sum: unknown option 'keepdim'", "'keepDims'");
    expectError(() => mean(logits, 0, { keepDims: 1 } as never), OptionsError, "mean: option 'keepDims'", 'boolean');
    await expectRejection(() => accuracy(logits, [0, 1], { masks: [1, 1] } as never), OptionsError, "did you mean 'mask'?");
  });
});
