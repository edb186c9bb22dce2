/**
 * softmax / logSoftmax (PyTorch goldens from fixtures/generate_delay.py, finite differences, ±1000
 * logits against the reference), the Seq2Seq training pass (finite differences, and logits and
 * every gradient against the reference) and decoding and generation (the same tokens as the
 * reference, whose decisions are checked to be far from ties).
 */
import {
  type Backend,
  DelayRNN,
  disposeAll,
  Embedding,
  GRU,
  generate,
  intTensor,
  Linear,
  LSTM,
  logSoftmax,
  mul,
  Random,
  Seq2Seq,
  Sequential,
  softmax,
  sum,
  type Tensor,
  tensor,
  tidy,
} from '@recur/core';
import softmaxFile from '../fixtures/softmax.json' with { type: 'json' };
import { expectClose, referenceTolerance } from './compare.js';
import { data, tolerance } from './cross-backend.js';
import { checkGradients, exactRandom, type Problem, readGrads } from './finite-diff.js';
import type { FixtureTensor } from './fixtures.js';
import type { SuiteCase } from './suite-types.js';

interface SoftmaxFixture {
  name: string;
  input: FixtureTensor;
  axis: number;
  softmax: { lossWeights: FixtureTensor; output: FixtureTensor; gradInput: FixtureTensor };
  logSoftmax: { lossWeights: FixtureTensor; output: FixtureTensor; gradInput: FixtureTensor };
}

/** Checks a tensor's shape and values against a fixture tensor. */
export async function expectFixture(
  what: string,
  actual: Tensor | null | undefined,
  expected: FixtureTensor,
  backend: Backend,
): Promise<void> {
  if (!actual) throw new Error(`${what}: missing (expected shape [${expected.shape.join(', ')}])`);
  if (actual.shape.join() !== expected.shape.join()) {
    throw new Error(`${what}: shape [${actual.shape.join(', ')}] but PyTorch gives [${expected.shape.join(', ')}]`);
  }
  expectClose(what, await actual.toArray(), expected.data, referenceTolerance(backend.dtype));
}

const softmaxFixtures = softmaxFile.cases as unknown as SoftmaxFixture[];
const OPS = { softmax, logSoftmax } as const;

async function runSoftmaxFixture(backend: Backend, fx: SoftmaxFixture): Promise<void> {
  for (const op of ['softmax', 'logSoftmax'] as const) {
    const x = tensor(fx.input.data, fx.input.shape, { backend, requiresGrad: true });
    const y = OPS[op](x, fx.axis);
    sum(mul(y, tensor(fx[op].lossWeights.data, fx[op].lossWeights.shape, { backend }))).backward();
    await expectFixture(`${op} output`, y, fx[op].output, backend);
    await expectFixture(`${op} grad of input`, x.grad, fx[op].gradInput, backend);
    disposeAll([x, y]);
  }
}

/** Σ op(x, axis)·W as a `Problem`. */
function softmaxProblem(op: keyof typeof OPS, axis: number): Problem {
  const random = new Random(op === 'softmax' ? 41 : 42);
  const shape = [3, 4, 5];
  const values = { input: exactRandom(random, 60, 3) };
  const weights = exactRandom(random, 60);
  return {
    values,
    async loss(backend, v, withGrads) {
      const x = tensor(v.input, shape, { backend, requiresGrad: withGrads });
      const loss = tidy(() => {
        const l = sum(mul(OPS[op](x, axis), tensor(weights, shape, { backend })));
        if (withGrads) l.backward();
        return l;
      });
      const result = { loss: await loss.item(), grads: withGrads ? await readGrads([['input', x]]) : {} };
      disposeAll([x, loss]);
      return result;
    },
  };
}

/** Logits of ±1000 and ordinary ones: outputs and gradients against the reference. */
async function compareSoftmax(subject: Backend, reference: Backend): Promise<void> {
  const shape = [6, 7];
  const logits = data(70, 42, -5, 5).map((v, i) => (i < 14 ? v * 200 : v));
  const weights = data(71, 42);
  for (const op of ['softmax', 'logSoftmax'] as const) {
    const run = async (backend: Backend) => {
      const x = tensor(logits, shape, { backend, requiresGrad: true });
      const y = OPS[op](x);
      sum(mul(y, tensor(weights, shape, { backend }))).backward();
      const out = [await y.toArray(), await (x.grad as Tensor).toArray()];
      disposeAll([x, y]);
      return out;
    };
    const [actual, expected] = [await run(subject), await run(reference)];
    const tol = tolerance(subject, 7 * 4, 'sums of 7 exponentials, then a division or a log');
    expectClose(`${op} output`, actual[0], expected[0], tol);
    expectClose(`${op} grad of input`, actual[1], expected[1], tol);
  }
}

const [SRC, TGT, E, H] = [5, 6, 3, 4];
const source = intTensor([2, 4, 3, 0, 1, 1, 4, 2, 0, 3, 3, 1], [4, 3]);
const target = intTensor([3, 2, 5, 2, 1, 1, 5, 0, 4, 1, 3, 1], [4, 3]);

/** A small encoder–decoder: bidirectional LSTM encoder, LSTM decoder twice as wide. */
function buildSeq2Seq(backend: Backend): Seq2Seq {
  return new Seq2Seq({
    sourceEmbedding: new Embedding({ numEmbeddings: SRC, embeddingDim: E, backend, seed: 1 }),
    encoder: new LSTM({ inputSize: E, hiddenSize: H, bidirectional: true, backend, seed: 2 }),
    targetEmbedding: new Embedding({ numEmbeddings: TGT, embeddingDim: E, backend, seed: 3 }),
    decoder: new LSTM({ inputSize: E, hiddenSize: 2 * H, backend, seed: 4 }),
    head: new Linear({ inFeatures: 2 * H, outFeatures: TGT, backend, seed: 5 }),
  });
}

