#!/usr/bin/env node
/**
 * Memory soak: 10,000 small training steps (LSTM + Linear + crossEntropy + Adam, in tidy) on
 * the native backend, printing memory every 1,000 steps. After warm-up the C heap (malloc in
 * use) and RSS outside the JS heap (rss − heapTotal) stay flat; RSS itself also rises when V8
 * enlarges its young generation under the allocation rate (heapTotal shows it).
 *
 *   node --expose-gc scripts/soak.mjs [steps]       (needs `pnpm build` of core and this package)
 */
import { Adam, clipGradNorm, crossEntropy, Linear, LSTM, Random, tensor, tidy } from '@recur/core';
import { createNativeBackend, nativeMallocInUse } from '../dist/index.js';

const total = Number(process.argv[2] ?? 10_000);
const backend = createNativeBackend();
const [T, B, V, H] = [8, 4, 11, 16];
const lstm = new LSTM({ inputSize: V, hiddenSize: H, backend, seed: 1 });
const head = new Linear({ inFeatures: H, outFeatures: V, backend, seed: 2 });
const params = [...lstm.parameters(), ...head.parameters()];
const optimizer = new Adam(params, { lr: 1e-3 });
const random = new Random(3);
const x = tensor(
  Float32Array.from({ length: T * B * V }, () => random.uniform(-1, 1)),
  [T, B, V],
  { backend },
);
const targets = Int32Array.from({ length: T * B }, (_, i) => i % V);

async function step() {
  const loss = tidy(() => {
    const { output } = lstm.forward(x);
    const l = crossEntropy(head.forward(output.reshape([T * B, H])), targets);
    l.backward();
    return l;
  });
  await clipGradNorm(params, 1.0);
  optimizer.step();
  optimizer.zeroGrad();
  const value = (await loss.toArray())[0];
  loss.dispose();
  return value;
}

const mb = (n) => (n / 2 ** 20).toFixed(1);
const gc = globalThis.gc ?? (() => {});
let baseline = 0;
const started = performance.now();
for (let i = 1; i <= total; i++) {
  const loss = await step();
  if (i % 1000 === 0) {
    gc();
    const m = process.memoryUsage();
    const outside = m.rss - m.heapTotal;
    if (i === 1000) baseline = outside;
    console.log(
      `step ${String(i).padStart(6)}  loss ${loss.toFixed(4)}  rss ${mb(m.rss)} MB  rss−heapTotal ${mb(outside)} MB (${i === 1000 ? 'baseline' : `${outside >= baseline ? '+' : ''}${mb(outside - baseline)} MB`})  JS heap ${mb(m.heapUsed)}/${mb(m.heapTotal)} MB  external ${mb(m.external)} MB  malloc in use ${mb(nativeMallocInUse())} MB`,
    );
  }
}
console.log(`${total} steps in ${((performance.now() - started) / 1000).toFixed(1)} s`);
backend.destroy();
