/**
 * Char-level language-model benchmark: training throughput (tokens/s) and single-sequence
 * inference latency (µs/token), for Recur's backends and PyTorch in the same run.
 *
 *   pnpm --filter @recur/benchmarks bench:lstm -- [options]
 *
 *   --backend js|native|webgpu   backend under test (default native)
 *   --cell lstm|gru|rnn          recurrent cell (default lstm; rnn = Elman tanh)
 *   --hidden N                   hidden size (default 256)
 *   --mode train|latency|both    training step, per-token inference latency, or both (default both)
 *   --suite                      the matrix: LSTM 256 (native, js, PyTorch), GRU 256, RNN 256,
 *                                LSTM 128, LSTM 512, latency; prints one table
 *   --timed N --warmup N         timed / warm-up training steps (median reported; default 5 / 2)
 *   --threads N                  native and PyTorch threads (default 2)
 *   --no-torch                   do not run the PyTorch script
 *   --json                       one JSON object on stdout instead of the table
 *
 * Workload (the issue's): Embedding(65, 64) → 2-layer {cell}(64, H) → Linear(H, 65),
 * batch 32 × 64 steps, softmax cross-entropy, backward, clipGradNorm 1.0, Adam(lr 2e-3),
 * on ../shared/data/tinyshakespeare.txt (random tokens with a note when it is absent).
 *
 * FLOP count per training step (multiply-adds × 2; element-wise work not counted), N = T·B:
 *   forward  = 2·N·[ Σ_layers G·H·(I_l + H) + H·V ]     (G = 4 LSTM, 3 GRU, 1 RNN)
 *   backward = 2 × forward (an input gradient and a weight gradient per product)
 *   total    = 6·N·[ Σ_layers G·H·(I_l + H) + H·V ]
 * For the LSTM 2×256 default: 6·2048·(4·256·320 + 4·256·512 + 256·65) = 10.67 GFLOP per step.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
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

type Cell = 'lstm' | 'gru' | 'rnn';

interface Config {
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
}

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const DATA = join(repoRoot, '..', 'shared', 'data', 'tinyshakespeare.txt');
const PYTHON = '/usr/bin/python3';
const TORCH_SCRIPT = join(repoRoot, 'benchmarks', 'python', 'lstm_charlm.py');

function parseArgs(argv: string[]) {
  const args = argv.filter((a) => a !== '--');
  const value = (name: string, fallback: string) => {
    const i = args.indexOf(name);
    return i >= 0 && i + 1 < args.length ? args[i + 1] : fallback;
  };
  const cell = value('--cell', 'lstm') as Cell;
  if (!['lstm', 'gru', 'rnn'].includes(cell)) throw new Error(`--cell must be lstm, gru or rnn, received ${cell}`);
  const mode = value('--mode', 'both');
  if (!['train', 'latency', 'both'].includes(mode)) throw new Error(`--mode must be train, latency or both, received ${mode}`);
  return {
    backend: value('--backend', 'native'),
    cell,
    hidden: Number(value('--hidden', '256')),
    mode,
    suite: args.includes('--suite'),
    json: args.includes('--json'),
    torch: !args.includes('--no-torch'),
    timed: Number(value('--timed', '5')),
    warmup: Number(value('--warmup', '2')),
    threads: Number(value('--threads', '2')),
  };
}

// --- data ----------------------------------------------------------------------------------

interface Corpus {
  tokens: Int32Array;
  vocab: number;
  source: string;
}

function loadCorpus(): Corpus {
  if (existsSync(DATA)) {
    const text = readFileSync(DATA, 'utf8');
    const chars = [...new Set(text)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const index = new Map(chars.map((c, i) => [c, i]));
    return { tokens: Int32Array.from(text, (c) => index.get(c) as number), vocab: chars.length, source: DATA };
  }
  console.error(`note: ${DATA} not found; using 200,000 random tokens over a vocabulary of 65 instead`);
  let seed = 12345;
  const tokens = Int32Array.from({ length: 200_000 }, () => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return seed % 65;
  });
  return { tokens, vocab: 65, source: 'synthetic' };
}

/** A batch of random windows, time-major: inputs and next-character targets, each [T·B]. */
function sampleBatch(corpus: Corpus, T: number, B: number, random: () => number) {
  const inputs = new Int32Array(T * B);
  const targets = new Int32Array(T * B);
  for (let b = 0; b < B; b++) {
    const start = Math.floor(random() * (corpus.tokens.length - T - 1));
    for (let t = 0; t < T; t++) {
      inputs[t * B + b] = corpus.tokens[start + t];
      targets[t * B + b] = corpus.tokens[start + t + 1];
    }
  }
  return { inputs, targets };
}

