/**
 * The benchmark's model at every size it measures (benchmarks/src/lstm-charlm.ts: Embedding(65, 64)
 * → 2-layer cell(64, H) → Linear(H, 65) → cross-entropy), compared with the float64 reference:
 * logits, loss, final states and the gradient of every parameter. The hidden, embedding and
 * vocabulary sizes are the benchmark's; only T and B are smaller, to keep the reference fast.
 * A speed number counts only if the same backend computes the same thing at that size.
 */
import {
  type Backend,
  crossEntropy,
  disposeAll,
  Embedding,
  GRU,
  Linear,
  LSTM,
  Random,
  type RecurrentLayer,
  RNN,
  type Tensor,
  tidy,
} from '@recur/core';
import type { FloatArray } from '@recur/core/backend';
import { expectClose } from './compare.js';
import { tolerance } from './cross-backend.js';
import type { SuiteCase } from './suite-types.js';

type BenchmarkCell = 'lstm' | 'gru' | 'rnn';

interface BenchmarkShape {
  cell: BenchmarkCell;
  hidden: number;
  steps: number;
  batch: number;
  /** Run the sequence in this many consecutive chunks, carrying the state (inference style). */
  chunks: number;
}

const EMBEDDING = 64;
const VOCAB = 65;

/** The benchmark's training configurations, plus its batch-1 inference (state carried per token). */
const SHAPES: BenchmarkShape[] = [
  { cell: 'lstm', hidden: 256, steps: 8, batch: 4, chunks: 1 },
  { cell: 'gru', hidden: 256, steps: 8, batch: 4, chunks: 1 },
  { cell: 'rnn', hidden: 256, steps: 8, batch: 4, chunks: 1 },
  { cell: 'lstm', hidden: 128, steps: 8, batch: 4, chunks: 1 },
  { cell: 'lstm', hidden: 512, steps: 8, batch: 4, chunks: 1 },
  { cell: 'lstm', hidden: 256, steps: 4, batch: 1, chunks: 4 },
];

function tokens(seed: number, n: number): Int32Array {
  const random = new Random(seed);
  return Int32Array.from({ length: n }, () => random.int(VOCAB));
}

/** Logits, loss, final states and every parameter gradient of one training step's forward/backward. */
async function run(backend: Backend, shape: BenchmarkShape): Promise<[string, FloatArray][]> {
  const { cell, hidden, steps, batch, chunks } = shape;
  const options = { inputSize: EMBEDDING, hiddenSize: hidden, numLayers: 2, backend, seed: 2 };
  const rnn: RecurrentLayer = cell === 'lstm' ? new LSTM(options) : cell === 'gru' ? new GRU(options) : new RNN(options);
  const embedding = new Embedding({ numEmbeddings: VOCAB, embeddingDim: EMBEDDING, backend, seed: 1 });
  const head = new Linear({ inFeatures: hidden, outFeatures: VOCAB, backend, seed: 3 });
  const inputs = tokens(60, steps * batch);
  const targets = tokens(61, steps * batch);
  const chunkSteps = steps / chunks;
  const result = tidy(() => {
    const logits: Tensor[] = [];
    let state: Tensor[] = [];
    for (let chunk = 0; chunk < chunks; chunk++) {
      const ids = inputs.subarray(chunk * chunkSteps * batch, (chunk + 1) * chunkSteps * batch);
      const x = embedding.forward(ids, [chunkSteps, batch]);
      const out = rnn.forward(x, state.length ? { state } : {});
      logits.push(head.forward(out.output.reshape([chunkSteps * batch, hidden])));
      state = out.state;
    }
    const all = logits.length === 1 ? logits[0] : logits[0].concat(logits.slice(1), 0);
    const loss = crossEntropy(all, targets);
    loss.backward();
    return { all, loss, state };
  });
  const arrays: [string, FloatArray][] = [
    ['logits', await result.all.toArray()],
    ['loss', await result.loss.toArray()],
    ...(await Promise.all(result.state.map(async (s, i): Promise<[string, FloatArray]> => [`final state ${i}`, await s.toArray()]))),
  ];
  for (const module of [embedding, rnn, head]) {
    for (const [name, p] of module.namedParameters()) arrays.push([`grad of ${name}`, await (p.grad as Tensor).toArray()]);
  }
  disposeAll(result);
  for (const module of [embedding, rnn, head]) module.dispose();
  return arrays;
}

export function benchmarkShapeCases(): SuiteCase[] {
  return SHAPES.map((shape) => {
    const { cell, hidden, steps, batch, chunks } = shape;
    const how = chunks > 1 ? `one token at a time (state carried), B ${batch}` : `T ${steps}, B ${batch}`;
    return {
      group: 'cross-backend' as const,
      name: `benchmark model: char-LM ${cell.toUpperCase()} 2×${hidden}, embedding ${EMBEDDING}, vocabulary ${VOCAB}, ${how}`,
      run: async (subject: Backend, reference: Backend) => {
        const actual = await run(subject, shape);
        const expected = await run(reference, shape);
        // Tighter than the worst case (a rounding per term of every sum): float32 sums of random-sign
        // terms err like √terms, and the native backend measured 3e-7 here (200× inside this).
        const tol = tolerance(subject, steps * 8, `a few roundings per gate per step, through ${steps} steps and 2 layers`);
        for (const [i, [name, values]] of expected.entries()) expectClose(name, actual[i][1], values, tol);
      },
    };
  });
}
