/**
 * DelayRNN in every group of the suite: PyTorch goldens (fixtures/delay.json, from the plain-torch
 * reference in fixtures/generate_delay.py), finite differences, and whole models against the
 * float64 JS reference. The cases of softmax, Seq2Seq and generation (seq2seq-cases.ts) come
 * with them.
 */
import { add, type Backend, DelayRNN, disposeAll, mul, Random, sum, type Tensor, tensor, tidy } from '@recur/core';
import delayFile from '../fixtures/delay.json' with { type: 'json' };
import { expectClose, referenceTolerance } from './compare.js';
import { data, tolerance } from './cross-backend.js';
import { checkGradients, exactRandom, type Problem, readGrads } from './finite-diff.js';
import type { FixtureTensor } from './fixtures.js';
import { expectFixture, seq2seqCases } from './seq2seq-cases.js';
import type { SuiteCase } from './suite-types.js';

/** One case of delay.json (rnn.json's layout, for the reference DelayRNN). */
export interface DelayFixture {
  name: string;
  snippet: string;
  module: 'DelayRNN';
  options: {
    inputSize: number;
    hiddenSize: number;
    numLayers: number;
    delays: number[];
    nonlinearity: 'tanh' | 'relu';
    bias: boolean;
    batchFirst: boolean;
    bidirectional: boolean;
  };
  input: FixtureTensor;
  lengths: number[] | null;
  h0: FixtureTensor | null;
  paramOrder: string[];
  params: Record<string, FixtureTensor>;
  lossWeights: { output: FixtureTensor; hN: FixtureTensor };
  expected: { output: FixtureTensor; hN: FixtureTensor; loss: number; grads: Record<string, FixtureTensor> };
}

export const delayFixtures = delayFile.cases as unknown as DelayFixture[];

const upload = (backend: Backend, t: FixtureTensor, requiresGrad = false) => tensor(t.data, t.shape, { backend, requiresGrad });

async function runDelayFixture(backend: Backend, fx: DelayFixture): Promise<void> {
  const model = new DelayRNN({ ...fx.options, backend, seed: 0 });
  const names = [...model.namedParameters()].map(([n]) => n);
  if (names.join() !== fx.paramOrder.join()) {
    throw new Error(`parameter names/order [${names.join(', ')}] differ from the reference's [${fx.paramOrder.join(', ')}]`);
  }
  await model.loadStateDict(fx.params);
  const x = upload(backend, fx.input, true);
  const h0 = fx.h0 ? upload(backend, fx.h0, true) : undefined;
  const out = model.forward(x, { h0, lengths: fx.lengths ?? undefined });
  const loss = add(sum(mul(out.output, upload(backend, fx.lossWeights.output))), sum(mul(out.hN, upload(backend, fx.lossWeights.hN))));
  loss.backward();
  await expectFixture('output', out.output, fx.expected.output, backend);
  await expectFixture('hN', out.hN, fx.expected.hN, backend);
  expectClose('loss', [await loss.item()], [fx.expected.loss], referenceTolerance(backend.dtype, 10));
  const inputs: Record<string, Tensor | undefined> = { input: x, h0 };
  for (const [name, expected] of Object.entries(fx.expected.grads)) {
    const owner = inputs[name] ?? [...model.namedParameters()].find(([n]) => n === name)?.[1];
    await expectFixture(`grad of ${name}`, owner?.grad, expected, backend);
  }
  disposeAll([x, h0, out, loss]);
  model.dispose();
}

export interface DelayCase {
  layers: 1 | 2;
  bidirectional: boolean;
  variableLengths: boolean;
  delays: number[];
}

const DIMS = { input: 3, hidden: 3, batch: 2, steps: 5 };