function lcg(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

// --- model -----------------------------------------------------------------------------------

function gateCount(cell: Cell) {
  return cell === 'lstm' ? 4 : cell === 'gru' ? 3 : 1;
}

export function flopsPerStep(c: Pick<Config, 'cell' | 'hidden' | 'embedding' | 'layers' | 'vocab' | 'batch' | 'steps'>): number {
  const G = gateCount(c.cell);
  let macs = 0;
  for (let l = 0; l < c.layers; l++) macs += G * c.hidden * ((l === 0 ? c.embedding : c.hidden) + c.hidden);
  macs += c.hidden * c.vocab;
  return 6 * c.batch * c.steps * macs;
}

function buildModel(backend: Backend, c: Config) {
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

async function makeBackend(name: string, threads: number): Promise<Backend> {
  if (name === 'native') await import('@recur/backend-native');
  if (name === 'webgpu') {
    try {
      await import('@recur/backend-webgpu' as string);
    } catch {
      throw new Error("the webgpu backend package '@recur/backend-webgpu' is not available in this workspace");
    }
  }
  return createBackend(name, name === 'native' ? { threads } : {});
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

// --- training --------------------------------------------------------------------------------

async function benchTrain(backend: Backend, c: Config, corpus: Corpus) {
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
    await clipGradNorm(model.params, 1.0);
    optimizer.step();
    optimizer.zeroGrad();
    const value = (await loss.toArray())[0];
    loss.dispose();
    return value;
  };
  for (let i = 0; i < c.warmup; i++) await step();
  const times: number[] = [];
  let loss = 0;
  for (let i = 0; i < c.timed; i++) {
    const t0 = performance.now();
    loss = await step();
    times.push((performance.now() - t0) / 1000);
  }
  model.dispose();
  const stepSeconds = median(times);
  const flops = flopsPerStep(c);
  return { stepSeconds, tokensPerSecond: N / stepSeconds, gflops: flops / stepSeconds / 1e9, flopsPerStep: flops, loss };
}

// --- inference latency -------------------------------------------------------------------------

async function benchLatency(backend: Backend, c: Config, tokens = 200, warmup = 20) {
  const model = buildModel(backend, c);
  const times: number[] = [];
  let token = 0;
  let state: Tensor[] = [];
  for (let i = 0; i < tokens + warmup; i++) {
    const t0 = performance.now();
    const result = noGrad(() =>
      tidy(() => {
        const x = model.embedding.forward([token], [1, 1]);
        const out = model.rnn.forward(x, state.length ? { h0: state[0], c0: state[1] } : {});
        const logits = model.head.forward(out.output.reshape([1, c.hidden]));
        return { logits, next: out.cN ? [out.hN, out.cN] : [out.hN] };
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

// --- sgemm peak and PyTorch ---------------------------------------------------------------------

async function sgemmPeak(threads: number): Promise<number | null> {
  let backend: Backend;
  try {
    backend = await makeBackend('native', threads);
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

function torchAvailable(): string | null {
  const r = spawnSync(PYTHON, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

function runTorch(c: Config, mode: 'train' | 'latency'): Record<string, number | string> | null {
  const args = [
    TORCH_SCRIPT,
    '--mode',
    mode,
    '--cell',
    c.cell,
    '--hidden',
    String(c.hidden),
    '--threads',
    String(c.threads),
    '--warmup',
    String(c.warmup),
    '--timed',
    String(c.timed),
  ];
  if (existsSync(DATA)) args.push('--data', DATA);
  const r = spawnSync(PYTHON, args, { encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: String(c.threads) } });
  if (r.status !== 0) {
    console.error(`PyTorch run failed: ${r.stderr.slice(-500)}`);
    return null;
  }
  return JSON.parse(r.stdout.trim().split('\n').pop() as string);
}

// --- main --------------------------------------------------------------------------------------

interface Row {
  workload: string;
  backend: string;
  tokensPerSecond?: number;
  gflops?: number;
  microsecondsPerToken?: number;
  note?: string;
}

function table(rows: Row[], peak: number | null) {
  const fmt = (v: number | undefined, digits = 0) =>
    v === undefined ? '' : v.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
  const header = ['workload', 'backend', 'tokens/s', 'GFLOP/s', 'µs/token', 'note'];
  const lines = rows.map((r) => [
    r.workload,
    r.backend,
    fmt(r.tokensPerSecond),
    fmt(r.gflops, 1),
    fmt(r.microsecondsPerToken),
    r.note ?? '',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const row = (cells: string[]) => `| ${cells.map((cell, i) => cell.padEnd(widths[i])).join(' | ')} |`;
  console.log(row(header));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const l of lines) console.log(row(l));
  if (peak !== null) console.log(`\nsgemm peak (1024³ through the native addon, same run): ${peak.toFixed(1)} GFLOP/s`);
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const corpus = loadCorpus();
  const base: Config = {
    backend: opts.backend,
    cell: opts.cell,
    hidden: opts.hidden,
    embedding: 64,
    layers: 2,
    vocab: corpus.vocab,
    batch: 32,
    steps: 64,
    warmup: opts.warmup,
    timed: opts.timed,
    threads: opts.threads,
  };
  const torchVersion = opts.torch ? torchAvailable() : null;
  if (opts.torch && !torchVersion && !opts.json)
    console.error(`note: ${PYTHON} has no torch (apt-get install -y python3-torch libopenblas0-pthread); PyTorch column skipped`);
  const peak = await sgemmPeak(opts.threads);
  const label = (c: Config) => `${c.cell.toUpperCase()} 2×${c.hidden}`;

  if (opts.suite) {
    const rows: Row[] = [];
    const configs: Config[] = [
      base,
      { ...base, cell: 'gru' },
      { ...base, cell: 'rnn' },
      { ...base, hidden: 128 },
      { ...base, hidden: 512 },
    ];
    for (const c of configs) {
      const backend = await makeBackend(c.backend, c.threads);
      const r = await benchTrain(backend, c, corpus);
      backend.destroy();
      rows.push({ workload: `train ${label(c)}`, backend: c.backend, tokensPerSecond: r.tokensPerSecond, gflops: r.gflops });
      if (torchVersion) {
        const t = runTorch(c, 'train');
        if (t)
          rows.push({
            workload: `train ${label(c)}`,
            backend: `pytorch ${torchVersion}`,
            tokensPerSecond: t.tokensPerSecond as number,
            gflops: flopsPerStep(c) / (t.stepSeconds as number) / 1e9,
          });
      }
      if (c === base && c.backend !== 'js') {
        const js = await makeBackend('js', 1);
        const r2 = await benchTrain(js, { ...c, warmup: 1, timed: 1 }, corpus);
        rows.push({
          workload: `train ${label(c)}`,
          backend: 'js',
          tokensPerSecond: r2.tokensPerSecond,
          gflops: r2.gflops,
          note: '1 timed step',
        });
      }
    }
    const backend = await makeBackend(base.backend, base.threads);
    const lat = await benchLatency(backend, base);
    backend.destroy();
    rows.push({ workload: `inference ${label(base)}, batch 1`, backend: base.backend, microsecondsPerToken: lat.microsecondsPerToken });
    if (torchVersion) {
      const t = runTorch(base, 'latency');
      if (t)
        rows.push({
          workload: `inference ${label(base)}, batch 1`,
          backend: `pytorch ${torchVersion}`,
          microsecondsPerToken: t.microsecondsPerToken as number,
        });
    }
    if (opts.json) console.log(JSON.stringify({ suite: rows, sgemmPeakGflops: peak, data: corpus.source }));
    else table(rows, peak);
    return;
  }

  const backend = await makeBackend(base.backend, base.threads);
  const result: Record<string, unknown> = {
    backend: base.backend,
    description: backend.description,
    config: {
      cell: base.cell,
      hidden: base.hidden,
      embedding: base.embedding,
      layers: base.layers,
      vocab: base.vocab,
      batch: base.batch,
      steps: base.steps,
      optimizer: 'Adam',
      clipGradNorm: 1.0,
      warmup: base.warmup,
      timed: base.timed,
      threads: base.threads,
      data: corpus.source,
    },
    sgemmPeakGflops: peak,
  };
  const rows: Row[] = [];
  if (opts.mode !== 'latency') {
    const r = await benchTrain(backend, base, corpus);
    Object.assign(result, r);
    rows.push({ workload: `train ${label(base)}`, backend: base.backend, tokensPerSecond: r.tokensPerSecond, gflops: r.gflops });
  }
  if (opts.mode !== 'train') {
    const lat = await benchLatency(backend, base);
    Object.assign(result, lat);
    rows.push({ workload: `inference ${label(base)}, batch 1`, backend: base.backend, microsecondsPerToken: lat.microsecondsPerToken });
  }
  backend.destroy();
  if (torchVersion) {
    const torch: Record<string, unknown> = { version: torchVersion };
    if (opts.mode !== 'latency') {
      const t = runTorch(base, 'train');
      if (t) {
        Object.assign(torch, { tokensPerSecond: t.tokensPerSecond, gflops: flopsPerStep(base) / (t.stepSeconds as number) / 1e9 });
        rows.push({
          workload: `train ${label(base)}`,
          backend: `pytorch ${torchVersion}`,
          tokensPerSecond: t.tokensPerSecond as number,
          gflops: torch.gflops as number,
        });
      }
    }
    if (opts.mode !== 'train') {
      const t = runTorch(base, 'latency');
      if (t) {
        torch.microsecondsPerToken = t.microsecondsPerToken;
        rows.push({
          workload: `inference ${label(base)}, batch 1`,
          backend: `pytorch ${torchVersion}`,
          microsecondsPerToken: t.microsecondsPerToken as number,
        });
      }
    }
    result.pytorch = torch;
    if (typeof torch.tokensPerSecond === 'number' && typeof result.tokensPerSecond === 'number')
      result.speedupVsPytorch = result.tokensPerSecond / torch.tokensPerSecond;
  }
  if (opts.json) console.log(JSON.stringify(result));
  else table(rows, peak);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
