/**
 * Synthetic sequence tasks with seeded data: every batch is drawn from a core `Random`, so a
 * run is reproducible from its seed. Inputs are time-major `[T, B, inputSize]`; the model's
 * prediction is read from the last time step as `[B, outputSize]`.
 */
import { accuracy, crossEntropy, mse, type Random, type Tensor, tensor } from '@recur/core';
import type { TaskName } from './args.js';

export interface Batch {
  /** Row-major `[T, B, inputSize]`. */
  x: Float32Array;
  /** One target per sequence: a value (regression) or a class id (classification). */
  targets: Float32Array;
  steps: number;
  batch: number;
}

export interface Task {
  readonly name: TaskName;
  /** One line for the run header. */
  readonly description: string;
  /** What counts as correct, for the final line. */
  readonly criterion: string;
  /** Accuracy of the best input-independent guess, for comparison. */
  readonly chance: number;
  readonly inputSize: number;
  readonly outputSize: number;
  sample(random: Random, batch: number, steps: number): Batch;
  /** Mean loss of predictions `[B, outputSize]` (differentiable). */
  loss(prediction: Tensor, batch: Batch): Tensor;
  /** Fraction of sequences predicted correctly. */
  accuracy(prediction: Tensor, batch: Batch): Promise<number>;
}

/** Prediction error below which an adding-problem answer counts as correct. */
export const ADDING_TOLERANCE = 0.04;

/**
 * The adding problem (Hochreiter & Schmidhuber 1997): channel 0 holds U(0, 1) values, channel 1
 * marks two positions, one in each half of the sequence; the target is the sum of the two marked
 * values. Regression with MSE; always answering 1 (the mean) scores about 8 %.
 */
export const addingTask: Task = {
  name: 'adding',
  description: 'adding problem: sum the two marked values of a random sequence',
  criterion: `|prediction − target| < ${ADDING_TOLERANCE}`,
  chance: 2 * ADDING_TOLERANCE - ADDING_TOLERANCE ** 2,
  inputSize: 2,
  outputSize: 1,
  sample(random, batch, steps) {
    const x = new Float32Array(steps * batch * 2);
    const targets = new Float32Array(batch);
    const half = Math.floor(steps / 2);
    for (let b = 0; b < batch; b++) {
      for (let t = 0; t < steps; t++) x[(t * batch + b) * 2] = random.next();
      const first = random.int(half);
      const second = half + random.int(steps - half);
      for (const t of [first, second]) {
        x[(t * batch + b) * 2 + 1] = 1;
        targets[b] += x[(t * batch + b) * 2];
      }
    }
    return { x, targets, steps, batch };
  },
  loss(prediction, batch) {
    return mse(prediction, tensor(batch.targets, [batch.batch, 1], { backend: prediction.backend }));
  },
  async accuracy(prediction, batch) {
    const values = await prediction.toArray();
    let correct = 0;
    for (let b = 0; b < batch.batch; b++) if (Math.abs(values[b] - batch.targets[b]) < ADDING_TOLERANCE) correct++;
    return correct / batch.batch;
  },
};

/** Number of symbols of the copy task. */
export const COPY_SYMBOLS = 8;

/**
 * The copy (delayed-recall) task: step 0 shows one of 8 symbols (one-hot), every later step a
 * blank (channel 8); at the last step the network must name the symbol of step 0, T − 1 steps
 * back. Classification with cross-entropy; chance is 1/8.
 */
export const copyTask: Task = {
  name: 'copy',
  description: `copy task: recall the first of ${COPY_SYMBOLS} symbols after a delay of blanks`,
  criterion: 'arg-max class = first symbol',
  chance: 1 / COPY_SYMBOLS,
  inputSize: COPY_SYMBOLS + 1,
  outputSize: COPY_SYMBOLS,
  sample(random, batch, steps) {
    const width = COPY_SYMBOLS + 1;
    const x = new Float32Array(steps * batch * width);
    const targets = new Float32Array(batch);
    for (let b = 0; b < batch; b++) {
      targets[b] = random.int(COPY_SYMBOLS);
      x[b * width + targets[b]] = 1;
      for (let t = 1; t < steps; t++) x[(t * batch + b) * width + COPY_SYMBOLS] = 1;
    }
    return { x, targets, steps, batch };
  },
  loss(prediction, batch) {
    return crossEntropy(prediction, batch.targets);
  },
  accuracy(prediction, batch) {
    return accuracy(prediction, batch.targets);
  },
};

export const TASK_BY_NAME: Record<TaskName, Task> = { adding: addingTask, copy: copyTask };
