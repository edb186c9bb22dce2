/**
 * The notes' vanishing-gradient demonstration (a script, not a test): the adding problem at
 * growing lengths T, for each recurrent model — which ones learn it (accuracy: the fraction of
 * 1,000 held-out sequences answered within 0.04), and how much gradient reaches the first step
 * at initialisation (‖∂L/∂x₀‖, the mean over the batch of the norm of the loss's gradient with
 * respect to the first input step).
 *
 *   pnpm vanishing [--lengths 50,100,200,400] [--steps 1500] [--hidden 64] [--models elman,…] [--json FILE]
 *
 * Every model has one layer of 64 units, a Linear head on its last hidden state, Adam (lr 1e-3),
 * gradient clipping at 1 and batches of 32; the ESN (500 units, spectral radius 0.95) is not
 * trained by gradient: its readout is fitted by ridge regression on 4,096 sequences.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import {
  Adam,
  type Backend,
  clipGradNorm,
  createBackend,
  DelayRNN,
  ESN,
  fitRidge,
  GRU,
  LastHidden,
  LeakyRNN,
  Linear,
  LSTM,
  type Module,
  noGrad,
  Random,
  RNN,
  Sequential,
  type Tensor,
  tensor,
  UGRNN,
} from '@recur/core';
import '@recur/backend-js';
import '@recur/backend-native';

const { values: args } = parseArgs({
  options: {
    lengths: { type: 'string', default: '50,100,200,400' },
    steps: { type: 'string', default: '1500' },
    hidden: { type: 'string', default: '64' },
    models: { type: 'string', default: 'elman,leaky,delay,lstm,gru,ugrnn,esn' },
    backend: { type: 'string', default: 'native' },
    json: { type: 'string' },
  },
});
const lengths = args.lengths.split(',').map(Number);
const steps = Number(args.steps);
const H = Number(args.hidden);
const BATCH = 32;
const TOLERANCE = 0.04;

/** A batch of the adding problem: x `[T, B, 2]` (values, markers), targets `[B, 1]`. */
function addingBatch(random: Random, T: number, batch: number) {
  const x = new Float32Array(T * batch * 2);
  const y = new Float32Array(batch);
  for (let b = 0; b < batch; b++) {
    for (let t = 0; t < T; t++) x[(t * batch + b) * 2] = random.next();
    for (const t of [random.int(T >> 1), (T >> 1) + random.int(T - (T >> 1))]) {
      x[(t * batch + b) * 2 + 1] = 1;
      y[b] += x[(t * batch + b) * 2];
    }
  }
  return { x, y };
}

type Factory = (backend: Backend, seed: number) => Module & { forward(x: Tensor): { output: Tensor } };
const MODELS: Record<string, { label: string; make: Factory }> = {
  elman: { label: 'Elman (tanh)', make: (backend, seed) => new RNN({ inputSize: 2, hiddenSize: H, backend, seed }) },
  leaky: { label: 'leaky (τ = 10)', make: (backend, seed) => new LeakyRNN({ inputSize: 2, hiddenSize: H, tau: 10, backend, seed }) },
  delay: {
    label: 'DelayRNN (1, 8, 32)',
    make: (backend, seed) => new DelayRNN({ inputSize: 2, hiddenSize: H, delays: [1, 8, 32], backend, seed }),
  },
  lstm: { label: 'LSTM', make: (backend, seed) => new LSTM({ inputSize: 2, hiddenSize: H, backend, seed }) },
  gru: { label: 'GRU', make: (backend, seed) => new GRU({ inputSize: 2, hiddenSize: H, backend, seed }) },
  ugrnn: { label: 'UGRNN', make: (backend, seed) => new UGRNN({ inputSize: 2, hiddenSize: H, backend, seed }) },
  esn: {
    label: 'ESN (500 units, ridge readout)',
    make: (backend, seed) => new ESN({ inputSize: 2, hiddenSize: 500, spectralRadius: 0.95, leakRate: 0.3, density: 0.1, backend, seed }),
  },
};

interface Row {
  model: string;
  T: number;
  accuracy: number;
  gradientNorm: number;
  seconds: number;
}

async function accuracyOf(predict: (x: Tensor) => Tensor, backend: Backend, T: number): Promise<number> {
  const { x, y } = addingBatch(new Random(99), T, 1000);
  const predicted = await noGrad(() => predict(tensor(x, [T, 1000, 2], { backend }))).toArray();
  return predicted.filter((p, b) => Math.abs(p - y[b]) < TOLERANCE).length / 1000;
}

