/**
 * GRU-D demonstration (issue #10): next hour's pm2.5 from the previous 24 hours of the seven
 * numeric columns of ../shared/data/pollution.csv (Beijing, hourly, 43,800 rows with `NA` gaps),
 * with its own gaps and with 50% and 80% of the remaining values removed at random, by three
 * models of the same size (hidden 32, then Linear(32, 1)):
 *   - GRU, mean imputation: a GRU on the window with each missing value set to its training mean;
 *   - GRU-Δt (RNN_Δt): the window as an irregular series, one step per hour whose pm2.5 was
 *     observed, `withTimeDeltas` appending the time since the previous step, and a last step at
 *     the forecast hour (features at their means) whose Δt says how old the last observation is;
 *   - GRU-D: the window with NaN where values are missing (mask and δ derived by GRUD).
 * RMSE in µg/m³ on the chronologically last 20% (targets: the data's own observed values, never
 * removed), beside persistence (the last pm2.5 the window still holds).
 *
 *   pnpm --filter @recur/benchmarks grud-demo [--steps 2000] [--backend native|js|webgpu] [--threads 2] [--data FILE]
 *
 * Not a test: it trains nine models. Results, machine and date are in ../grud-demo.md.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  Adam,
  type Backend,
  clipGradNorm,
  GRU,
  GRUD,
  Linear,
  noGrad,
  type Parameter,
  Random,
  type Tensor,
  tensor,
  withTimeDeltas,
} from '@recur/core';
import { makeBackend } from './workloads.js';

const COLUMNS = ['pm2.5', 'DEWP', 'TEMP', 'PRES', 'Iws', 'Is', 'Ir'];
const F = COLUMNS.length;
const WINDOW = 24;
const HIDDEN = 32;
const BATCH = 64;
const LEVELS = [0, 0.5, 0.8];
const KINDS = ['GRU, mean imputation', 'GRU-Δt', 'GRU-D'] as const;
type Kind = (typeof KINDS)[number];

/** Rows × F values, NaN where the file says `NA`. */
function load(path: string): Float64Array {
  const [header, ...lines] = readFileSync(path, 'utf8').trim().split(/\r?\n/);
  const names = header.split(',');
  const index = COLUMNS.map((c) => names.indexOf(c));
  if (index.includes(-1)) throw new Error(`${path}: expected the columns ${COLUMNS.join(', ')}, found ${header}`);
  const values = new Float64Array(lines.length * F);
  lines.forEach((line, r) => {
    const cells = line.split(',');
    index.forEach((c, f) => {
      values[r * F + f] = cells[c] === 'NA' ? Number.NaN : Number(cells[c]);
    });
  });
  return values;
}

/** Each observed value removed (made NaN) with probability `fraction`, the same draws for every model. */
function removeAtRandom(values: Float64Array, fraction: number, seed: number): Float64Array {
  const random = new Random(seed);
  return values.map((v) => (random.next() < fraction ? Number.NaN : v));
}

/** Per-feature mean and standard deviation of the observed values of the first `rows` rows. */
function moments(values: Float64Array, rows: number) {
  const mean = new Float64Array(F);
  const std = new Float64Array(F);
  for (let f = 0; f < F; f++) {
    let n = 0;
    let s = 0;
    let s2 = 0;
    for (let r = 0; r < rows; r++) {
      const v = values[r * F + f];
      if (Number.isNaN(v)) continue;
      n++;
      s += v;
      s2 += v * v;
    }
    mean[f] = s / n;
    std[f] = Math.sqrt(Math.max(s2 / n - mean[f] ** 2, 1e-12));
  }
  return { mean, std };
}

interface Model {
  parameters(): Parameter[];
  /** Standardised pm2.5 forecasts `[B, 1]` for the windows ending before each row of `ends`. */
  predict(ends: number[]): Tensor;
}

/** The three models over standardised values `z` (NaN = missing); `seed` fixes their initialisation. */
function buildModel(kind: Kind, backend: Backend, z: Float64Array, seed: number): Model {
  const head = new Linear({ inFeatures: HIDDEN, outFeatures: 1, backend, seed: seed + 1 });
  // Time-major [WINDOW, B, F] windows; `fill` replaces NaN (null keeps it, for GRU-D).
  const windows = (ends: number[], fill: number | null) =>
    Float64Array.from({ length: WINDOW * ends.length * F }, (_, i) => {
      const f = i % F;
      const b = Math.floor(i / F) % ends.length;
      const v = z[(ends[b] - WINDOW + Math.floor(i / (F * ends.length))) * F + f];
      return fill !== null && Number.isNaN(v) ? fill : v;
    });
  if (kind === 'GRU-D') {
    const grud = new GRUD({ inputSize: F, hiddenSize: HIDDEN, xMean: new Float64Array(F), backend, seed });
    // Timestamps in days, so δ stays within [0, 1] over a window.
    const days = Float64Array.from({ length: WINDOW }, (_, t) => t / 24);
    return {
      parameters: () => [...grud.parameters(), ...head.parameters()],
      predict: (ends) =>
        head.forward(grud.forward({ data: windows(ends, null), shape: [WINDOW, ends.length, F] }, { timestamps: days }).lastHidden()),
    };
  }
  if (kind === 'GRU, mean imputation') {
    const gru = new GRU({ inputSize: F, hiddenSize: HIDDEN, backend, seed });
    return {
      parameters: () => [...gru.parameters(), ...head.parameters()],
      predict: (ends) => head.forward(gru.forward(tensor(windows(ends, 0), [WINDOW, ends.length, F], { backend })).lastHidden()),
    };
  }
  const gru = new GRU({ inputSize: F + 1, hiddenSize: HIDDEN, backend, seed });
  const steps = WINDOW + 1;
  return {
    parameters: () => [...gru.parameters(), ...head.parameters()],
    predict: (ends) => {
      const B = ends.length;
      const x = new Float64Array(steps * B * F);
      const days = new Float64Array(steps * B);
      const lengths = ends.map((end, b) => {
        let n = 0;
        for (let hour = end - WINDOW; hour < end; hour++) {
          if (Number.isNaN(z[hour * F])) continue;
          for (let f = 0; f < F; f++) x[(n * B + b) * F + f] = Number.isNaN(z[hour * F + f]) ? 0 : z[hour * F + f];
          days[n * B + b] = (hour - end + WINDOW) / 24;
          n++;
        }
        // The query step: the forecast hour itself, with every feature at its mean (0).
        for (let t = n; t < steps; t++) days[t * B + b] = WINDOW / 24;
        return n + 1;
      });
      const input = withTimeDeltas(tensor(x, [steps, B, F], { backend }), days, { lengths });
      return head.forward(gru.forward(input, { lengths }).lastHidden());
    },
  };
}

