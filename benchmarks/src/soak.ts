/**
 * Memory soak (a script, not a test): trains a small LSTM language model for many steps on
 * each backend and prints, every `--every` steps, the process's RSS and the live-buffer count
 * and bytes that `memory(backend)` reports. A leak shows as a count that grows step after
 * step; a healthy loop is flat after warm-up. Each backend runs in turn in this process.
 *
 * Two ways to write the loop:
 * - the default, the deterministic one: each step in `tidy`, the loss disposed, a garbage
 *   collection forced before every print (run with `node --expose-gc`, as `pnpm soak` does);
 * - `--no-tidy`, the short one: no `tidy`, no `dispose`, no forced collection; each step's
 *   tensors (activations, graph, loss) are simply dropped, `clipGradNorm` is not awaited, and
 *   the loss is read with `await loss.item()` every step, as PyTorch's running-loss idiom does.
 *   The buffers come back through core's GC safety net (tensor.ts), so the live count rises
 *   between V8's full collections and falls at each: the columns show it at the print and its
 *   peak (and RSS's) since the previous print. Flat means those peaks do not grow.
 *
 *   pnpm soak [--no-tidy] [--steps 10000] [--every 500] [--backends native,webgpu,js] [--json FILE]
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Adam, type Backend, clipGradNorm, createBackend, crossEntropy, Embedding, Linear, LSTM, memory, Random, tidy } from '@recur/core';
import '@recur/backend-js';
import '@recur/backend-native';
import '@recur/backend-webgpu';

const { values: args } = parseArgs({
  options: {
    steps: { type: 'string', default: '10000' },
    every: { type: 'string', default: '500' },
    backends: { type: 'string', default: 'native,webgpu,js' },
    'no-tidy': { type: 'boolean', default: false },
    json: { type: 'string' },
  },
});
const steps = Number(args.steps);
const short = args['no-tidy'];
const every = Number(args.every);
if (!Number.isInteger(steps) || steps < 1 || !Number.isInteger(every) || every < 1) {
  console.error('soak: --steps and --every must be positive integers');
  process.exit(2);
}

interface Sample {
  backend: string;
  mode: 'tidy' | 'no-tidy';
  step: number;
  loss: number;
  rssMiB: number;
  heapUsedMiB: number;
  /** V8's reserved heap: RSS follows it when V8 enlarges its young generation under a high allocation rate. */
  heapTotalMiB: number;
  liveBuffers: number;
  liveMiB: number;
  /** The most live buffers, and the largest RSS, after any step since the previous sample. */
  peakLiveBuffers: number;
  peakRssMiB: number;
}

const [T, B, V, E, H] = [16, 8, 32, 16, 32];
const mib = (bytes: number) => bytes / 2 ** 20;
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});

