/**
 * Variable-length batches (PyTorch's packed sequences): each sequence is checked against the
 * same model run on that sequence alone with T = its length.
 */
import { type Backend, GRU, LeakyRNN, LSTM, type RecurrentLayer, RNN, type Tensor, tensor, UGRNN } from '@recur/core';
import { describe, expect, it } from 'vitest';
import { expectClose, f64, randomArray, values, withoutFusedSequence } from './helpers.js';

const T = 5;
const B = 3;
const I = 2;
const H = 3;
const lengths = [5, 2, 3];

const models: [string, (backend: Backend, numLayers: number, bidirectional: boolean) => RecurrentLayer][] = [
  ['RNN', (backend, numLayers, bidirectional) => new RNN({ inputSize: I, hiddenSize: H, numLayers, bidirectional, backend, seed: 1 })],
  ['LSTM', (backend, numLayers, bidirectional) => new LSTM({ inputSize: I, hiddenSize: H, numLayers, bidirectional, backend, seed: 2 })],
  ['GRU', (backend, numLayers, bidirectional) => new GRU({ inputSize: I, hiddenSize: H, numLayers, bidirectional, backend, seed: 3 })],
  ['UGRNN', (backend, numLayers, bidirectional) => new UGRNN({ inputSize: I, hiddenSize: H, numLayers, bidirectional, backend, seed: 4 })],
  [
    'LeakyRNN',
    (backend, numLayers, bidirectional) =>
      new LeakyRNN({ inputSize: I, hiddenSize: H, numLayers, bidirectional, tau: [1, 2, 3], backend, seed: 5 }),
  ],
];
const paths: [string, () => Backend][] = [
  ['fused', f64],
  ['unrolled', () => withoutFusedSequence(f64())],
];

/** `[T, B, F]` host array → the rows of sequence b for steps [0, n), as `[n, 1, F]` data. */
function sequenceOf(data: number[], b: number, n: number, width: number, batch = B): number[] {
  const out: number[] = [];
  for (let t = 0; t < n; t++) out.push(...data.slice((t * batch + b) * width, (t * batch + b + 1) * width));
  return out;
}

