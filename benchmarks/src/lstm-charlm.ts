/**
 * Char-level language-model benchmark: training throughput (tokens/s) and single-sequence
 * inference latency (µs/token) of Recur's backends, with PyTorch and TensorFlow.js run in the same run.
 *
 *   pnpm bench:lstm [--backend js|native|webgpu] [--suite] [--json] [--out FILE] …   (--help lists all)
 *
 * Workload (issue 3's): Embedding(65, 64) → 2-layer {cell}(64, H) → Linear(H, 65), batch 32 ×
 * 64 steps, softmax cross-entropy, backward, clipGradNorm 1.0, Adam(lr 2e-3), on
 * ../shared/data/tinyshakespeare.txt (seeded random tokens, with a note, when it is absent).
 * TensorFlow.js (cpu backend) runs with --tfjs, and in --suite for the LSTM 2×256 rows only.
 * The conformance suite checks each backend's outputs and gradients on this model at every
 * size measured here (packages/conformance/src/benchmark-shapes.ts).
 */
import type { Backend } from '@recur/core';
import { type CommandLine, type Config, flopsPerStep, parseCommandLine, type TrainResult } from './config.js';
import { type Corpus, loadCorpus } from './corpus.js';
import { runTorch, TORCH_HINT, torchVersion } from './pytorch.js';
import { printTable, type Row, writeJson } from './report.js';
import { tfjsInfo, tfjsLatency, tfjsTrain } from './tfjs.js';
import { benchLatency, benchTrain, makeBackend, sgemmPeak } from './workloads.js';

const label = (c: Config) => `${c.cell.toUpperCase()} 2×${c.hidden}`;

const torchName = (c: Config, version: string) =>
  `pytorch ${version}${c.torchDevice && c.torchDevice !== 'cpu' ? ` ${c.torchDevice}` : ''}`;

type Tfjs = Awaited<ReturnType<typeof tfjsInfo>>;
const tfjsName = (t: Tfjs) => `tfjs ${t.version} ${t.backend}`;

/** Runs `work` on a fresh backend of that name and releases it, so workloads do not share pools. */
async function withBackend<T>(c: Config, work: (backend: Backend) => Promise<T>): Promise<T & { description: string }> {
  const backend = await makeBackend(c.backend, c);
  try {
    return { ...(await work(backend)), description: backend.description };
  } finally {
    backend.destroy();
  }
}

function trainRow(c: Config, r: Pick<TrainResult, 'tokensPerSecond' | 'gflops'>, backend = c.backend, note?: string): Row {
  return { workload: `train ${label(c)}`, backend, tokensPerSecond: r.tokensPerSecond, gflops: r.gflops, note };
}

function torchTrainRow(c: Config, torch: string | null): Row | null {
  const t = torch ? runTorch(c, 'train') : null;
  if (!t || !torch) return null;
  return trainRow(c, { tokensPerSecond: t.tokensPerSecond, gflops: flopsPerStep(c) / t.stepSeconds / 1e9 }, torchName(c, torch));
}

function latencyRow(c: Config, microsecondsPerToken: number, backend = c.backend): Row {
  return { workload: `inference ${label(c)}, batch 1`, backend, microsecondsPerToken };
}

function torchLatencyRow(c: Config, torch: string | null): Row | null {
  const t = torch ? runTorch(c, 'latency') : null;
  return t && torch ? latencyRow(c, t.microsecondsPerToken, torchName(c, torch)) : null;
}

/** Issue 3's matrix: every training configuration and the inference latency, each beside PyTorch. */
async function suite(base: Config, corpus: Corpus, torch: string | null, tfjs: Tfjs) {
  const rows: Row[] = [];
  const descriptions = new Set<string>();
  const configs: Config[] = [base, { ...base, cell: 'gru' }, { ...base, cell: 'rnn' }, { ...base, hidden: 128 }, { ...base, hidden: 512 }];
  for (const c of configs) {
    const r = await withBackend(c, (b) => benchTrain(b, c, corpus));
    descriptions.add(r.description);
    rows.push(trainRow(c, r));
    const t = torchTrainRow(c, torch);
    if (t) rows.push(t);
    if (c === base && c.backend !== 'js') {
      // The reference backend is two orders of magnitude slower: one timed step is enough.
      const js = { ...c, backend: 'js', warmup: 1, timed: 1 };
      rows.push(trainRow(js, await withBackend(js, (b) => benchTrain(b, js, corpus)), 'js', '1 timed step'));
    }
    if (c === base) {
      // TF.js's cpu backend is slower still (~25 s a step at this size), so only this row, one timed step.
      const tf = { ...c, warmup: 1, timed: 1 };
      rows.push(trainRow(tf, await tfjsTrain(tf, corpus), tfjsName(tfjs), '1 timed step'));
    }
  }
  const lat = await withBackend(base, (b) => benchLatency(b, base));
  rows.push(latencyRow(base, lat.microsecondsPerToken));
  const t = torchLatencyRow(base, torch);
  if (t) rows.push(t);
  rows.push(latencyRow(base, (await tfjsLatency(base)).microsecondsPerToken, tfjsName(tfjs)));
  return { rows, descriptions: [...descriptions] };
}

