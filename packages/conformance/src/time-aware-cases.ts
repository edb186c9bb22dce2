/**
 * The time-aware models (rnn-semantics.md, "Time-aware inputs") in all three groups: PyTorch
 * goldens from fixtures/generate_time_aware.py (a plain-torch GRU-D, and torch's GRU on
 * `[x, Δt]`), finite differences of GRU-D and of a layer over `withTimeDeltas`, and a larger
 * GRU-D against the float64 JS reference.
 */
import {
  add,
  type Backend,
  disposeAll,
  GRU,
  GRUD,
  LSTM,
  mul,
  noGrad,
  Random,
  slice,
  sum,
  type Tensor,
  tensor,
  tidy,
  timeSinceObserved,
  withTimeDeltas,
} from '@recur/core';
import fixtureFile from '../fixtures/time-aware.json' with { type: 'json' };
import { expectClose, referenceTolerance } from './compare.js';
import { data, tolerance } from './cross-backend.js';
import { checkGradients, exactRandom, type Problem, readGrads } from './finite-diff.js';
import type { FixtureTensor } from './fixtures.js';
import type { SuiteCase } from './suite-types.js';

interface GrudFixture {
  name: string;
  model: 'GRUD';
  options: { inputSize: number; hiddenSize: number };
  timestamps: FixtureTensor;
  input: FixtureTensor;
  mask: FixtureTensor;
  delta: FixtureTensor;
  lengths: number[] | null;
  h0: FixtureTensor | null;
  paramOrder: string[];
  params: Record<string, FixtureTensor>;
  lossWeights: { output: FixtureTensor; hN: FixtureTensor; xLast: FixtureTensor };
  expected: { output: FixtureTensor; hN: FixtureTensor; xLast: FixtureTensor; loss: number; grads: Record<string, FixtureTensor> };
}

interface GruDtFixture {
  name: string;
  model: 'GRU-dt';
  options: { inputSize: number; hiddenSize: number };
  timestamps: FixtureTensor;
  input: FixtureTensor;
  timeDeltas: FixtureTensor;
  paramOrder: string[];
  params: Record<string, FixtureTensor>;
  lossWeights: { output: FixtureTensor; hN: FixtureTensor };
  expected: { output: FixtureTensor; hN: FixtureTensor; loss: number; grads: Record<string, FixtureTensor> };
}

const cases = fixtureFile.cases as unknown as (GrudFixture | GruDtFixture)[];

const upload = (backend: Backend, t: FixtureTensor, requiresGrad = false) => tensor(t.data, t.shape, { backend, requiresGrad });

async function expectTensor(what: string, actual: Tensor | null | undefined, expected: FixtureTensor, backend: Backend): Promise<void> {
  if (!actual) throw new Error(`${what}: missing (expected shape [${expected.shape.join(', ')}])`);
  if (actual.shape.join() !== expected.shape.join()) {
    throw new Error(`${what}: shape [${actual.shape.join(', ')}] but the reference gives [${expected.shape.join(', ')}]`);
  }
  expectClose(what, await actual.toArray(), expected.data, referenceTolerance(backend.dtype));
}

/**
 * One GRU-D fixture, two ways: `tensors` passes x, mask and δ as tensors (every gradient
 * compared); `host NaN` passes x as host data with NaN wherever the mask is 0, so the mask is
 * derived from the NaNs and δ from the timestamps (outputs and parameter gradients compared:
 * a NaN reaching the arithmetic would poison them all).
 */
