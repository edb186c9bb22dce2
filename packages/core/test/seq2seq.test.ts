/**
 * Seq2Seq: teacher forcing against the same layers composed by hand, beam search against a
 * brute-force enumeration of every output sequence (the exact best), greedy against beam width
 * 1, gradients against finite differences, and a toy task (reversal) learned by a tiny model.
 */

import { createJsBackend } from '@recur/backend-js';
import {
  Adam,
  Embedding,
  GRU,
  intTensor,
  Linear,
  LSTM,
  logSoftmax,
  OptionsError,
  Random,
  type RecurrentLayer,
  Seq2Seq,
  ShapeError,
  tensor,
  ValueRangeError,
} from '@recur/core';
import { describe, expect, it } from 'vitest';
import { expectClose, expectError, expectRejection, f64, values } from './helpers.js';

const backend = f64();
const [SOURCE_VOCABULARY, V, E] = [5, 4, 3];
const [START, END] = [0, 1];

/** GRU (or LSTM) encoder–decoder with weights `scale` × PyTorch's init, for peaked distributions. */
async function build(options: { hidden?: number; bidirectional?: boolean; lstm?: boolean; seed?: number; scale?: number } = {}) {
  const { hidden = 4, bidirectional = false, lstm = false, seed = 1, scale = 2.5 } = options;
  const Layer = lstm ? LSTM : GRU;
  const model = new Seq2Seq({
    sourceEmbedding: new Embedding({ numEmbeddings: SOURCE_VOCABULARY, embeddingDim: E, backend, seed }),
    encoder: new Layer({ inputSize: E, hiddenSize: hidden, bidirectional, backend, seed: seed + 1 }),
    targetEmbedding: new Embedding({ numEmbeddings: V, embeddingDim: E, backend, seed: seed + 2 }),
    decoder: new Layer({ inputSize: E, hiddenSize: (bidirectional ? 2 : 1) * hidden, backend, seed: seed + 3 }),
    head: new Linear({ inFeatures: (bidirectional ? 2 : 1) * hidden, outFeatures: V, backend, seed: seed + 4 }),
  });
  for (const p of model.parameters()) p.copyFrom((await p.toArray()).map((v) => scale * v));
  return model;
}

const source = intTensor([2, 4, 3, 0, 1, 1, 4, 2], [4, 2]);

/** The arg-max of each row of `[rows, width]` values. */
function argmax(data: ArrayLike<number>, width: number): number[] {
  return Array.from({ length: data.length / width }, (_, r) => {
    let best = 0;
    for (let v = 1; v < width; v++) if (data[r * width + v] > data[r * width + best]) best = v;
    return best;
  });
}

/** The decoder run by hand one step at a time; `feed(t, previousArgmax)` chooses each next input. */
async function manualDecode(model: Seq2Seq, steps: number, feed: (t: number, predicted: number[]) => number[]) {
  const encoder = model.encoder as RecurrentLayer;
  let state = encoder.forward(model.sourceEmbedding?.forward(source) as never).state;
  let input = [START, START];
  const logits: number[] = [];
  for (let t = 0; t < steps; t++) {
    const out = model.decoder.forward(model.targetEmbedding.forward(intTensor(input, [1, 2])), { state });
    state = out.state;
    const step = await values(model.head.forward(out.output));
    logits.push(...step);
    input = feed(t + 1, argmax(step, V));
  }
  return logits;
}

/** Every output a search can return for maxLength M: m − 1 tokens then END (m ≤ M), or M tokens. */
function everySequence(maxLength: number): number[][] {
  const tokens = [...Array(V).keys()].filter((v) => v !== END);
  let prefixes: number[][] = [[]];
  const out: number[][] = [];
  for (let m = 1; m <= maxLength; m++) {
    for (const p of prefixes) out.push([...p, END]);
    prefixes = prefixes.flatMap((p) => tokens.map((v) => [...p, v]));
  }
  return [...out, ...prefixes];
}

