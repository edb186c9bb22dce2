import clipFile from '../fixtures/clip.json' with { type: 'json' };
import lossesFile from '../fixtures/losses.json' with { type: 'json' };
import optimizersFile from '../fixtures/optimizers.json' with { type: 'json' };
import rnnFile from '../fixtures/rnn.json' with { type: 'json' };

/** The committed PyTorch fixtures (see fixtures/README.md and fixtures/generate.py). */
export interface FixtureTensor {
  shape: number[];
  data: number[];
}

export interface RnnFixture {
  name: string;
  snippet: string;
  module: 'RNN' | 'LSTM' | 'GRU';
  options: {
    inputSize: number;
    hiddenSize: number;
    numLayers: number;
    nonlinearity?: 'tanh' | 'relu';
    bias: boolean;
    batchFirst: boolean;
    bidirectional: boolean;
  };
  input: FixtureTensor;
  lengths: number[] | null;
  h0: FixtureTensor | null;
  c0: FixtureTensor | null;
  paramOrder: string[];
  params: Record<string, FixtureTensor>;
  lossWeights: { output: FixtureTensor; hN: FixtureTensor; cN: FixtureTensor | null };
  expected: {
    output: FixtureTensor;
    hN: FixtureTensor;
    cN: FixtureTensor | null;
    loss: number;
    grads: Record<string, FixtureTensor>;
  };
}

export type LossFixture =
  | {
      name: string;
      kind: 'crossEntropy';
      logits: FixtureTensor;
      targets: number[];
      ignoreIndex: number | null;
      expected: { loss: number; gradLogits: FixtureTensor };
    }
  | { name: string; kind: 'mse'; input: FixtureTensor; target: FixtureTensor; expected: { loss: number; gradInput: FixtureTensor } };

export type ClipFixture =
  | { name: string; kind: 'norm'; maxNorm: number; grads: FixtureTensor[]; expected: { totalNorm: number; clippedGrads: FixtureTensor[] } }
  | { name: string; kind: 'value'; clipValue: number; grads: FixtureTensor[]; expected: { clippedGrads: FixtureTensor[] } };

export interface OptimizerFixture {
  name: string;
  optimizer: 'SGD' | 'Adam' | 'AdamW' | 'RMSprop';
  options: {
    lr: number;
    momentum?: number;
    dampening?: number;
    nesterov?: boolean;
    weightDecay?: number;
    betas?: [number, number];
    eps?: number;
    amsgrad?: boolean;
    alpha?: number;
    centered?: boolean;
  };
  initialParams: FixtureTensor[];
  gradsPerStep: FixtureTensor[][];
  expected: { paramsPerStep: FixtureTensor[][] };
}

export const fixtures = {
  torchVersion: rnnFile.torchVersion as string,
  rnn: rnnFile.cases as unknown as RnnFixture[],
  losses: lossesFile.cases as unknown as LossFixture[],
  clip: clipFile.cases as unknown as ClipFixture[],
  optimizers: optimizersFile.cases as unknown as OptimizerFixture[],
};