async function runGrudFixture(backend: Backend, fx: GrudFixture, variant: 'tensors' | 'host NaN'): Promise<void> {
  const delta = timeSinceObserved(fx.timestamps.data, { data: fx.mask.data, shape: fx.mask.shape });
  expectClose('timeSinceObserved', delta.data, fx.delta.data, referenceTolerance('float64'));
  const model = new GRUD({ ...fx.options, backend, seed: 0 });
  const names = [...model.namedParameters()].map(([n]) => n);
  if (names.join() !== fx.paramOrder.join())
    throw new Error(`parameter names/order [${names}] differ from the reference's [${fx.paramOrder}]`);
  await model.loadStateDict(fx.params);
  const h0 = fx.h0 ? upload(backend, fx.h0, true) : undefined;
  const lengths = fx.lengths ?? undefined;
  const inputs: Record<string, Tensor | undefined> = { h0 };
  let out: ReturnType<GRUD['forward']>;
  if (variant === 'tensors') {
    inputs.input = upload(backend, fx.input, true);
    inputs.delta = upload(backend, fx.delta, true);
    out = model.forward(inputs.input, { mask: upload(backend, fx.mask), delta: inputs.delta, h0, lengths });
  } else {
    const x = fx.input.data.map((v, i) => (fx.mask.data[i] === 1 ? v : Number.NaN));
    out = model.forward({ data: x, shape: fx.input.shape }, { timestamps: fx.timestamps.data, h0, lengths });
  }
  const w = fx.lossWeights;
  const loss = add(
    add(sum(mul(out.output, upload(backend, w.output))), sum(mul(out.hN, upload(backend, w.hN)))),
    sum(mul(out.xLast, upload(backend, w.xLast))),
  );
  loss.backward();
  await expectTensor('output', out.output, fx.expected.output, backend);
  await expectTensor('hN', out.hN, fx.expected.hN, backend);
  await expectTensor('xLast', out.xLast, fx.expected.xLast, backend);
  expectClose('loss', [await loss.item()], [fx.expected.loss], referenceTolerance(backend.dtype, 10));
  for (const [name, expected] of Object.entries(fx.expected.grads)) {
    // Host data has no gradient: the host variant compares the parameters' and h0's.
    if (variant === 'host NaN' && (name === 'input' || name === 'delta')) continue;
    const owner = name in inputs ? inputs[name] : [...model.namedParameters()].find(([n]) => n === name)?.[1];
    await expectTensor(`grad of ${name}`, owner?.grad, expected, backend);
  }
  disposeAll([inputs, out, loss]);
  model.dispose();
}

/** torch's GRU on `[x, Δt]`: `withTimeDeltas` then a `GRU`, every gradient back to `x`. */
async function runGruDtFixture(backend: Backend, fx: GruDtFixture): Promise<void> {
  const model = new GRU({ ...fx.options, backend, seed: 0 });
  await model.loadStateDict(fx.params);
  const x = upload(backend, fx.input, true);
  const augmented = withTimeDeltas(x, fx.timestamps.data);
  await expectTensor('Δt column', slice(augmented, 2, fx.options.inputSize - 1, 1), fx.timeDeltas, backend);
  const out = model.forward(augmented);
  const loss = add(sum(mul(out.output, upload(backend, fx.lossWeights.output))), sum(mul(out.hN, upload(backend, fx.lossWeights.hN))));
  loss.backward();
  await expectTensor('output', out.output, fx.expected.output, backend);
  await expectTensor('hN', out.hN, fx.expected.hN, backend);
  expectClose('loss', [await loss.item()], [fx.expected.loss], referenceTolerance(backend.dtype, 10));
  for (const [name, expected] of Object.entries(fx.expected.grads)) {
    const owner = name === 'input' ? x : [...model.namedParameters()].find(([n]) => n === name)?.[1];
    await expectTensor(`grad of ${name}`, owner?.grad, expected, backend);
  }
  disposeAll([x, augmented, out, loss]);
  model.dispose();
}

function goldenCases(): SuiteCase[] {
  const group = 'pytorch' as const;
  return cases.flatMap((fx): SuiteCase[] =>
    fx.model === 'GRUD'
      ? (['tensors', 'host NaN'] as const).map((variant) => ({
          group,
          name: `GRU-D ${fx.name} (${variant})`,
          run: (b: Backend) => runGrudFixture(b, fx, variant),
        }))
      : [{ group, name: `GRU-Δt ${fx.name}`, run: (b: Backend) => runGruDtFixture(b, fx) }],
  );
}

