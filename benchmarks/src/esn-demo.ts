/**
 * Echo state network demonstration (a script, not a test): one-step prediction of NARMA-10 and
 * of the Mackey–Glass series (τ = 17), both generated here, with reservoirs of 100, 500 and
 * 1,000 units. For each it prints the NRMSE on held-out steps (RMSE / standard deviation of the
 * target, so 1 is predicting the mean and 0 is perfect) and the time to fit the ridge readout
 * (`fitRidge`, float64 on the host), to draw the reservoir (with its spectral-radius estimate)
 * and to run it over the whole series.
 *
 *   pnpm --filter @recur/benchmarks demo:esn [--backend native] [--sizes 100,500,1000] [--seeds 3] [--json FILE]
 *
 * The hyper-parameters below are fixed, common choices for each task, not tuned per size.
 */
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { type Backend, createBackend, ESN, fitRidge, noGrad, Random, slice, type Tensor, tensor, tidy } from '@recur/core';
import '@recur/backend-js';
import '@recur/backend-native';
import '@recur/backend-webgpu';

const { values: args } = parseArgs({
  options: {
    backend: { type: 'string', default: 'native' },
    sizes: { type: 'string', default: '100,500,1000' },
    seeds: { type: 'string', default: '3' },
    json: { type: 'string' },
  },
});
const sizes = args.sizes.split(',').map(Number);
const seeds = Number(args.seeds);
if (sizes.some((h) => !Number.isInteger(h) || h < 1) || !Number.isInteger(seeds) || seeds < 1) {
  console.error('esn-demo: --sizes must list positive integers and --seeds be a positive integer');
  process.exit(2);
}

/** A task: input u and target y of equal length, split into washout, training and test steps. */
interface Task {
  name: string;
  input: Float64Array;
  target: Float64Array;
  washout: number;
  train: number;
  test: number;
  reservoir: { spectralRadius: number; leakRate: number; inputScaling: number; biasScaling: number; density: number };
  alpha: number;
}

/**
 * NARMA-10 (Atiya & Parlos 2000): u_t ~ U(0, 0.5),
 * y_{t+1} = 0.3 y_t + 0.05 y_t Σ_{i=0..9} y_{t−i} + 1.5 u_{t−9} u_t + 0.1. Input u_t, target y_{t+1}.
 */
function narma10(steps: number, seed: number): { input: Float64Array; target: Float64Array } {
  const random = new Random(seed);
  const u = Float64Array.from({ length: steps + 10 }, () => random.uniform(0, 0.5));
  const y = new Float64Array(steps + 11);
  for (let t = 9; t < steps + 10; t++) {
    let sum = 0;
    for (let i = 0; i < 10; i++) sum += y[t - i];
    y[t + 1] = 0.3 * y[t] + 0.05 * y[t] * sum + 1.5 * u[t - 9] * u[t] + 0.1;
  }
  return { input: u.slice(10), target: y.slice(11) };
}

/**
 * Mackey–Glass, dx/dt = 0.2 x(t − τ) / (1 + x(t − τ)^10) − 0.1 x(t), τ = 17: RK4 with step 0.1
 * (the delayed term at half steps by linear interpolation of the stored history), constant
 * history 1.2, the first 1,000 time units dropped, sampled every time unit. Input x_t, target
 * x_{t+1}; the input is standardised with the training steps' mean and deviation.
 */
function mackeyGlass(steps: number): { input: Float64Array; target: Float64Array } {
  const [dt, tau, drop] = [0.1, 17, 1000];
  const lag = Math.round(tau / dt);
  const perSample = Math.round(1 / dt);
  const total = (drop + steps + 1) * perSample;
  const x = new Float64Array(lag + total + 1).fill(1.2);
  const f = (now: number, delayed: number) => (0.2 * delayed) / (1 + delayed ** 10) - 0.1 * now;
  for (let i = lag; i < lag + total; i++) {
    const [d0, d1] = [x[i - lag], x[i - lag + 1]];
    const dHalf = (d0 + d1) / 2;
    const k1 = f(x[i], d0);
    const k2 = f(x[i] + (dt / 2) * k1, dHalf);
    const k3 = f(x[i] + (dt / 2) * k2, dHalf);
    const k4 = f(x[i] + dt * k3, d1);
    x[i + 1] = x[i] + (dt / 6) * (k1 + 2 * k2 + 2 * k3 + k4);
  }
  const series = Float64Array.from({ length: steps + 1 }, (_, s) => x[lag + (drop + s) * perSample]);
  return { input: series.slice(0, steps), target: series.slice(1) };
}

function standardise(values: Float64Array, count: number): Float64Array {
  let mean = 0;
  for (let i = 0; i < count; i++) mean += values[i] / count;
  let variance = 0;
  for (let i = 0; i < count; i++) variance += (values[i] - mean) ** 2 / count;
  return values.map((v) => (v - mean) / Math.sqrt(variance));
}