describe('variable lengths', () => {
  for (const [path, makeBackend] of paths) {
    for (const [name, build] of models) {
      for (const [numLayers, bidirectional] of [
        [1, false],
        [2, true],
      ] as const) {
        it(`${name}, ${numLayers} layer(s)${bidirectional ? ', bidirectional' : ''} (${path} path)`, async () => {
          const backend = makeBackend();
          const model = build(backend, numLayers, bidirectional);
          const D = bidirectional ? 2 : 1;
          const rows = numLayers * D;
          const xs = randomArray(31, T * B * I, -1.5, 1.5);
          const h0s = randomArray(32, rows * B * H);
          const c0s = randomArray(33, rows * B * H);
          const isLstm = model.stateSize === 2;
          const run = model.forward(tensor(xs, [T, B, I], { backend }), {
            lengths,
            h0: tensor(h0s, [rows, B, H], { backend }),
            c0: isLstm ? tensor(c0s, [rows, B, H], { backend }) : undefined,
          });
          const output = await values(run.output);
          const hN = await values(run.hN);
          const cN = isLstm ? await values(run.cN as Tensor) : [];
          for (let b = 0; b < B; b++) {
            const n = lengths[b];
            // Past its length a sequence outputs exact zeros.
            for (let t = n; t < T; t++) {
              const padding = output.slice((t * B + b) * D * H, (t * B + b + 1) * D * H);
              expect(
                padding.every((v) => v === 0),
                `output[${t}, ${b}] = ${padding}`,
              ).toBe(true);
            }
            // The valid prefix and the final states equal a run of that sequence alone with T = len.
            const alone = model.forward(tensor(sequenceOf(xs, b, n, I), [n, 1, I], { backend }), {
              h0: tensor(sequenceOf(h0s, b, rows, H), [rows, 1, H], { backend }),
              c0: isLstm ? tensor(sequenceOf(c0s, b, rows, H), [rows, 1, H], { backend }) : undefined,
            });
            expectClose(sequenceOf(output, b, n, D * H), await values(alone.output), 1e-13, 1e-15, `output of sequence ${b}`);
            expectClose(sequenceOf(hN, b, rows, H), await values(alone.hN), 1e-13, 1e-15, `hN of sequence ${b}`);
            if (isLstm) expectClose(sequenceOf(cN, b, rows, H), await values(alone.cN as Tensor), 1e-13, 1e-15, `cN of sequence ${b}`);
          }
        });
      }
    }
  }

  for (const [path, makeBackend] of paths) {
    it(`bidirectional: the reverse direction equals a forward run over the reversed valid prefix (LSTM, ${path} path)`, async () => {
      const backend = makeBackend();
      const bi = new LSTM({ inputSize: I, hiddenSize: H, bidirectional: true, backend, seed: 6 });
      // A one-direction LSTM holding the reverse direction's weights.
      const reverse = new LSTM({ inputSize: I, hiddenSize: H, backend, seed: 7 });
      const dict = bi.stateDict();
      await reverse.loadStateDict(
        Object.fromEntries(['weight_ih', 'weight_hh', 'bias_ih', 'bias_hh'].map((k) => [`${k}_l0`, dict[`${k}_l0_reverse`]])),
      );
      const xs = randomArray(34, T * B * I);
      const run = bi.forward(tensor(xs, [T, B, I], { backend }), { lengths });
      const output = await values(run.output);
      const hN = await values(run.hN);
      const cN = await values(run.cN as Tensor);
      for (let b = 0; b < B; b++) {
        const n = lengths[b];
        const reversedPrefix: number[] = [];
        for (let t = n - 1; t >= 0; t--) reversedPrefix.push(...xs.slice((t * B + b) * I, (t * B + b + 1) * I));
        const alone = reverse.forward(tensor(reversedPrefix, [n, 1, I], { backend }));
        const aloneOut = await values(alone.output);
        // hN index 1 (layer 0, reverse) is the state after processing t = 0.
        expectClose(hN.slice((1 * B + b) * H, (1 * B + b + 1) * H), await values(alone.hN), 1e-13, 1e-15, `reverse hN of ${b}`);
        expectClose(cN.slice((1 * B + b) * H, (1 * B + b + 1) * H), await values(alone.cN as Tensor), 1e-13, 1e-15, `reverse cN of ${b}`);
        for (let t = 0; t < n; t++) {
          // output[t, b, H:2H] is the reverse state after reading x[t], i.e. step n − 1 − t of the reversed run.
          const got = output.slice((t * B + b) * 2 * H + H, (t * B + b) * 2 * H + 2 * H);
          expectClose(got, aloneOut.slice((n - 1 - t) * H, (n - t) * H), 1e-13, 1e-15, `reverse output[${t}, ${b}]`);
        }
      }
    });
  }

  it('padding is never read (fused path): NaN padding leaves outputs and states of short sequences intact', async () => {
    const backend = f64();
    const model = new LSTM({ inputSize: I, hiddenSize: H, bidirectional: true, backend, seed: 10 });
    const xs = randomArray(37, T * B * I);
    // Element k of [T, B, I] is at step ⌊k / (B·I)⌋ of sequence ⌊k / I⌋ mod B.
    const padded = xs.map((v, k) => (Math.floor(k / (I * B)) >= lengths[Math.floor(k / I) % B] ? Number.NaN : v));
    expect(padded.filter(Number.isNaN)).toHaveLength((T - 2 + (T - 3)) * I);
    const clean = model.forward(tensor(xs, [T, B, I], { backend }), { lengths });
    const dirty = model.forward(tensor(padded, [T, B, I], { backend }), { lengths });
    expect(await values(dirty.output)).toEqual(await values(clean.output));
    expect(await values(dirty.hN)).toEqual(await values(clean.hN));
  });

  it('padding is never read (unrolled path): NaN padding leaves outputs and states of short sequences intact', async () => {
    const backend = f64();
    const model = new LeakyRNN({ inputSize: I, hiddenSize: H, bidirectional: true, tau: 2, backend, seed: 10 });
    const xs = randomArray(37, T * B * I);
    const padded = xs.map((v, k) => (Math.floor(k / (I * B)) >= lengths[Math.floor(k / I) % B] ? Number.NaN : v));
    const clean = model.forward(tensor(xs, [T, B, I], { backend }), { lengths });
    const dirty = model.forward(tensor(padded, [T, B, I], { backend }), { lengths });
    expect(await values(dirty.output)).toEqual(await values(clean.output));
    expect(await values(dirty.hN)).toEqual(await values(clean.hN));
  });

  it('lengths all equal to T give the same result as no lengths', async () => {
    const backend = f64();
    const model = new GRU({ inputSize: I, hiddenSize: H, bidirectional: true, backend, seed: 8 });
    const x = tensor(randomArray(35, T * B * I), [T, B, I], { backend });
    expect(await values(model.forward(x, { lengths: [T, T, T] }).output)).toEqual(await values(model.forward(x).output));
  });

  it('batchFirst with lengths: padding rows are zero in [B, T, ·] layout', async () => {
    const backend = f64();
    const model = new RNN({ inputSize: I, hiddenSize: H, batchFirst: true, backend, seed: 9 });
    const { output } = model.forward(tensor(randomArray(36, B * T * I), [B, T, I], { backend }), { lengths });
    const out = await values(output);
    for (let b = 0; b < B; b++) {
      for (let t = 0; t < T; t++) {
        const row = out.slice((b * T + t) * H, (b * T + t + 1) * H);
        expect(row.every((v) => v === 0)).toBe(t >= lengths[b]);
      }
    }
  });
});