async function soak(backend: Backend, samples: Sample[]): Promise<void> {
  const random = new Random(7);
  const embedding = new Embedding({ numEmbeddings: V, embeddingDim: E, backend, seed: 1 });
  const lstm = new LSTM({ inputSize: E, hiddenSize: H, backend, seed: 2 });
  const head = new Linear({ inFeatures: H, outFeatures: V, backend, seed: 3 });
  const params = [...embedding.parameters(), ...lstm.parameters(), ...head.parameters()];
  const optimizer = new Adam(params, { lr: 3e-3 });
  // A learnable stream: each token is the previous one plus one, modulo V.
  const batch = () => {
    const ids = new Int32Array((T + 1) * B);
    for (let b = 0; b < B; b++) {
      const start = random.int(V);
      for (let t = 0; t <= T; t++) ids[t * B + b] = (start + t) % V;
    }
    return { inputs: ids.subarray(0, T * B), targets: ids.subarray(B) };
  };
  console.log(
    `\n${backend.description}: ${steps} steps (${short ? 'no tidy, no dispose' : 'tidy'}), LSTM ${E}→${H}, vocabulary ${V}, batch ${B} × ${T}`,
  );
  console.log('   step      loss   RSS MiB (peak)  JS heap MiB (used / total)  live buffers (peak)  live MiB');
  const started = performance.now();
  let peakLive = 0;
  let peakRss = 0;
  // One step per call: its tensors then die with its frame (a suspended async frame may keep
  // stale references to the last values it held).
  const trainStep = async (sample: boolean): Promise<number> => {
    const { inputs, targets } = batch();
    if (short) {
      const { output } = lstm.forward(embedding.forward(inputs, [T, B]));
      const loss = crossEntropy(head.forward(output), targets);
      loss.backward();
      void clipGradNorm(params, 1); // its scaling is enqueued before it first awaits
      optimizer.step();
      optimizer.zeroGrad();
      return await loss.item();
    }
    const loss = tidy(() => {
      const { output } = lstm.forward(embedding.forward(inputs, [T, B]));
      const l = crossEntropy(head.forward(output), targets);
      l.backward();
      return l;
    });
    await clipGradNorm(params, 1);
    optimizer.step();
    optimizer.zeroGrad();
    const value = sample ? await loss.item() : Number.NaN;
    loss.dispose();
    if (sample) gc();
    return value;
  };
  for (let step = 1; step <= steps; step++) {
    const sample = step % every === 0 || step === 1;
    const value = await trainStep(sample);
    peakLive = Math.max(peakLive, memory(backend).buffers);
    peakRss = Math.max(peakRss, process.memoryUsage.rss());
    if (sample) {
      const process_ = process.memoryUsage();
      const live = memory(backend);
      const row: Sample = {
        backend: backend.name,
        mode: short ? 'no-tidy' : 'tidy',
        step,
        loss: value,
        rssMiB: mib(process_.rss),
        heapUsedMiB: mib(process_.heapUsed),
        heapTotalMiB: mib(process_.heapTotal),
        liveBuffers: live.buffers,
        liveMiB: mib(live.bytes),
        peakLiveBuffers: peakLive,
        peakRssMiB: mib(peakRss),
      };
      samples.push(row);
      const rss = `${row.rssMiB.toFixed(1)} (${row.peakRssMiB.toFixed(1)})`;
      const heap = `${row.heapUsedMiB.toFixed(1)} / ${row.heapTotalMiB.toFixed(1)}`;
      console.log(
        `${String(step).padStart(7)}  ${value.toFixed(4).padStart(8)}  ${rss.padStart(14)}  ${heap.padStart(26)}  ${`${live.buffers} (${peakLive})`.padStart(19)}  ${row.liveMiB.toFixed(3).padStart(8)}`,
      );
      peakLive = 0;
      peakRss = 0;
    }
  }
  console.log(`${steps} steps in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  for (const module of [embedding, lstm, head]) module.dispose();
  optimizer.dispose();
  if (short) {
    // What the dropped tensors still hold until the next full collection and its callbacks.
    const before = memory(backend).buffers;
    for (let i = 0; i < 2; i++) {
      gc();
      await new Promise((resolve) => setImmediate(resolve));
    }
    console.log(`after disposing the model and the optimizer: ${before} live buffers, ${memory(backend).buffers} after a collection`);
    return;
  }
  const after = memory(backend);
  console.log(`after disposing the model and the optimizer: ${after.buffers} live buffers (${after.bytes} bytes)`);
}

const samples: Sample[] = [];
for (const name of args.backends.split(',').filter(Boolean)) {
  let backend: Backend;
  try {
    backend = await createBackend(name);
  } catch (error) {
    console.log(`\n${name}: skipped (${(error as Error).message})`);
    continue;
  }
  try {
    await soak(backend, samples);
  } finally {
    backend.destroy();
  }
}
if (args.json) writeFileSync(args.json, `${JSON.stringify({ steps, every, mode: short ? 'no-tidy' : 'tidy', samples }, null, 2)}\n`);