const DIMS = { input: 3, hidden: 3, batch: 3, steps: 4 };

/** Loss Σ output·W_o + Σ hN·W_h + Σ xLast·W_x of a GRU-D, over its parameters, x, δ and h0. */
function grudProblem(reference: Backend, lengths?: number[]): Problem {
  const { input: I, hidden: H, batch: B, steps: T } = DIMS;
  const random = new Random(31);
  const template = new GRUD({ inputSize: I, hiddenSize: H, backend: reference, seed: 3 });
  const values: Record<string, Float64Array> = {};
  for (const [name, p] of template.namedParameters()) values[name] = exactRandom(random, p.size, 1 / Math.sqrt(H));
  template.dispose();
  const xMean = exactRandom(random, I);
  values.input = exactRandom(random, T * B * I);
  // δ ≥ 0, as time since an observation is.
  values.delta = exactRandom(random, T * B * I).map((u) => Math.fround(1.5 + 1.5 * u));
  values.h0 = exactRandom(random, B * H, 0.5);
  const mask = Float64Array.from({ length: T * B * I }, () => (random.next() < 0.5 ? 1 : 0));
  const weights = { output: exactRandom(random, T * B * H), hN: exactRandom(random, B * H), xLast: exactRandom(random, B * I) };
  return {
    values,
    async loss(backend, v, withGrads) {
      const model = new GRUD({ inputSize: I, hiddenSize: H, xMean, backend, seed: 3 });
      for (const [name, p] of model.namedParameters()) p.copyFrom(v[name]);
      const run = () => {
        const x = tensor(v.input, [T, B, I], { backend, requiresGrad: withGrads });
        const delta = tensor(v.delta, [T, B, I], { backend, requiresGrad: withGrads });
        const h0 = tensor(v.h0, [1, B, H], { backend, requiresGrad: withGrads });
        const out = model.forward(x, { mask: tensor(mask, [T, B, I], { backend }), delta, h0, lengths });
        const loss = add(
          add(
            sum(mul(out.output, tensor(weights.output, [T, B, H], { backend }))),
            sum(mul(out.hN, tensor(weights.hN, [1, B, H], { backend }))),
          ),
          sum(mul(out.xLast, tensor(weights.xLast, [1, B, I], { backend }))),
        );
        if (withGrads) loss.backward();
        return { loss, x, delta, h0 };
      };
      const result = tidy(() => (withGrads ? run() : noGrad(run)));
      const loss = await result.loss.item();
      const named: [string, Tensor][] = [...model.namedParameters(), ['input', result.x], ['delta', result.delta], ['h0', result.h0]];
      const grads = withGrads ? await readGrads(named) : {};
      disposeAll(result);
      model.dispose();
      return { loss, grads };
    },
  };
}

/** An LSTM over `withTimeDeltas(x, timestamps)`: gradients reach x through the concatenation. */
function timeDeltasProblem(reference: Backend): Problem {
  const { input: F, hidden: H, batch: B, steps: T } = DIMS;
  const random = new Random(32);
  const template = new LSTM({ inputSize: F + 1, hiddenSize: H, backend: reference, seed: 4 });
  const values: Record<string, Float64Array> = {};
  for (const [name, p] of template.namedParameters()) values[name] = exactRandom(random, p.size, 1 / Math.sqrt(H));
  template.dispose();
  values.input = exactRandom(random, T * B * F);
  // [T, B] time-major: the sequences' own times are (0, .5, 2, 2.25), (0, 1, 1, 4), (1, 3, 3.5, 9).
  const timestamps = [0, 0, 1, 0.5, 1, 3, 2, 1, 3.5, 2.25, 4, 9];
  const weights = exactRandom(random, T * B * H);
  return {
    values,
    async loss(backend, v, withGrads) {
      const model = new LSTM({ inputSize: F + 1, hiddenSize: H, backend, seed: 4 });
      for (const [name, p] of model.namedParameters()) p.copyFrom(v[name]);
      const run = () => {
        const x = tensor(v.input, [T, B, F], { backend, requiresGrad: withGrads });
        const out = model.forward(withTimeDeltas(x, timestamps));
        const loss = sum(mul(out.output, tensor(weights, [T, B, H], { backend })));
        if (withGrads) loss.backward();
        return { loss, x };
      };
      const result = tidy(() => (withGrads ? run() : noGrad(run)));
      const loss = await result.loss.item();
      const grads = withGrads ? await readGrads([...model.namedParameters(), ['input', result.x]]) : {};
      disposeAll(result);
      model.dispose();
      return { loss, grads };
    },
  };
}