function tasks(seed: number): Task[] {
  const [washout, train, test] = [200, 4000, 1000];
  const steps = washout + train + test;
  const mg = mackeyGlass(steps);
  return [
    {
      name: 'NARMA-10',
      ...narma10(steps, 1000 + seed),
      washout,
      train,
      test,
      reservoir: { spectralRadius: 0.9, leakRate: 1, inputScaling: 1, biasScaling: 0.2, density: 0.1 },
      alpha: 1e-7,
    },
    {
      name: 'Mackey–Glass τ=17',
      input: standardise(mg.input, washout + train),
      target: mg.target,
      washout,
      train,
      test,
      reservoir: { spectralRadius: 0.95, leakRate: 0.3, inputScaling: 0.5, biasScaling: 0.2, density: 0.1 },
      alpha: 1e-9,
    },
  ];
}

interface Result {
  task: string;
  hidden: number;
  seed: number;
  nrmse: number;
  fitSeconds: number;
  /** Drawing the reservoir and estimating its spectral radius. */
  initSeconds: number;
  reservoirSeconds: number;
}

async function run(backend: Backend, task: Task, hidden: number, seed: number): Promise<Result> {
  const steps = task.input.length;
  let start = performance.now();
  const esn = new ESN({ inputSize: 1, hiddenSize: hidden, ...task.reservoir, backend, seed });
  const initSeconds = (performance.now() - start) / 1000;
  const u = tensor(task.input, [steps, 1, 1], { backend });
  const y = tensor(task.target, [steps, 1, 1], { backend });
  start = performance.now();
  const states = noGrad(() => tidy(() => esn.forward(u).output));
  await states.toArray();
  const reservoirSeconds = (performance.now() - start) / 1000;
  const fitSteps = task.washout + task.train;
  const [trainStates, trainTargets] = [slice(states, 0, 0, fitSteps), slice(y, 0, 0, fitSteps)];
  start = performance.now();
  const readout = await fitRidge(trainStates, trainTargets, { alpha: task.alpha, washout: task.washout });
  const fitSeconds = (performance.now() - start) / 1000;
  const predicted = await noGrad(() => readout.forward(slice(states, 0, fitSteps, task.test))).toArray();
  const actual = task.target.subarray(fitSteps);
  let [mean, squared, variance] = [0, 0, 0];
  for (const v of actual) mean += v / actual.length;
  for (let i = 0; i < actual.length; i++) {
    squared += (predicted[i] - actual[i]) ** 2;
    variance += (actual[i] - mean) ** 2;
  }
  for (const t of [u, y, states, trainStates, trainTargets] as Tensor[]) t.dispose();
  esn.dispose();
  readout.dispose();
  return { task: task.name, hidden, seed, nrmse: Math.sqrt(squared / variance), fitSeconds, initSeconds, reservoirSeconds };
}

const backend = await createBackend(args.backend);
const results: Result[] = [];
for (let seed = 1; seed <= seeds; seed++) {
  for (const task of tasks(seed)) {
    for (const hidden of sizes) {
      const r = await run(backend, task, hidden, seed);
      results.push(r);
      console.error(
        `${r.task} H=${hidden} seed ${seed}: NRMSE ${r.nrmse.toPrecision(3)}, fit ${r.fitSeconds.toFixed(2)} s, init ${r.initSeconds.toFixed(2)} s, reservoir ${r.reservoirSeconds.toFixed(2)} s`,
      );
    }
  }
}

const stats = (v: number[]) => {
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  const sd = Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, v.length - 1));
  return { mean, sd };
};
// Small numbers (Mackey–Glass errors) in exponent form, so the columns stay readable.
const number = (x: number, digits: number) => (x !== 0 && Math.abs(x) < 1e-3 ? x.toExponential(digits - 1) : x.toPrecision(digits));
const fmt = (v: number[], digits: number) => {
  const { mean, sd } = stats(v);
  return v.length > 1 ? `${number(mean, digits)} ± ${number(sd, 2)}` : number(mean, digits);
};
console.log(
  `backend ${backend.description ?? backend.name}; ${cpus()[0]?.model ?? 'unknown CPU'} × ${cpus().length}; ${new Date().toISOString().slice(0, 10)}`,
);
console.log(`${seeds} seed(s); washout 200, train 4000, test 1000 steps; mean ± sd over seeds\n`);
console.log('| task | units | test NRMSE | fit time (s) | reservoir init (s) | reservoir run (s) |');
console.log('|---|---:|---:|---:|---:|---:|');
for (const task of [...new Set(results.map((r) => r.task))]) {
  for (const hidden of sizes) {
    const rs = results.filter((r) => r.task === task && r.hidden === hidden);
    const column = (pick: (r: Result) => number, digits: number) => fmt(rs.map(pick), digits);
    const line = [
      column((r) => r.nrmse, 3),
      column((r) => r.fitSeconds, 2),
      column((r) => r.initSeconds, 2),
      column((r) => r.reservoirSeconds, 2),
    ];
    console.log(`| ${task} | ${hidden} | ${line.join(' | ')} |`);
  }
}
if (args.json) writeFileSync(args.json, `${JSON.stringify(results, null, 2)}\n`);
backend.destroy();