/** log p(y | source b) of each sequence, by one teacher-forced pass over all of them. */
async function logProbabilities(model: Seq2Seq, b: number, sequences: number[][], maxLength: number): Promise<number[]> {
  const n = sequences.length;
  const src = intTensor(
    Array.from({ length: 4 * n }, (_, i) => source.data[Math.floor(i / n) * 2 + b]),
    [4, n],
  );
  // Padding with END changes nothing before it: the decoder reads only earlier tokens.
  const target = Array.from({ length: maxLength * n }, (_, i) => sequences[i % n][Math.floor(i / n)] ?? END);
  const logits = await model.forward(src, intTensor(target, [maxLength, n]), { startToken: START });
  const logp = await values(logSoftmax(logits));
  return sequences.map((y, s) => y.reduce((sum, v, t) => sum + logp[(t * n + s) * V + v], 0));
}

/** Central finite differences of an async loss wrt every parameter element. */
async function checkGradients(model: Seq2Seq, loss: () => Promise<number>, analytic: number[][], eps = 1e-6) {
  const mismatches: string[] = [];
  for (const [k, p] of model.parameters().entries()) {
    const base = await values(p);
    for (let j = 0; j < base.length; j++) {
      const at = async (delta: number) => {
        p.copyFrom(base.map((v, i) => (i === j ? v + delta : v)));
        return loss();
      };
      const numeric = ((await at(eps)) - (await at(-eps))) / (2 * eps);
      if (!(Math.abs(analytic[k][j] - numeric) <= 1e-6 * (1 + Math.abs(numeric))))
        mismatches.push(`${p.name}[${j}]: ${analytic[k][j]} vs ${numeric}`);
    }
    p.copyFrom(base);
  }
  expect(mismatches).toEqual([]);
}