/** ‖∂L/∂x₀‖ averaged over the batch, at initialisation. */
async function firstStepGradient(model: Sequential, backend: Backend, T: number): Promise<number> {
  const { x, y } = addingBatch(new Random(7), T, BATCH);
  const input = tensor(x, [T, BATCH, 2], { backend, requiresGrad: true });
  model
    .forward(input)
    .mse(tensor(y, [BATCH, 1], { backend }))
    .backward();
  const grad = await (input.grad as Tensor).toArray();
  let total = 0;
  for (let b = 0; b < BATCH; b++) total += Math.hypot(grad[b * 2], grad[b * 2 + 1]);
  model.zeroGrad();
  return total / BATCH;
}

async function run(name: string, backend: Backend, T: number): Promise<Row> {
  const { label, make } = MODELS[name];
  const started = performance.now();
  const recurrent = make(backend, 1);
  if (name === 'esn') {
    const { x, y } = addingBatch(new Random(3), T, 4096);
    const states = noGrad(() => new Sequential([recurrent, new LastHidden()]).forward(tensor(x, [T, 4096, 2], { backend })));
    const readout = await fitRidge(states.reshape([1, 4096, 500]), tensor(y, [1, 4096, 1], { backend }), { alpha: 1e-4 });
    const model = new Sequential([recurrent, new LastHidden(), readout]);
    const gradientNorm = await firstStepGradient(model, backend, T);
    const accuracy = await accuracyOf((input) => model.forward(input), backend, T);
    return { model: label, T, accuracy, gradientNorm, seconds: (performance.now() - started) / 1000 };
  }
  const width = (recurrent as unknown as { outputSize?: number }).outputSize ?? H;
  const model = new Sequential([recurrent, new LastHidden(), new Linear({ inFeatures: width, outFeatures: 1, backend, seed: 2 })]);
  const gradientNorm = await firstStepGradient(model, backend, T);
  const optimizer = new Adam(model.parameters(), { lr: 1e-3 });
  const random = new Random(5);
  for (let step = 0; step < steps; step++) {
    const { x, y } = addingBatch(random, T, BATCH);
    const loss = model.forward(tensor(x, [T, BATCH, 2], { backend })).mse(tensor(y, [BATCH, 1], { backend }));
    loss.backward();
    clipGradNorm(model.parameters(), 1);
    optimizer.step();
    optimizer.zeroGrad();
    if (step % 100 === 0) await loss.item(); // lets the event loop release dropped tensors
  }
  const accuracy = await accuracyOf((input) => model.forward(input), backend, T);
  return { model: label, T, accuracy, gradientNorm, seconds: (performance.now() - started) / 1000 };
}

const backend = await createBackend(args.backend);
console.log(`adding problem, ${steps} steps of batch ${BATCH}, hidden ${H}, on ${backend.description}`);
const rows: Row[] = [];
for (const name of args.models.split(',')) {
  for (const T of lengths) {
    const row = await run(name, backend, T);
    rows.push(row);
    console.log(
      `${row.model.padEnd(32)} T ${String(T).padStart(4)}  accuracy ${(100 * row.accuracy).toFixed(1).padStart(5)}%  ‖∂L/∂x₀‖ ${row.gradientNorm.toExponential(2)}  ${row.seconds.toFixed(0)} s`,
    );
  }
}
const header = `| model | ${lengths.map((T) => `T = ${T}`).join(' | ')} |`;
console.log(`\naccuracy (within ${TOLERANCE}) / ‖∂L/∂x₀‖ at initialisation:\n${header}\n|---|${lengths.map(() => '---|').join('')}`);
for (const name of args.models.split(',')) {
  const mine = rows.filter((r) => r.model === MODELS[name].label);
  console.log(
    `| ${MODELS[name].label} | ${mine.map((r) => `${(100 * r.accuracy).toFixed(0)}% / ${r.gradientNorm.toExponential(1)}`).join(' | ')} |`,
  );
}
if (args.json)
  writeFileSync(args.json, `${JSON.stringify({ steps, hidden: H, batch: BATCH, backend: backend.description, rows }, null, 2)}\n`);
backend.destroy();