/** The teacher-forced cross-entropy of `buildSeq2Seq`, as a `Problem` over every parameter. */
function seq2seqProblem(reference: Backend): Problem {
  const random = new Random(43);
  const template = buildSeq2Seq(reference);
  const values: Record<string, Float64Array> = {};
  for (const [name, p] of template.namedParameters()) values[name] = exactRandom(random, p.size, 0.6);
  template.dispose();
  return {
    values,
    async loss(backend, v, withGrads) {
      const model = buildSeq2Seq(backend);
      for (const [name, p] of model.namedParameters()) p.copyFrom(v[name]);
      const logits = await model.forward(source, target, { startToken: 0 });
      const loss = logits.crossEntropy(target);
      if (withGrads) loss.backward();
      const result = { loss: await loss.item(), grads: withGrads ? await readGrads([...model.namedParameters()]) : {} };
      disposeAll([logits, loss]);
      model.dispose();
      return result;
    },
  };
}

/** The training pass's logits and every gradient, then greedy and beam decoding, against the reference. */
async function compareSeq2Seq(subject: Backend, reference: Backend): Promise<void> {
  const run = async (backend: Backend) => {
    const model = buildSeq2Seq(backend);
    const logits = await model.forward(source, target, { startToken: 0 });
    logits.crossEntropy(target).backward();
    const arrays = [await logits.toArray()];
    for (const [, p] of model.namedParameters()) arrays.push(await (p.grad as Tensor).toArray());
    const greedy = await model.greedy(source, { maxLength: 6, startToken: 0, endToken: 1 });
    const beam = await model.beamSearch(source, { beamWidth: 3, maxLength: 6, startToken: 0, endToken: 1 });
    model.dispose();
    return { arrays, greedy, beam };
  };
  const [actual, expected] = [await run(subject), await run(reference)];
  const tol = tolerance(subject, 40, 'an LSTM encoder and decoder over 4 steps, then a softmax');
  for (const [i, e] of expected.arrays.entries()) expectClose(i === 0 ? 'logits' : `grad of parameter ${i - 1}`, actual.arrays[i], e, tol);
  for (const kind of ['greedy', 'beam'] as const) {
    const [a, e] = [actual[kind], expected[kind]];
    if (JSON.stringify(a.tokens) !== JSON.stringify(e.tokens)) {
      throw new Error(`${kind} decoding: tokens ${JSON.stringify(a.tokens)} but the reference decodes ${JSON.stringify(e.tokens)}`);
    }
    expectClose(`${kind} scores`, a.scores, e.scores, tol);
  }
}

/**
 * `generate` at temperature 0 with a DelayRNN language model gives the reference's tokens. The
 * reference's own margins between the best and second-best logit are checked first, so a
 * float32 backend could not flip a decision by rounding alone.
 */
async function compareGeneration(subject: Backend, reference: Backend): Promise<void> {
  const build = (backend: Backend) =>
    new Sequential([
      new Embedding({ numEmbeddings: 7, embeddingDim: 4, backend, seed: 6 }),
      new DelayRNN({ inputSize: 4, hiddenSize: 8, delays: [1, 3], backend, seed: 7 }),
      new GRU({ inputSize: 8, hiddenSize: 8, backend, seed: 8 }),
      new Linear({ inFeatures: 8, outFeatures: 7, backend, seed: 9 }),
    ]);
  const prime = [1, 4, 2];
  const model = build(reference);
  const tokens = Array.from((await generate(model, prime, 12, { temperature: 0 })).data);
  const logits = await model.forward(intTensor([...prime, ...tokens], [prime.length + tokens.length, 1])).toArray();
  for (let t = prime.length - 1; t < prime.length + tokens.length - 1; t++) {
    const row = Array.from(logits.subarray(t * 7, (t + 1) * 7)).sort((a, b) => b - a);
    if (row[0] - row[1] < 1e-3) throw new Error(`test setup: the reference's logits at step ${t} nearly tie (${row[0]} vs ${row[1]})`);
  }
  model.dispose();
  const onSubject = build(subject);
  const actual = Array.from((await generate(onSubject, prime, 12, { temperature: 0 })).data);
  onSubject.dispose();
  if (actual.join() !== tokens.join()) throw new Error(`generate: tokens [${actual}] but the reference generates [${tokens}]`);
}

export function seq2seqCases(): SuiteCase[] {
  return [
    ...softmaxFixtures.map((fx) => ({
      group: 'pytorch' as const,
      name: `softmax and logSoftmax ${fx.name}`,
      run: (b: Backend) => runSoftmaxFixture(b, fx),
    })),
    ...(['softmax', 'logSoftmax'] as const).flatMap((op) =>
      [-1, 1].map((axis) => ({
        group: 'finite-differences' as const,
        name: `${op} along axis ${axis} of [3, 4, 5]`,
        run: (s: Backend, r: Backend) => checkGradients(softmaxProblem(op, axis), s, r),
      })),
    ),
    {
      group: 'finite-differences',
      name: 'Seq2Seq teacher-forced cross-entropy: bidirectional LSTM encoder, LSTM decoder, every parameter',
      run: (s, r) => checkGradients(seq2seqProblem(r), s, r),
    },
    { group: 'cross-backend', name: 'softmax and logSoftmax with logits near ±1000: outputs and gradients', run: compareSoftmax },
    {
      group: 'cross-backend',
      name: 'Seq2Seq: logits and every gradient of the training pass, greedy and beam-search tokens and scores',
      run: compareSeq2Seq,
    },
    { group: 'cross-backend', name: 'generate at temperature 0 with a DelayRNN + GRU language model', run: compareGeneration },
  ];
}