/** One configuration: training and/or latency, PyTorch beside it. */
async function single(opts: CommandLine, base: Config, corpus: Corpus, torch: string | null, tfjs: Tfjs | null) {
  const rows: Row[] = [];
  const result: Record<string, unknown> = {};
  let description = '';
  if (opts.mode !== 'latency') {
    const r = await withBackend(base, (b) => benchTrain(b, base, corpus));
    description = r.description;
    Object.assign(result, r);
    rows.push(trainRow(base, r));
  }
  if (opts.mode !== 'train') {
    const r = await withBackend(base, (b) => benchLatency(b, base));
    description = r.description;
    result.microsecondsPerToken = r.microsecondsPerToken;
    rows.push(latencyRow(base, r.microsecondsPerToken));
  }
  if (torch) {
    const pytorch: Record<string, unknown> = { version: torch };
    const train = opts.mode !== 'latency' ? torchTrainRow(base, torch) : null;
    const latency = opts.mode !== 'train' ? torchLatencyRow(base, torch) : null;
    for (const row of [train, latency]) if (row) rows.push(row);
    if (train) Object.assign(pytorch, { tokensPerSecond: train.tokensPerSecond, gflops: train.gflops });
    if (latency) pytorch.microsecondsPerToken = latency.microsecondsPerToken;
    result.pytorch = pytorch;
    if (train?.tokensPerSecond && typeof result.tokensPerSecond === 'number')
      result.speedupVsPytorch = result.tokensPerSecond / train.tokensPerSecond;
  }
  if (tfjs) {
    const out: Record<string, unknown> = { ...tfjs };
    if (opts.mode !== 'latency') {
      const r = await tfjsTrain(base, corpus);
      Object.assign(out, r);
      rows.push(trainRow(base, r, tfjsName(tfjs)));
      if (typeof result.tokensPerSecond === 'number') result.speedupVsTfjs = result.tokensPerSecond / r.tokensPerSecond;
    }
    if (opts.mode !== 'train') {
      const r = await tfjsLatency(base);
      out.microsecondsPerToken = r.microsecondsPerToken;
      rows.push(latencyRow(base, r.microsecondsPerToken, tfjsName(tfjs)));
    }
    result.tfjs = out;
  }
  result.description = description;
  return { rows, result };
}

async function main() {
  const opts = parseCommandLine(process.argv.slice(2));
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
    dawn: opts.dawn,
    torchDevice: opts.torchDevice,
  };
  const torch = opts.torch ? torchVersion() : null;
  if (opts.torch && !torch) console.error(`note: ${TORCH_HINT}`);
  const tfjs = opts.suite || opts.tfjs ? await tfjsInfo() : null;
  const peak = await sgemmPeak(opts.threads);
  const config = { ...base, optimizer: 'Adam', lr: 2e-3, clipGradNorm: 1.0, data: corpus.source };

  let json: Record<string, unknown>;
  let rows: Row[];
  let descriptions: string[];
  if (opts.suite) {
    const s = await suite(base, corpus, torch, tfjs as Tfjs);
    ({ rows, descriptions } = s);
    json = { backend: base.backend, descriptions, config, sgemmPeakGflops: peak, tfjs, suite: rows };
  } else {
    const s = await single(opts, base, corpus, torch, tfjs);
    rows = s.rows;
    descriptions = [s.result.description as string];
    json = { backend: base.backend, config, sgemmPeakGflops: peak, ...s.result };
  }
  if (opts.json) console.log(JSON.stringify(json));
  else {
    const notes = descriptions.map((d) => `${base.backend}: ${d}`);
    if (tfjs) notes.push(`tfjs: @tensorflow/tfjs ${tfjs.version}, '${tfjs.backend}' backend (pure JavaScript, one thread)`);
    if (peak !== null) notes.push(`sgemm peak (1024³ through the native addon, same run): ${peak.toFixed(1)} GFLOP/s`);
    printTable(rows, notes);
  }
  if (opts.out) await writeJson(opts.out, json);
}

main().catch((error) => {
  console.error(error instanceof RangeError ? error.message : error);
  process.exit(1);
});