describe('Seq2Seq', () => {
  const target = intTensor([3, 2, 2, 1, 1, 3], [3, 2]);

  it('teacher forcing 1: the decoder reads START then the target shifted right, from the encoder’s final state', async () => {
    const model = await build();
    const logits = await model.forward(source, target, { startToken: START, teacherForcing: 1 });
    expect(logits.shape).toEqual([3, 2, V]);
    const manual = await manualDecode(model, 3, (t) => [target.data[(t - 1) * 2], target.data[(t - 1) * 2 + 1]]);
    expectClose(await values(logits), manual, 1e-12, 1e-12);
  });

  it('teacher forcing 0: each step reads the previous arg-max, which is what greedy decodes', async () => {
    const model = await build();
    const logits = await model.forward(source, target, { startToken: START, teacherForcing: 0 });
    const manual = await manualDecode(model, 3, (_, predicted) => predicted);
    expectClose(await values(logits), manual, 1e-12, 1e-12);
    const greedy = await model.greedy(source, { maxLength: 3, startToken: START });
    const predicted = argmax(await values(logits), V);
    expect(greedy.tokens).toEqual([0, 1].map((b) => [0, 1, 2].map((t) => predicted[t * 2 + b])));
  });

  it('teacher forcing 0.5: one draw per step from the given Random picks the target or the prediction', async () => {
    const model = await build();
    const long = intTensor([3, 2, 2, 3, 0, 2, 3, 0, 2, 2, 0, 3], [6, 2]);
    const logits = await model.forward(source, long, { startToken: START, teacherForcing: 0.5, random: new Random(4) });
    const random = new Random(4);
    const forced = [true, ...Array.from({ length: 5 }, () => random.next() < 0.5)];
    expect(new Set(forced.slice(1)).size).toBe(2); // both kinds of step occur
    const manual = await manualDecode(model, 6, (t, predicted) =>
      forced[t] ? [long.data[(t - 1) * 2], long.data[(t - 1) * 2 + 1]] : predicted,
    );
    expectClose(await values(logits), manual, 1e-12, 1e-12);
  });

  for (const ratio of [1, 0.5]) {
    it(`gradients of the cross-entropy through forward (teacher forcing ${ratio}) match finite differences`, async () => {
      const model = await build({ hidden: 2, scale: 1 });
      const loss = async () =>
        (await model.forward(source, target, { startToken: START, teacherForcing: ratio, random: new Random(2) })).crossEntropy(target);
      model.zeroGrad();
      (await loss()).backward();
      const analytic = await Promise.all(model.parameters().map(async (p) => values(p.grad ?? tensor([0], [1], { backend }))));
      await checkGradients(model, async () => (await loss()).item(), analytic);
    });
  }

  it('beam search without an end token, wide enough to prune nothing, finds the best of all V^maxLength sequences', async () => {
    const model = await build({ seed: 3 });
    const maxLength = 4;
    // Every hypothesis runs four steps, so each beam's decoder state must follow it when beams
    // are reordered; 64 live beams × 4 tokens: width 256 prunes nothing.
    const found = await model.beamSearch(source, { beamWidth: 256, maxLength, startToken: START });
    const sequences = Array.from({ length: V ** maxLength }, (_, i) =>
      Array.from({ length: maxLength }, (_, t) => Math.floor(i / V ** t) % V),
    );
    for (const b of [0, 1]) {
      const logp = await logProbabilities(model, b, sequences, maxLength);
      const best = logp.indexOf(Math.max(...logp));
      expect(found.tokens[b]).toEqual(sequences[best]);
      expect(found.scores[b]).toBeCloseTo(logp[best], 10);
    }
  });

  for (const lengthPenalty of [0, 1]) {
    it(`beam search wide enough to prune nothing finds the exact best sequence (lengthPenalty ${lengthPenalty})`, async () => {
      const model = await build({ seed: 3 });
      const maxLength = 4;
      // Step 4 extends at most 27 live beams by 4 tokens each: 108 beams keep every extension
      // (and from step 3 on, beams must be reordered: each carries its own decoder state).
      const found = await model.beamSearch(source, { beamWidth: 108, maxLength, startToken: START, endToken: END, lengthPenalty });
      const greedy = await model.greedy(source, { maxLength, startToken: START, endToken: END });
      const sequences = everySequence(maxLength);
      let greedyWasBeaten = false;
      let penaltyMattered = false;
      for (const b of [0, 1]) {
        const logp = await logProbabilities(model, b, sequences, maxLength);
        const scores = logp.map((l, s) => l / sequences[s].length ** lengthPenalty);
        const best = scores.indexOf(Math.max(...scores));
        const tokens = sequences[best].at(-1) === END ? sequences[best].slice(0, -1) : sequences[best];
        expect(found.tokens[b]).toEqual(tokens);
        expect(found.scores[b]).toBeCloseTo(scores[best], 10);
        if (greedy.tokens[b].join() !== tokens.join()) greedyWasBeaten = true;
        const unpenalised = logp.indexOf(Math.max(...logp));
        if (unpenalised !== best) penaltyMattered = true;
      }
      // The search had to look past the greedy path, or the penalty had to change the winner,
      // for at least one source: otherwise a search ignoring either would pass.
      expect(lengthPenalty === 0 ? greedyWasBeaten : penaltyMattered).toBe(true);
    });
  }

  it('greedy equals beam search of width 1: tokens and log-probabilities, with and without an end token', async () => {
    for (const seed of [1, 5, 9]) {
      const model = await build({ seed, lstm: seed === 5 });
      for (const endToken of [END, undefined]) {
        const options = { maxLength: 6, startToken: START, endToken };
        const greedy = await model.greedy(source, options);
        const beam = await model.beamSearch(source, { ...options, beamWidth: 1 });
        expect(beam.tokens).toEqual(greedy.tokens);
        expectClose(beam.scores, greedy.scores, 1e-12, 1e-12);
      }
    }
  });

  it('a bidirectional encoder hands each layer’s two final states side by side to a decoder twice as wide', async () => {
    const model = await build({ bidirectional: true, lstm: true });
    const state = model.encode(source);
    const hN = await values((model.encoder as RecurrentLayer).forward(model.sourceEmbedding?.forward(source) as never).hN);
    // hN [2, B, 4] → [1, B, 8]: forward then backward per sequence.
    const expected = [0, 1].flatMap((b) => [...hN.slice(b * 4, b * 4 + 4), ...hN.slice(8 + b * 4, 8 + b * 4 + 4)]);
    expect(state.map((s) => s.shape)).toEqual([
      [1, 2, 8],
      [1, 2, 8],
    ]);
    expect(await values(state[0])).toEqual(expected);
    const decoded = await model.beamSearch(source, { beamWidth: 3, maxLength: 4, startToken: START, endToken: END });
    expect(decoded.tokens).toHaveLength(2);
  });

  it('without a sourceEmbedding the encoder reads float sources [S, B, I] as they are', async () => {
    const encoder = new GRU({ inputSize: 2, hiddenSize: 4, backend, seed: 7 });
    const model = new Seq2Seq({
      encoder,
      targetEmbedding: new Embedding({ numEmbeddings: V, embeddingDim: E, backend, seed: 8 }),
      decoder: new GRU({ inputSize: E, hiddenSize: 4, backend, seed: 9 }),
      head: new Linear({ inFeatures: 4, outFeatures: V, backend, seed: 10 }),
    });
    const features = tensor(
      Array.from({ length: 12 }, (_, i) => Math.sin(i)),
      [3, 2, 2],
      { backend },
    );
    expect(await values(model.encode(features)[0])).toEqual(await values(encoder.forward(features).hN));
    expect((await model.forward(features, target, { startToken: START })).shape).toEqual([3, 2, V]);
  });

  it('sourceLengths: each source is encoded over its own length', async () => {
    const model = await build();
    const state = await values(model.encode(source, [4, 2])[0]);
    const short = intTensor([4, 0], [2, 1]);
    expect(state.slice(4)).toEqual(await values(model.encode(short)[0]));
  });

  it('learns to reverse a sequence (toy task), decoded exactly by greedy and beam search', async () => {
    // Tokens: 0 start, 1 end, 2…5 symbols. Target = source reversed, then END.
    const random = new Random(0);
    const batchOf = (n: number) => {
      const seqs = Array.from({ length: n }, () => Array.from({ length: 4 }, () => 2 + random.int(4)));
      const src = intTensor(
        Array.from({ length: 4 * n }, (_, i) => seqs[i % n][Math.floor(i / n)]),
        [4, n],
      );
      const tgt = intTensor(
        Array.from({ length: 5 * n }, (_, i) => [...seqs[i % n]].reverse()[Math.floor(i / n)] ?? END),
        [5, n],
      );
      return { seqs, src, tgt };
    };
    const H = 16;
    // float32, as a model is usually trained (and twice as fast as the float64 backend here).
    const f32 = createJsBackend();
    const model = new Seq2Seq({
      sourceEmbedding: new Embedding({ numEmbeddings: 6, embeddingDim: 8, backend: f32, seed: 1 }),
      encoder: new GRU({ inputSize: 8, hiddenSize: H, backend: f32, seed: 2 }),
      targetEmbedding: new Embedding({ numEmbeddings: 6, embeddingDim: 8, backend: f32, seed: 3 }),
      decoder: new GRU({ inputSize: 8, hiddenSize: H, backend: f32, seed: 4 }),
      head: new Linear({ inFeatures: H, outFeatures: 6, backend: f32, seed: 5 }),
    });
    const optimizer = new Adam(model.parameters(), { lr: 0.02 });
    for (let step = 0; step < 300; step++) {
      const { src, tgt } = batchOf(32);
      (await model.forward(src, tgt, { startToken: START })).crossEntropy(tgt).backward();
      optimizer.step();
      optimizer.zeroGrad();
    }
    const test = batchOf(40);
    const reversed = test.seqs.map((s) => [...s].reverse());
    const greedy = await model.greedy(test.src, { maxLength: 8, startToken: START, endToken: END });
    const beam = await model.beamSearch(test.src, { beamWidth: 3, maxLength: 8, startToken: START, endToken: END });
    const exact = (tokens: number[][]) => tokens.filter((t, i) => t.join() === reversed[i].join()).length / tokens.length;
    expect(exact(greedy.tokens)).toBeGreaterThanOrEqual(0.9);
    expect(exact(beam.tokens)).toBeGreaterThanOrEqual(0.9);
  }, 30_000);

  it('state dict names its parts; typed errors name the argument', async () => {
    const model = await build();
    expect(Object.keys(model.stateDict()).filter((k) => k.endsWith('weight_ih_l0') || k.endsWith('.weight'))).toEqual([
      'sourceEmbedding.weight',
      'encoder.weight_ih_l0',
      'targetEmbedding.weight',
      'decoder.weight_ih_l0',
      'head.weight',
    ]);
    const parts = () => ({
      encoder: new GRU({ inputSize: E, hiddenSize: 4, backend }),
      targetEmbedding: new Embedding({ numEmbeddings: V, embeddingDim: E, backend }),
      decoder: new GRU({ inputSize: E, hiddenSize: 4, backend }) as RecurrentLayer,
      head: new Linear({ inFeatures: 4, outFeatures: V, backend }),
    });
    expectError(
      () => new Seq2Seq({ ...parts(), decoder: new GRU({ inputSize: E, hiddenSize: 5, backend }) }),
      ShapeError,
      'do not fit the decoder',
      'bridge',
    );
    expectError(
      () => new Seq2Seq({ ...parts(), decoder: new GRU({ inputSize: E, hiddenSize: 4, bidirectional: true, backend }) }),
      OptionsError,
      'decoder must be unidirectional',
    );
    expectError(
      () => new Seq2Seq({ ...parts(), encoder: new GRU({ inputSize: E, hiddenSize: 4, batchFirst: true, backend }) }),
      OptionsError,
      'encoder must be time-major',
    );
    expectError(
      () => new Seq2Seq({ ...parts(), targetEmbedding: new Embedding({ numEmbeddings: V, embeddingDim: 2, backend }) }),
      ShapeError,
      'targetEmbedding.embeddingDim 2',
    );
    expectError(() => new Seq2Seq({ ...parts(), head: undefined as never }), OptionsError, 'head');
    expectError(() => new Seq2Seq({ ...parts(), decodr: 1 } as never), OptionsError, "did you mean 'decoder'");
    const plain = new Seq2Seq(parts());
    await expectRejection(
      () => plain.forward(source, target, { startToken: START }),
      OptionsError,
      'source must be a float tensor [S, B, 3]',
    );
    await expectRejection(
      () => model.forward(tensor([1], [1, 1, 1], { backend }), target, { startToken: START }),
      OptionsError,
      'source must be int32 ids',
    );
    await expectRejection(
      () => model.forward(source, intTensor([1, 2, 3], [3, 1]), { startToken: START }),
      ShapeError,
      'target holds 1 sequences but source holds 2',
    );
    await expectRejection(() => model.forward(source, target, {} as never), OptionsError, 'startToken');
    await expectRejection(() => model.forward(source, target, { startToken: START, teacherForcing: 2 }), ValueRangeError, 'teacherForcing');
    await expectRejection(() => model.greedy(source, { maxLength: 0, startToken: START }), ValueRangeError, 'maxLength');
    await expectRejection(() => model.greedy(source, { maxLength: 2, startToken: START, endToken: 9 }), ValueRangeError, 'endToken 9');
    await expectRejection(() => model.beamSearch(source, { maxLength: 2, startToken: START } as never), OptionsError, 'beamWidth');
    await expectRejection(
      () => model.beamSearch(source, { beamWidth: 2, maxLength: 2, startToken: START, endToken: 7 }),
      ValueRangeError,
      'endToken 7',
    );
  });
});
