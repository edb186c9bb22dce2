// Sequence classification, the short way: will the user change room? A bidirectional GRU over
// variable-length radio-strength sequences (indoor-movement), trained on environments 1 and 2,
// tested on environment 3. Beside it: pytorch/classify.py.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import '@recur/backend-js';
import '@recur/backend-native';
import { Adam, accuracy, GRU, LastHidden, Linear, noGrad, Random, Sequential, tensor } from '@recur/core';
import { parse } from 'csv-parse/sync';

const shared = (name: string) => fileURLToPath(new URL(`../../../shared/data/${name}`, import.meta.url));

export async function main({ data = shared('indoor-movement'), epochs = 30, hidden = 32, batch = 16 } = {}) {
  const csv = (file: string) => parse(readFileSync(`${data}/${file}`), { comment: '#' }).map((row) => row.map(Number));
  const labels = new Map(csv('dataset/MovementAAL_target.csv').map(([id, label]) => [id, label > 0 ? 1 : 0]));
  const groups = new Map(csv('groups/MovementAAL_DatasetGroup.csv').map(([id, group]) => [id, group]));
  const sequences = [...labels.keys()].map((id) => ({ id, x: csv(`dataset/MovementAAL_RSS_${id}.csv`), y: labels.get(id) as number }));
  // A batch padded to its longest sequence: x time-major [T, B, 4], with each sequence's length.
  const padded = (items: typeof sequences) => {
    const T = Math.max(...items.map((s) => s.x.length));
    const x = new Float32Array(T * items.length * 4);
    for (const [b, s] of items.entries()) for (const [t, row] of s.x.entries()) x.set(row, (t * items.length + b) * 4);
    return { x: tensor(x, [T, items.length, 4]), lengths: items.map((s) => s.x.length), y: items.map((s) => s.y) };
  };
  const train = sequences.filter((s) => groups.get(s.id) !== 3);
  const test = padded(sequences.filter((s) => groups.get(s.id) === 3));
  const model = new Sequential([
    new GRU({ inputSize: 4, hiddenSize: hidden, bidirectional: true }),
    new LastHidden(),
    new Linear({ inFeatures: 2 * hidden, outFeatures: 2 }),
  ]);
  const optimizer = new Adam(model.parameters(), { lr: 5e-3 });
  const random = new Random(0);
  for (let epoch = 1; epoch <= epochs; epoch++) {
    const order = random.shuffle(train);
    for (let i = 0; i < order.length; i += batch) {
      const { x, lengths, y } = padded(order.slice(i, i + batch));
      const loss = model.forward(x, { lengths }).crossEntropy(y);
      loss.backward();
      optimizer.step();
      optimizer.zeroGrad();
    }
  }
  model.eval();
  const testAccuracy = await noGrad(() => accuracy(model.forward(test.x, { lengths: test.lengths }), test.y));
  console.log(`accuracy on environment 3 (held out): ${(100 * testAccuracy).toFixed(1)}%`);
  return { accuracy: testAccuracy };
}

if (process.argv[1]?.endsWith('classify.js')) main({ data: process.argv[2] });
