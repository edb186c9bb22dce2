/**
 * The char-LM training step of the project's benchmark on one backend: Embedding(65, 64) →
 * 2-layer LSTM(256) → Linear(65), cross-entropy, clipGradNorm(1.0), Adam; batch 32 × 64 steps.
 * Bundled and run by scripts/bench.mjs.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createJsBackend } from '@recur/backend-js';
import { Adam, type Backend, clipGradNorm, crossEntropy, Embedding, Linear, LSTM, tidy } from '@recur/core';
import { createWebGpuBackend, type WebGpuBackend } from '../src/index.js';

export interface BenchOptions {
  backend: 'webgpu' | 'js';
  dawnFlags?: string[];
  featureLevel?: 'core' | 'compatibility';
  hidden: number;
  layers: number;
  embedding: number;
  batch: number;
  seq: number;
  warmup: number;
  steps: number;
  data: string;
}

export async function bench(o: BenchOptions): Promise<void> {
  const backend: Backend =
    o.backend === 'js'
      ? createJsBackend()
      : await createWebGpuBackend(o.dawnFlags ? { dawnFlags: o.dawnFlags, featureLevel: o.featureLevel } : {});
  // Tokens: tinyshakespeare's characters when the shared data folder is there, else random ids.
  let text: Uint8Array;
  let vocab = 65;
  if (existsSync(o.data)) {
    const raw = readFileSync(o.data, 'utf8');
    const chars = [...new Set(raw)].sort();
    vocab = chars.length;
    const id = new Map(chars.map((c, i) => [c, i]));
    text = Uint8Array.from(raw.slice(0, 200_000), (c) => id.get(c) as number);
  } else {
    console.log(`(${o.data} not found: using random tokens)`);
    text = Uint8Array.from({ length: 200_000 }, (_, i) => (i * 7919) % vocab);
  }
  const embedding = new Embedding({ numEmbeddings: vocab, embeddingDim: o.embedding, backend, seed: 1 });
  const lstm = new LSTM({ inputSize: o.embedding, hiddenSize: o.hidden, numLayers: o.layers, backend, seed: 2 });
  const head = new Linear({ inFeatures: o.hidden, outFeatures: vocab, backend, seed: 3 });
  const params = [...embedding.parameters(), ...lstm.parameters(), ...head.parameters()];
  const optimizer = new Adam(params, { lr: 2e-3 });
  const { batch: B, seq: T } = o;
  let cursor = 0;
  const nextBatch = () => {
    const ids = new Int32Array(T * B);
    const targets = new Int32Array(T * B);
    for (let b = 0; b < B; b++) {
      const start = (cursor + b * 997) % (text.length - T - 1);
      for (let t = 0; t < T; t++) {
        ids[t * B + b] = text[start + t];
        targets[t * B + b] = text[start + t + 1];
      }
    }
    cursor += T;
    return { ids, targets };
  };
  const step = async () => {
    const { ids, targets } = nextBatch();
    const loss = tidy(() => {
      const x = embedding.forward(ids, [T, B]);
      const logits = head.forward(lstm.forward(x).output);
      const l = crossEntropy(logits, targets);
      l.backward();
      return l;
    });
    await clipGradNorm(params, 1.0);
    optimizer.step();
    optimizer.zeroGrad();
    const value = await loss.item();
    loss.dispose();
    return value;
  };
  const describe = backend.description;
  console.log(
    `char-LM step: ${o.layers}-layer LSTM ${o.hidden}, embedding ${o.embedding}, vocab ${vocab}, batch ${B}, ${T} steps, Adam, clip 1.0`,
  );
  console.log(`backend: ${describe}`);
  for (let i = 0; i < o.warmup; i++) {
    const t0 = performance.now();
    const l = await step();
    console.log(`  warm-up step ${i + 1}: loss ${l.toFixed(4)}, ${((performance.now() - t0) / 1000).toFixed(2)} s`);
  }
  const gpu = backend as Partial<WebGpuBackend>;
  const dispatches0 = gpu.dispatchCount ?? 0;
  const submits0 = gpu.submitCount ?? 0;
  const t0 = performance.now();
  let last = 0;
  for (let i = 0; i < o.steps; i++) {
    last = await step();
    console.log(`  step ${i + 1}: loss ${last.toFixed(4)}`);
  }
  const seconds = (performance.now() - t0) / 1000;
  const tokens = o.steps * B * T;
  const perStep = o.steps
    ? `, ${((gpu.dispatchCount ?? 0) - dispatches0) / o.steps} dispatches and ${((gpu.submitCount ?? 0) - submits0) / o.steps} submits per step`
    : '';
  console.log(
    `result: ${(tokens / seconds).toFixed(1)} tokens/s (${(seconds / Math.max(1, o.steps)).toFixed(2)} s per step over ${o.steps} steps${o.backend === 'webgpu' ? perStep : ''})`,
  );
  console.log(
    `RESULT_JSON ${JSON.stringify({ backend: o.backend, device: describe, tokensPerSecond: tokens / seconds, secondsPerStep: seconds / Math.max(1, o.steps), steps: o.steps, lastLoss: last })}`,
  );
  optimizer.dispose();
  for (const m of [embedding, lstm, head]) m.dispose();
  backend.destroy();
}
