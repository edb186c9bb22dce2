/** The benchmark's command line, the workload's FLOP count and how a training step is timed. */

export type Cell = 'lstm' | 'gru' | 'rnn';

/** One training/inference workload: the model's sizes and how it is timed. */
export interface Config {
  backend: string;
  cell: Cell;
  hidden: number;
  embedding: number;
  layers: number;
  vocab: number;
  batch: number;
  steps: number;
  warmup: number;
  timed: number;
  threads: number;
  dawn?: string[];
  /** Where the PyTorch script runs: 'cpu' (default) or 'cuda' (needs a CUDA build of torch). */
  torchDevice?: string;
}

export interface CommandLine {
  backend: string;
  cell: Cell;
  hidden: number;
  mode: 'train' | 'latency' | 'both';
  suite: boolean;
  json: boolean;
  out: string | undefined;
  torch: boolean;
  tfjs: boolean;
  timed: number;
  warmup: number;
  threads: number;
  /** webgpu in Node: Dawn toggles for `create()` of the npm package `webgpu`, e.g. ['backend=vulkan']. */
  dawn: string[] | undefined;
  torchDevice: string;
}

export const USAGE = `usage: pnpm bench:lstm [options]
  --backend js|native|webgpu   backend under test (default native)
  --cell lstm|gru|rnn          recurrent cell (default lstm; rnn = Elman tanh)
  --hidden N                   hidden size (default 256)
  --mode train|latency|both    training step, per-token inference latency, or both (default both)
  --suite                      the issue's matrix (LSTM/GRU/RNN 256, LSTM 128 and 512, latency) in one table
  --timed N --warmup N         timed / warm-up training steps (median reported; default 5 / 2)
  --threads N                  native and PyTorch threads (default 2)
  --dawn FLAGS                 webgpu in Node: Dawn flags, comma-separated (e.g. backend=vulkan, backend=opengles);
                               default: Dawn's default adapter, then OpenGL ES (llvmpipe on machines without a GPU)
  --no-torch                   do not run the PyTorch script
  --torch-device cpu|cuda      where PyTorch runs (default cpu; cuda: cuDNN, with a CUDA build of torch,
                               whose python RECUR_BENCH_PYTHON names; default /usr/bin/python3)
  --tfjs                       also run TensorFlow.js (@tensorflow/tfjs, cpu backend; ~25 s per LSTM 2×256 step);
                               --suite always runs it, for the LSTM 2×256 row (1 timed step) and the latency
  --json                       print one JSON object instead of the table
  --out FILE                   also write the JSON object to FILE (atomically)`;

function torchDevice(text: string): string {
  if (!/^(cpu|cuda(:\d+)?)$/.test(text)) throw new RangeError(`--torch-device must be cpu, cuda or cuda:N, received ${text}`);
  return text;
}

function positiveInteger(name: string, text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`${name} must be a positive integer, received ${text}`);
  return n;
}

export function parseCommandLine(argv: string[]): CommandLine {
  const args = argv.filter((a) => a !== '--');
  if (args.includes('--help') || args.includes('-h')) {
    console.log(USAGE);
    process.exit(0);
  }
  const value = (name: string, fallback: string) => {
    const i = args.indexOf(name);
    if (i < 0) return fallback;
    if (i + 1 >= args.length) throw new RangeError(`${name} needs a value\n${USAGE}`);
    return args[i + 1];
  };
  const cell = value('--cell', 'lstm');
  if (cell !== 'lstm' && cell !== 'gru' && cell !== 'rnn') throw new RangeError(`--cell must be lstm, gru or rnn, received ${cell}`);
  const mode = value('--mode', 'both');
  if (mode !== 'train' && mode !== 'latency' && mode !== 'both')
    throw new RangeError(`--mode must be train, latency or both, received ${mode}`);
  const backend = value('--backend', 'native');
  if (!['js', 'native', 'webgpu'].includes(backend)) throw new RangeError(`--backend must be js, native or webgpu, received ${backend}`);
  return {
    backend,
    cell,
    hidden: positiveInteger('--hidden', value('--hidden', '256')),
    mode,
    suite: args.includes('--suite'),
    json: args.includes('--json'),
    out: args.includes('--out') ? value('--out', '') : undefined,
    torch: !args.includes('--no-torch'),
    tfjs: args.includes('--tfjs'),
    timed: positiveInteger('--timed', value('--timed', '5')),
    warmup: Number(value('--warmup', '2')),
    threads: positiveInteger('--threads', value('--threads', '2')),
    dawn: args.includes('--dawn') ? value('--dawn', '').split(',').filter(Boolean) : undefined,
    torchDevice: torchDevice(value('--torch-device', 'cpu')),
  };
}

function gateCount(cell: Cell) {
  return cell === 'lstm' ? 4 : cell === 'gru' ? 3 : 1;
}

/**
 * FLOPs of one training step (multiply-adds × 2; element-wise work not counted), N = T·B:
 *   forward  = 2·N·[ Σ_layers G·H·(I_l + H) + H·V ]     (G = 4 LSTM, 3 GRU, 1 RNN)
 *   backward = 2 × forward (an input gradient and a weight gradient per product)
 * For the LSTM 2×256 default: 6·2048·(4·256·320 + 4·256·512 + 256·65) = 10.67 GFLOP per step.
 */
export function flopsPerStep(c: Pick<Config, 'cell' | 'hidden' | 'embedding' | 'layers' | 'vocab' | 'batch' | 'steps'>): number {
  const G = gateCount(c.cell);
  let macs = 0;
  for (let l = 0; l < c.layers; l++) macs += G * c.hidden * ((l === 0 ? c.embedding : c.hidden) + c.hidden);
  macs += c.hidden * c.vocab;
  return 6 * c.batch * c.steps * macs;
}

export const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

export interface TrainResult {
  stepSeconds: number;
  tokensPerSecond: number;
  gflops: number;
  flopsPerStep: number;
  loss: number;
}

/** Calls `step` (one training step, resolving to its loss) `c.warmup` times untimed, then `c.timed` times: the median. */
export async function timeTraining(c: Config, step: () => Promise<number>): Promise<TrainResult> {
  for (let i = 0; i < c.warmup; i++) await step();
  const times: number[] = [];
  let loss = Number.NaN;
  for (let i = 0; i < c.timed; i++) {
    const t0 = performance.now();
    loss = await step();
    times.push((performance.now() - t0) / 1000);
  }
  const stepSeconds = median(times);
  const flops = flopsPerStep(c);
  return { stepSeconds, tokensPerSecond: (c.steps * c.batch) / stepSeconds, gflops: flops / stepSeconds / 1e9, flopsPerStep: flops, loss };
}
