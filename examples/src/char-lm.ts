// A character-level language model, the short way: embedding → 2-layer LSTM → linear, trained
// on random windows of a text, then sampled. Beside it: pytorch/char_lm.py.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import '@recur/backend-js';
import '@recur/backend-native';
import { Adam, clipGradNorm, Embedding, Linear, LSTM, noGrad, Random, Sequential, sample, type Tensor, tensor } from '@recur/core';

const shared = (name: string) => fileURLToPath(new URL(`../../../shared/data/${name}`, import.meta.url));

export async function main({ data = shared('tinyshakespeare.txt'), steps = 1000, hidden = 256, batch = 32, seqLen: T = 64 } = {}) {
  const text = readFileSync(data, 'utf8');
  const vocab = [...new Set(text)].sort();
  const ids = Int32Array.from(text, (c) => vocab.indexOf(c));
  const model = new Sequential([
    new Embedding({ numEmbeddings: vocab.length, embeddingDim: 64 }),
    new LSTM({ inputSize: 64, hiddenSize: hidden, numLayers: 2 }),
    new Linear({ inFeatures: hidden, outFeatures: vocab.length }),
  ]);
  const optimizer = new Adam(model.parameters(), { lr: 2e-3 });
  const random = new Random(0);
  const losses: number[] = [];
  for (let step = 1; step <= steps; step++) {
    // A batch of random windows, time-major [T, batch]; the targets are the inputs shifted by one.
    const starts = Array.from({ length: batch }, () => random.int(ids.length - T - 1));
    const window = (shift: number) =>
      Int32Array.from({ length: T * batch }, (_, i) => ids[starts[i % batch] + Math.floor(i / batch) + shift]);
    const loss = model.forward(tensor(window(0), [T, batch], { dtype: 'int32' })).crossEntropy(window(1));
    loss.backward();
    clipGradNorm(model.parameters(), 1);
    optimizer.step();
    optimizer.zeroGrad();
    losses.push(await loss.item());
    if (step % 100 === 0) console.log(`step ${step}  loss ${losses.at(-1)?.toFixed(3)}`);
  }
  // Sample 200 characters, carrying the LSTM's state from one to the next.
  let state: Tensor[][] | undefined;
  let generated = text[0];
  for (let i = 0; i < 200; i++) {
    const input = tensor([vocab.indexOf(generated.at(-1) as string)], [1, 1], { dtype: 'int32' });
    const next = noGrad(() => model.forwardWithState(input, { state }));
    state = next.state;
    generated += vocab[(await sample(next.output, { temperature: 0.8, random })).data[0]];
  }
  console.log(generated);
  return { losses, sample: generated };
}

if (process.argv[1]?.endsWith('char-lm.js')) main({ data: process.argv[2] });