function finiteDifferenceCases(): SuiteCase[] {
  const group = 'finite-differences' as const;
  return [
    { group, name: 'GRU-D: parameters, x, δ, h0', run: (s, r) => checkGradients(grudProblem(r), s, r) },
    { group, name: 'GRU-D variable lengths: parameters, x, δ, h0', run: (s, r) => checkGradients(grudProblem(r, [4, 1, 3]), s, r) },
    { group, name: 'RNN_Δt: LSTM over withTimeDeltas, parameters and x', run: (s, r) => checkGradients(timeDeltasProblem(r), s, r) },
  ];
}

/** A larger GRU-D, inputs from host data and as tensors: outputs and every gradient vs the reference. */
function crossBackendCase(hidden: number): SuiteCase {
  const [I, T, B] = [5, 9, 4];
  return {
    group: 'cross-backend',
    name: `model: GRU-D, hidden ${hidden}, T ${T}, variable lengths, half the values missing`,
    run: async (subject, reference) => {
      const random = new Random(33);
      const mask = Float64Array.from({ length: T * B * I }, () => (random.next() < 0.5 ? 1 : 0));
      const timestamps = Float64Array.from({ length: T * B }, (_, i) => Math.floor(i / B) * (1 + (i % B)));
      const run = async (backend: Backend) => {
        const model = new GRUD({ inputSize: I, hiddenSize: hidden, xMean: data(40, I), backend, seed: 42 });
        const result = tidy(() => {
          const x = tensor(data(41, T * B * I), [T, B, I], { backend, requiresGrad: true });
          const delta = timeSinceObserved(timestamps, { data: mask, shape: [T, B, I] });
          const d = tensor(delta.data, [T, B, I], { backend, requiresGrad: true });
          const out = model.forward(x, { mask: tensor(mask, [T, B, I], { backend }), delta: d, lengths: [9, 3, 7, 1] });
          const w = tensor(data(42, out.output.size), out.output.shape, { backend });
          const loss = add(add(sum(mul(out.output, w)), sum(out.hN)), sum(out.xLast));
          loss.backward();
          return { x, d, out };
        });
        const arrays = [result.out.output, result.out.hN, result.out.xLast, result.x.grad, result.d.grad];
        for (const [, p] of model.namedParameters()) arrays.push(p.grad);
        const host = await Promise.all(arrays.map((t) => (t as Tensor).toArray()));
        disposeAll(result);
        model.dispose();
        return host;
      };
      const actual = await run(subject);
      const expected = await run(reference);
      const tol = tolerance(subject, T * hidden * 2, `sums over ${hidden} units through ${T} steps`);
      const names = ['output', 'hN', 'xLast', 'grad of x', 'grad of δ', ...expected.slice(5).map((_, i) => `grad of parameter ${i}`)];
      for (const [i, e] of expected.entries()) expectClose(names[i], actual[i], e, tol);
    },
  };
}

/** Every time-aware case (GRU-D, RNN_Δt), in the suite's groups. */
export function timeAwareCases(options: { modelHidden?: number } = {}): SuiteCase[] {
  return [...goldenCases(), ...finiteDifferenceCases(), crossBackendCase(options.modelHidden ?? 16)];
}