/** Loss Σ output·W_o + Σ hN·W_h + Σ state[1]·W_s of a DelayRNN given h0, as a `Problem`. */
function delayProblem(c: DelayCase, reference: Backend): Problem {
  const options = { inputSize: DIMS.input, hiddenSize: DIMS.hidden, numLayers: c.layers, bidirectional: c.bidirectional, delays: c.delays };
  const D = c.bidirectional ? 2 : 1;
  const lengths = c.variableLengths ? [DIMS.steps, 2] : undefined;
  const stateShape = [c.layers * D, DIMS.batch, DIMS.hidden];
  const outputShape = [DIMS.steps, DIMS.batch, D * DIMS.hidden];
  const random = new Random(13);
  const template = new DelayRNN({ ...options, backend: reference, seed: 5 });
  const historyShape = [...stateShape.slice(0, 2), (Math.max(...c.delays) - 1) * DIMS.hidden];
  const values: Record<string, Float64Array> = {};
  for (const [name, p] of template.namedParameters()) values[name] = exactRandom(random, p.size, 1 / Math.sqrt(DIMS.hidden));
  template.dispose();
  values.input = exactRandom(random, DIMS.steps * DIMS.batch * DIMS.input);
  values.h0 = exactRandom(
    random,
    stateShape.reduce((a, b) => a * b),
    0.5,
  );
  const size = (shape: number[]) => shape.reduce((a, b) => a * b);
  // The history's own weight makes the loss read state[1], so its gradient path is checked too.
  const weights = {
    output: exactRandom(random, size(outputShape)),
    hN: exactRandom(random, size(stateShape)),
    history: exactRandom(random, size(historyShape)),
  };
  return {
    values,
    async loss(backend, v, withGrads) {
      const model = new DelayRNN({ ...options, backend, seed: 5 });
      for (const [name, p] of model.namedParameters()) p.copyFrom(v[name]);
      const run = () => {
        const x = tensor(v.input, [DIMS.steps, DIMS.batch, DIMS.input], { backend, requiresGrad: withGrads });
        const h0 = tensor(v.h0, stateShape, { backend, requiresGrad: withGrads });
        const out = model.forward(x, { h0, lengths });
        const terms = [
          sum(mul(out.output, tensor(weights.output, outputShape, { backend }))),
          sum(mul(out.hN, tensor(weights.hN, stateShape, { backend }))),
          sum(mul(out.state[1], tensor(weights.history, historyShape, { backend }))),
        ];
        const loss = add(add(terms[0], terms[1]), terms[2]);
        if (withGrads) loss.backward();
        return { loss, x, h0 };
      };
      const result = tidy(run);
      const loss = await result.loss.item();
      const grads = withGrads ? await readGrads([...model.namedParameters(), ['input', result.x], ['h0', result.h0]]) : {};
      disposeAll(result);
      model.dispose();
      return { loss, grads };
    },
  };
}

export const DELAY_FD_CASES: DelayCase[] = [
  { layers: 1, bidirectional: false, variableLengths: false, delays: [1, 3] },
  { layers: 1, bidirectional: false, variableLengths: true, delays: [2, 4] },
  { layers: 2, bidirectional: true, variableLengths: true, delays: [1, 2, 4] },
];

export function describeDelayCase(c: DelayCase): string {
  return `DelayRNN delays [${c.delays}] ${c.layers} layer${c.layers > 1 ? 's' : ''} ${c.bidirectional ? 'bidirectional' : 'unidirectional'} ${c.variableLengths ? 'variable lengths' : 'equal lengths'}, h0 and history in the loss`;
}

/** A 2-layer bidirectional DelayRNN at `hidden` units over variable lengths: outputs, states and every gradient. */
async function compareDelayModel(subject: Backend, reference: Backend, hidden: number): Promise<void> {
  const [steps, batch, inputSize] = [9, 4, 5];
  const run = async (backend: Backend) => {
    const model = new DelayRNN({ inputSize, hiddenSize: hidden, numLayers: 2, bidirectional: true, delays: [1, 3, 5], backend, seed: 42 });
    const result = tidy(() => {
      const x = tensor(data(60, steps * batch * inputSize), [steps, batch, inputSize], { backend, requiresGrad: true });
      const out = model.forward(x, { lengths: [9, 3, 7, 1] });
      const w = tensor(data(61, out.output.size), out.output.shape, { backend });
      add(add(sum(mul(out.output, w)), sum(out.hN)), sum(out.state[1])).backward();
      return { x, out };
    });
    const arrays = [await result.out.output.toArray(), await result.out.hN.toArray(), await result.out.state[1].toArray()];
    arrays.push(await (result.x.grad as Tensor).toArray());
    for (const [, p] of model.namedParameters()) arrays.push(await (p.grad as Tensor).toArray());
    disposeAll(result);
    model.dispose();
    return arrays;
  };
  const actual = await run(subject);
  const expected = await run(reference);
  const tol = tolerance(subject, steps * hidden * 2, `sums over ${hidden} units through ${steps} steps, 3 delays and 2 layers`);
  const names = ['output', 'hN', 'history', 'grad of input', ...expected.slice(4).map((_, i) => `grad of parameter ${i}`)];
  for (const [i, e] of expected.entries()) expectClose(names[i], actual[i], e, tol);
}

/** Every DelayRNN case, then the softmax, Seq2Seq and generation cases. */
export function delayCases(options: { modelHidden?: number } = {}): SuiteCase[] {
  return [
    ...delayFixtures.map((fx) => ({ group: 'pytorch' as const, name: `DelayRNN ${fx.name}`, run: (b: Backend) => runDelayFixture(b, fx) })),
    ...DELAY_FD_CASES.map((c) => ({
      group: 'finite-differences' as const,
      name: describeDelayCase(c),
      run: (s: Backend, r: Backend) => checkGradients(delayProblem(c, r), s, r),
    })),
    {
      group: 'cross-backend',
      name: `model: DelayRNN delays [1, 3, 5], 2 layers, bidirectional, hidden ${options.modelHidden ?? 16}, T 9, variable lengths`,
      run: (s, r) => compareDelayModel(s, r, options.modelHidden ?? 16),
    },
    ...seq2seqCases(),
  ];
}
