/**
 * `recur train`: a recurrent layer plus a linear head on the last output, trained with Adam and
 * gradient-norm clipping. Each step runs inside `tidy`, so every intermediate tensor is freed
 * and memory stays flat however many steps run.
 */
import {
  Adam,
  checkFinite,
  clipGradNorm,
  GRU,
  LastHidden,
  Linear,
  LSTM,
  noGrad,
  Random,
  type RecurrentLayer,
  RNN,
  Sequential,
  type Tensor,
  tensor,
  tidy,
  UGRNN,
} from '@recur/core';
import type { CellName, TrainOptions } from './args.js';
import { openBackend } from './backends.js';
import { type Batch, TASK_BY_NAME } from './tasks.js';

/** Sequences in the held-out batch the accuracy is measured on. */
export const HELD_OUT = 256;
/** Maximum global gradient norm. */
export const CLIP_NORM = 1;
/** The learning rate decays along a cosine from `lr` to `lr · FINAL_LR_FRACTION`. */
export const FINAL_LR_FRACTION = 0.1;

/** Cosine-decayed learning rate for 1-based `step` of `steps`. */
export function learningRate(lr: number, step: number, steps: number): number {
  const progress = steps > 1 ? (step - 1) / (steps - 1) : 0;
  return lr * (FINAL_LR_FRACTION + (1 - FINAL_LR_FRACTION) * 0.5 * (1 + Math.cos(Math.PI * progress)));
}

const LAYERS = { lstm: LSTM, gru: GRU, rnn: RNN, ugrnn: UGRNN } satisfies Record<CellName, unknown>;

export interface HistoryRow {
  step: number;
  /** Mean training loss over the steps since the previous row. */
  loss: number;
  /** Accuracy on the held-out batch. */
  accuracy: number;
  seconds: number;
}

export interface TrainSummary {
  task: string;
  cell: string;
  backend: string;
  steps: number;
  hidden: number;
  batch: number;
  seqLen: number;
  lr: number;
  seed: number;
  parameters: number;
  history: HistoryRow[];
  finalLoss: number;
  accuracy: number;
  chance: number;
  seconds: number;
  stepsPerSecond: number;
  /** Resident set size at the first and last table row, in MB (stays flat thanks to `tidy`). */
  rssMB: { first: number; last: number };
}

const rssMB = () => Math.round(process.memoryUsage().rss / 1e6);

/** Trains and evaluates; `log` receives the human-readable lines (header, table, result). */
export async function train(options: TrainOptions, log: (line: string) => void = console.log): Promise<TrainSummary> {
  const task = TASK_BY_NAME[options.task];
  const { seqLen: steps, batch, hidden } = options;
  const backend = await openBackend(options.backend);
  const rnn: RecurrentLayer = new LAYERS[options.cell]({ inputSize: task.inputSize, hiddenSize: hidden, backend, seed: options.seed });
  const head = new Linear({ inFeatures: hidden, outFeatures: task.outputSize, backend, seed: options.seed + 1 });
  if (options.cell === 'lstm') await addForgetGateBias(rnn, hidden);
  // The recurrent layer's final hidden state (the output of the last step) feeds the head.
  const model = new Sequential([rnn, new LastHidden(), head]);
  const params = model.parameters();
  const optimizer = new Adam(params, { lr: options.lr });
  const parameterCount = params.reduce((n, p) => n + p.size, 0);

  /** Prediction `[B, outputSize]` from the output of the last time step. */
  const predict = (b: Batch): Tensor => model.forward(tensor(b.x, [b.steps, b.batch, task.inputSize], { backend }));

  const trainRandom = new Random(options.seed);
  const heldOut = task.sample(new Random(options.seed + 0x9e3779b9), HELD_OUT, steps);
  const evaluate = async (): Promise<number> => {
    const prediction = tidy(() => noGrad(() => predict(heldOut)));
    try {
      return await task.accuracy(prediction, heldOut);
    } finally {
      prediction.dispose();
    }
  };

  log(`recur train: ${task.description}`);
  log(
    `  T=${steps}, ${options.cell.toUpperCase()} hidden ${hidden} + Linear(${hidden} → ${task.outputSize}) [${parameterCount} parameters], ` +
      `batch ${batch}, Adam lr ${options.lr} (cosine → ${Number((options.lr * FINAL_LR_FRACTION).toPrecision(3))}), clip ${CLIP_NORM}, ${options.steps} steps, seed ${options.seed}`,
  );
  log(`  backend: ${backend.name} (${backend.description})`);
  log('');
  log('   step   train loss   held-out acc   time    rss');

  const history: HistoryRow[] = [];
  const rss: number[] = [];
  const started = performance.now();
  let lossSum = 0;
  let lossCount = 0;
  for (let step = 1; step <= options.steps; step++) {
    const data = task.sample(trainRandom, batch, steps);
    const loss = tidy(() => {
      const l = task.loss(predict(data), data);
      l.backward();
      return l;
    });
    try {
      lossSum += await checkFinite(loss, `training loss at step ${step}`);
      lossCount++;
    } finally {
      loss.dispose();
    }
    await clipGradNorm(params, CLIP_NORM);
    optimizer.lr = learningRate(options.lr, step, options.steps);
    optimizer.step();
    optimizer.zeroGrad();

    if (step % options.logEvery === 0 || step === options.steps) {
      const row = { step, loss: lossSum / lossCount, accuracy: await evaluate(), seconds: (performance.now() - started) / 1000 };
      history.push(row);
      rss.push(rssMB());
      lossSum = 0;
      lossCount = 0;
      log(
        `${String(step).padStart(7)}   ${row.loss.toFixed(4).padStart(10)}   ${percent(row.accuracy).padStart(12)}` +
          `   ${`${row.seconds.toFixed(1)}s`.padStart(5)}   ${`${rss[rss.length - 1]}M`.padStart(4)}`,
      );
    }
  }
  const seconds = (performance.now() - started) / 1000;
  const last = history[history.length - 1];
  log('');
  log(
    `final held-out accuracy: ${percent(last.accuracy)} (${task.criterion}, ${HELD_OUT} unseen sequences; chance ${percent(task.chance)})`,
  );
  log(`${options.steps} steps in ${seconds.toFixed(1)} s (${(options.steps / seconds).toFixed(1)} steps/s)`);

  optimizer.dispose();
  rnn.dispose();
  head.dispose();
  backend.destroy();
  return {
    task: task.name,
    cell: options.cell,
    backend: backend.name,
    steps: options.steps,
    hidden,
    batch,
    seqLen: steps,
    lr: options.lr,
    seed: options.seed,
    parameters: parameterCount,
    history,
    finalLoss: last.loss,
    accuracy: last.accuracy,
    chance: task.chance,
    seconds,
    stepsPerSecond: options.steps / seconds,
    rssMB: { first: rss[0], last: rss[rss.length - 1] },
  };
}

/**
 * Adds 1 to the LSTM forget-gate bias (gate block 1 of i, f, g, o), so the cell starts out
 * remembering (Gers et al. 2000; Jozefowicz et al. 2015): with PyTorch's default init the
 * memory halves every step and a delayed-recall task never gets a gradient through.
 */
async function addForgetGateBias(rnn: RecurrentLayer, hidden: number): Promise<void> {
  for (const [name, p] of rnn.namedParameters()) {
    if (!name.startsWith('bias_ih')) continue;
    const values = Float64Array.from(await p.toArray());
    for (let j = hidden; j < 2 * hidden; j++) values[j] += 1;
    p.copyFrom(values);
  }
}

function percent(x: number): string {
  return `${(100 * x).toFixed(1)}%`;
}
