/**
 * The same workload in TensorFlow.js (`@tensorflow/tfjs`, its pure-JS 'cpu' backend), run in-process
 * beside PyTorch: what a JavaScript user would otherwise pick. tfjs-node is deliberately not used
 * (its install downloads binaries). Built from the Layers API a user would reach for: Embedding →
 * 2 × LSTM/GRU/SimpleRNN (batch-major, full sequences) → Dense, trained with variableGrads, a
 * global-norm clip and Adam, on the same batches as Recur's (sampleBatch with lcg(7)).
 */
import type * as TF from '@tensorflow/tfjs';
import { type Config, median, type TrainResult, timeTraining } from './config.js';
import { type Corpus, lcg, sampleBatch } from './corpus.js';

type Tf = typeof TF;
type Layer = TF.layers.Layer;

let loading: Promise<Tf> | undefined;

/** Imported on first use: the package is large, and only --tfjs and --suite need it. */
function load(): Promise<Tf> {
  loading ??= (async () => {
    const tf = await import('@tensorflow/tfjs');
    // Production mode drops debug checks and the console note recommending tfjs-node.
    tf.enableProdMode();
    await tf.setBackend('cpu');
    await tf.ready();
    return tf;
  })();
  return loading;
}

/** The `@tensorflow/tfjs` version and the backend it runs on ("cpu"). */
export async function tfjsInfo(): Promise<{ version: string; backend: string }> {
  const tf = await load();
  return { version: tf.version.tfjs, backend: tf.getBackend() };
}

function buildModel(tf: Tf, c: Config) {
  // PyTorch's initialisation, U(±1/√H); the Layers default (orthogonal) also runs a slow QR at H = 512.
  const bound = 1 / Math.sqrt(c.hidden);
  const uniform = (seed: number) => tf.initializers.randomUniform({ minval: -bound, maxval: bound, seed });
  const recurrent = (l: number) => {
    const args = {
      units: c.hidden,
      returnSequences: true,
      // Returning the final state costs nothing extra and lets inference carry it from token to token.
      returnState: true,
      kernelInitializer: uniform(10 + 3 * l),
      recurrentInitializer: uniform(11 + 3 * l),
      biasInitializer: uniform(12 + 3 * l),
    };
    return c.cell === 'lstm' ? tf.layers.lstm(args) : c.cell === 'gru' ? tf.layers.gru(args) : tf.layers.simpleRNN(args);
  };
  const embedding = tf.layers.embedding({ inputDim: c.vocab, outputDim: c.embedding });
  const rnns: Layer[] = Array.from({ length: c.layers }, (_, l) => recurrent(l));
  const head = tf.layers.dense({ units: c.vocab });

  /** x: token ids [B, T]; state: per layer its state tensors, or none for zeros. Returns logits [B, T, V]. */
  const forward = (x: TF.Tensor, state: TF.Tensor[][] = []) => {
    let h = embedding.apply(x) as TF.Tensor;
    const next: TF.Tensor[][] = [];
    rnns.forEach((rnn, l) => {
      const [output, ...s] = rnn.apply(h, state[l] ? { initialState: state[l] } : {}) as TF.Tensor[];
      h = output;
      next.push(s);
    });
    return { logits: head.apply(h) as TF.Tensor, state: next };
  };
  // Layers create their weights on first call; build them now so the variable list is complete.
  tf.tidy(() => {
    forward(tf.zeros([1, 1], 'int32'));
  });
  const layers: Layer[] = [embedding, ...rnns, head];
  const variables = layers.flatMap((layer) => layer.trainableWeights.map((w) => w.read() as TF.Variable));
  const dispose = () => {
    for (const layer of layers) layer.dispose();
  };
  return { forward, variables, dispose };
}

/** sampleBatch's time-major [T·B] ids as batch-major [B·T], the layout the Layers RNNs read. */
function batchMajor(ids: Int32Array, T: number, B: number): Int32Array {
  const out = new Int32Array(T * B);
  for (let t = 0; t < T; t++) for (let b = 0; b < B; b++) out[b * T + t] = ids[t * B + b];
  return out;
}

/** Scales all gradients together so their global L2 norm is at most maxNorm (torch's clip_grad_norm_). */
function clipByGlobalNorm(tf: Tf, grads: TF.NamedTensorMap, maxNorm: number): { name: string; tensor: TF.Tensor }[] {
  const names = Object.keys(grads);
  const norm = tf.sqrt(tf.addN(names.map((n) => tf.sum(tf.square(grads[n])))));
  const scale = tf.minimum(1, tf.div(maxNorm, tf.add(norm, 1e-6)));
  return names.map((name) => ({ name, tensor: tf.mul(grads[name], scale) }));
}

/** Median time of a whole training step, including reading the loss back, as benchTrain measures Recur. */
export async function tfjsTrain(c: Config, corpus: Corpus): Promise<TrainResult> {
  const tf = await load();
  const model = buildModel(tf, c);
  // PyTorch's and Recur's ε (TF.js defaults to 1e-7).
  const optimizer = tf.train.adam(2e-3, 0.9, 0.999, 1e-8);
  const random = lcg(7);
  const N = c.steps * c.batch;
  const step = async () => {
    const { inputs, targets } = sampleBatch(corpus, c.steps, c.batch, random);
    const x = batchMajor(inputs, c.steps, c.batch);
    const y = batchMajor(targets, c.steps, c.batch);
    const loss = tf.tidy(() => {
      const { value, grads } = tf.variableGrads(() => {
        const { logits } = model.forward(tf.tensor2d(x, [c.batch, c.steps], 'int32'));
        const labels = tf.oneHot(tf.tensor1d(y, 'int32'), c.vocab);
        return tf.losses.softmaxCrossEntropy(labels, logits.reshape([N, c.vocab])) as TF.Scalar;
      }, model.variables);
      optimizer.applyGradients(clipByGlobalNorm(tf, grads, 1.0));
      return value;
    });
    const value = (await loss.data())[0];
    loss.dispose();
    return value;
  };
  const result = await timeTraining(c, step);
  optimizer.dispose();
  model.dispose();
  return result;
}

/** Greedy generation from one sequence, batch 1, the layers' final state fed back as initialState. */
export async function tfjsLatency(c: Config, tokens = 200, warmup = 20) {
  const tf = await load();
  const model = buildModel(tf, c);
  const times: number[] = [];
  let token = 0;
  let state: TF.Tensor[][] = [];
  for (let i = 0; i < tokens + warmup; i++) {
    const t0 = performance.now();
    const result = tf.tidy(() => {
      const out = model.forward(tf.tensor2d([token], [1, 1], 'int32'), state);
      return { next: out.logits.reshape([c.vocab]).argMax(), state: out.state };
    });
    tf.dispose(state);
    state = result.state;
    token = (await result.next.data())[0];
    result.next.dispose();
    if (i >= warmup) times.push((performance.now() - t0) * 1000);
  }
  tf.dispose(state);
  model.dispose();
  return { microsecondsPerToken: median(times) };
}
