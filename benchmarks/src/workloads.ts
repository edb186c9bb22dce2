/** The timed workloads: a training step of the char-LM, per-token inference, and the sgemm peak. */
import '@recur/backend-js';
import {
  Adam,
  type Backend,
  clipGradNorm,
  createBackend,
  crossEntropy,
  Embedding,
  GRU,
  Linear,
  LSTM,
  noGrad,
  type RecurrentLayer,
  RNN,
  type Tensor,
  tidy,
} from '@recur/core';
import { type Config, median, type TrainResult, timeTraining } from './config.js';
import { type Corpus, lcg, sampleBatch } from './corpus.js';

/** Embedding(V, E) → 2-layer cell(E, H) → Linear(H, V), seeded as in the conformance case of the same shape. */
export function buildModel(backend: Backend, c: Config) {
  const options = { inputSize: c.embedding, hiddenSize: c.hidden, numLayers: c.layers, backend, seed: 2 };
  const rnn: RecurrentLayer = c.cell === 'lstm' ? new LSTM(options) : c.cell === 'gru' ? new GRU(options) : new RNN(options);
  const embedding = new Embedding({ numEmbeddings: c.vocab, embeddingDim: c.embedding, backend, seed: 1 });
  const head = new Linear({ inFeatures: c.hidden, outFeatures: c.vocab, backend, seed: 3 });
  const params = [...embedding.parameters(), ...rnn.parameters(), ...head.parameters()];
  return {
    rnn,
    embedding,
    head,
    params,
    dispose() {
      embedding.dispose();
      rnn.dispose();
      head.dispose();
    },
  };
}

/** Imports the backend's package (which registers it) and creates it with the run's options. */
export async function makeBackend(name: string, options: Pick<Config, 'threads' | 'dawn'>): Promise<Backend> {
  if (name === 'native') {
    await import('@recur/backend-native');
    return createBackend(name, { threads: options.threads });
  }
  if (name === 'webgpu') {
    await import('@recur/backend-webgpu');
    return createBackend(name, options.dawn ? { dawnFlags: options.dawn } : {});
  }
  return createBackend(name);
}

/** Median time of a whole training step: forward, backward, clipping, Adam, and reading the loss. */
export async function benchTrain(backend: Backend, c: Config, corpus: Corpus): Promise<TrainResult> {
  const model = buildModel(backend, c);
  const optimizer = new Adam(model.params, { lr: 2e-3 });
  const random = lcg(7);
  const N = c.steps * c.batch;
  const step = async () => {
    const { inputs, targets } = sampleBatch(corpus, c.steps, c.batch, random);
    const loss = tidy(() => {
      const x = model.embedding.forward(inputs, [c.steps, c.batch]);
      const { output } = model.rnn.forward(x);
      const logits = model.head.forward(output.reshape([N, c.hidden]));
      const l = crossEntropy(logits, targets);
      l.backward();
      return l;
    });
    // Not awaited before the update: the clipping is already enqueued, and a GPU backend keeps
    // working while the norm and the loss are read back.
    const norm = clipGradNorm(model.params, 1.0);
    optimizer.step();
    optimizer.zeroGrad();
    await norm;
    const value = await loss.item();
    loss.dispose();
    return value;
  };
  const result = await timeTraining(c, step);
  model.dispose();
  return result;
}

/** Greedy generation from one sequence, one token per call with the state carried: median µs per token. */
export async function benchLatency(backend: Backend, c: Config, tokens = 200, warmup = 20) {
  const model = buildModel(backend, c);
  const times: number[] = [];
  let token = 0;
  let state: Tensor[] = [];
  for (let i = 0; i < tokens + warmup; i++) {
    const t0 = performance.now();
    const result = noGrad(() =>
      tidy(() => {
        const x = model.embedding.forward([token], [1, 1]);
        const out = model.rnn.forward(x, state.length ? { state } : {});
        return { logits: model.head.forward(out.output.reshape([1, c.hidden])), next: out.state };
      }),
    );
    for (const s of state) s.dispose();
    state = result.next;
    const logits = await result.logits.toArray();
    result.logits.dispose();
    let best = 0;
    for (let j = 1; j < logits.length; j++) if (logits[j] > logits[best]) best = j;
    token = best;
    if (i >= warmup) times.push((performance.now() - t0) * 1000);
  }
  for (const s of state) s.dispose();
  model.dispose();
  return { microsecondsPerToken: median(times) };
}

/** GFLOP/s of a 1024³ sgemm through the native addon (the machine's BLAS), or null without it. */
export async function sgemmPeak(threads: number): Promise<number | null> {
  let backend: Backend;
  try {
    backend = await makeBackend('native', { threads });
  } catch {
    return null;
  }
  const n = 1024;
  const a = backend.fill(n * n, 0.5);
  const b = backend.fill(n * n, 0.25);
  const run = (count: number) => {
    for (let i = 0; i < count; i++) backend.dispose(backend.gemm(a, b, { m: n, n, k: n }));
  };
  run(3);
  await backend.sync();
  const reps = 20;
  const t0 = performance.now();
  run(reps);
  await backend.sync();
  const seconds = (performance.now() - t0) / 1000;
  backend.destroy();
  return (2 * n ** 3 * reps) / seconds / 1e9;
}
