/**
 * Memory soak (a script, not a test): trains a small LSTM language model for many steps on
 * each backend and prints, every `--every` steps, the process's RSS and the live-buffer count
 * and bytes that `memory(backend)` reports. A leak shows as a count that grows step after
 * step; a healthy loop is flat after warm-up. Each backend runs in turn in this process, with a
 * garbage collection before every print (run with `node --expose-gc`, as `pnpm soak` does).
 *
 *   pnpm soak [--steps 10000] [--every 500] [--backends native,webgpu,js] [--json FILE]
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
    json: { type: 'string' },
  },
});
const steps = Number(args.steps);
const every = Number(args.every);
if (!Number.isInteger(steps) || steps < 1 || !Number.isInteger(every) || every < 1) {
  console.error('soak: --steps and --every must be positive integers');
  process.exit(2);
}

interface Sample {
  backend: string;
  step: number;
  loss: number;
  rssMiB: number;
  heapUsedMiB: number;
  /** V8's reserved heap: RSS follows it when V8 enlarges its young generation under a high allocation rate. */
  heapTotalMiB: number;
  liveBuffers: number;
  liveMiB: number;
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
  console.log(`\n${backend.description}: ${steps} steps, LSTM ${E}→${H}, vocabulary ${V}, batch ${B} × ${T}`);
  console.log('   step      loss   RSS MiB  JS heap MiB (used / total)  live buffers  live MiB');
  const started = performance.now();
  for (let step = 1; step <= steps; step++) {
    const { inputs, targets } = batch();
    const loss = tidy(() => {
      const { output } = lstm.forward(embedding.forward(inputs, [T, B]));
      const l = crossEntropy(head.forward(output), targets);
      l.backward();
      return l;
    });
    await clipGradNorm(params, 1);
    optimizer.step();
    optimizer.zeroGrad();
    if (step % every === 0 || step === 1) {
      const value = await loss.item();
      loss.dispose();
      gc();
      const process_ = process.memoryUsage();
      const live = memory(backend);
      const sample = {
        backend: backend.name,
        step,
        loss: value,
        rssMiB: mib(process_.rss),
        heapUsedMiB: mib(process_.heapUsed),
        heapTotalMiB: mib(process_.heapTotal),
        liveBuffers: live.buffers,
        liveMiB: mib(live.bytes),
      };
      samples.push(sample);
      console.log(
        `${String(step).padStart(7)}  ${value.toFixed(4).padStart(8)}  ${sample.rssMiB.toFixed(1).padStart(8)}  ${`${sample.heapUsedMiB.toFixed(1)} / ${sample.heapTotalMiB.toFixed(1)}`.padStart(26)}  ${String(live.buffers).padStart(12)}  ${sample.liveMiB.toFixed(3).padStart(8)}`,
      );
    } else {
      loss.dispose();
    }
  }
  console.log(`${steps} steps in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  for (const module of [embedding, lstm, head]) module.dispose();
  optimizer.dispose();
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
if (args.json) writeFileSync(args.json, `${JSON.stringify({ steps, every, samples }, null, 2)}\n`);