interface Run {
  kind: Kind;
  level: number;
  rmse: number;
  seconds: number;
}

async function trainAndTest(kind: Kind, backend: Backend, level: number, data: Float64Array, steps: number): Promise<Run> {
  const rows = data.length / F;
  const split = Math.floor(rows * 0.8);
  const inputs = level > 0 ? removeAtRandom(data, level, 1000 + level * 100) : data;
  const { mean, std } = moments(inputs, split);
  const z = inputs.map((v, i) => (v - mean[i % F]) / std[i % F]);
  // Windows whose target (the next hour's pm2.5) the data observed; never removed.
  const ends = (from: number, to: number) =>
    Array.from({ length: to - from }, (_, i) => from + i).filter((e) => !Number.isNaN(data[e * F]));
  const trainEnds = ends(WINDOW, split);
  const testEnds = ends(split, rows);
  const target = (batch: number[]) =>
    tensor(
      Float64Array.from(batch, (e) => (data[e * F] - mean[0]) / std[0]),
      [batch.length, 1],
      { backend },
    );
  const model = buildModel(kind, backend, z, 7);
  const optimizer = new Adam(model.parameters(), { lr: 2e-3 });
  const random = new Random(11);
  const start = performance.now();
  for (let step = 1; step <= steps; step++) {
    const batch = Array.from({ length: BATCH }, () => trainEnds[random.int(trainEnds.length)]);
    const loss = model.predict(batch).mse(target(batch));
    loss.backward();
    clipGradNorm(model.parameters(), 1);
    optimizer.step();
    optimizer.zeroGrad();
    if (step % 500 === 0) console.error(`  ${kind}, ${level * 100}% removed: step ${step}, mse ${(await loss.item()).toFixed(4)}`);
  }
  let squares = 0;
  for (let i = 0; i < testEnds.length; i += 1024) {
    const batch = testEnds.slice(i, i + 1024);
    const predicted = await noGrad(() => model.predict(batch)).toArray();
    batch.forEach((e, b) => {
      squares += (predicted[b] * std[0] + mean[0] - data[e * F]) ** 2;
    });
  }
  return { kind, level, rmse: Math.sqrt(squares / testEnds.length), seconds: (performance.now() - start) / 1000 };
}

/** The last pm2.5 value each test window still holds (the training mean where it holds none). */
function persistence(data: Float64Array, level: number): number {
  const rows = data.length / F;
  const split = Math.floor(rows * 0.8);
  const inputs = level > 0 ? removeAtRandom(data, level, 1000 + level * 100) : data;
  const { mean } = moments(inputs, split);
  let squares = 0;
  let n = 0;
  for (let e = split; e < rows; e++) {
    if (Number.isNaN(data[e * F])) continue;
    let last = mean[0];
    for (let hour = e - 1; hour >= e - WINDOW; hour--) {
      if (!Number.isNaN(inputs[hour * F])) {
        last = inputs[hour * F];
        break;
      }
    }
    squares += (last - data[e * F]) ** 2;
    n++;
  }
  return Math.sqrt(squares / n);
}

function argument(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

async function main(): Promise<void> {
  const path = argument('data', fileURLToPath(new URL('../../../shared/data/pollution.csv', import.meta.url)));
  if (!existsSync(path)) {
    console.log(
      `grud-demo: skipped: ${path} is absent (the demo reads the shared pollution data set and never copies it into the repository)`,
    );
    return;
  }
  const steps = Number(argument('steps', '2000'));
  const backend = await makeBackend(argument('backend', 'native'), { threads: Number(argument('threads', '2')) });
  const data = load(path);
  const missing = data.filter((v) => Number.isNaN(v)).length / data.length;
  console.error(
    `${path}: ${data.length / F} rows, ${(100 * missing).toFixed(1)}% of values missing; ${backend.description}; ${steps} steps`,
  );
  const runs: Run[] = [];
  for (const level of LEVELS) for (const kind of KINDS) runs.push(await trainAndTest(kind, backend, level, data, steps));
  const header = ['values removed', 'persistence', ...KINDS];
  console.log(`| ${header.join(' | ')} |\n|${header.map(() => '---').join('|')}|`);
  for (const level of LEVELS) {
    const cells = KINDS.map((kind) => (runs.find((r) => r.kind === kind && r.level === level) as Run).rmse.toFixed(2));
    console.log(
      `| ${level === 0 ? 'none (its own gaps)' : `${level * 100}%`} | ${persistence(data, level).toFixed(2)} | ${cells.join(' | ')} |`,
    );
  }
  console.log(`\nTraining + test seconds: ${runs.map((r) => `${r.kind} ${r.level * 100}%: ${r.seconds.toFixed(0)}`).join('; ')}`);
  backend.destroy();
}

await main();
