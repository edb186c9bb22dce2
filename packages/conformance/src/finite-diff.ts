import {
  add,
  type Backend,
  clipGradNorm,
  crossEntropy,
  disposeAll,
  Embedding,
  Linear,
  LSTM,
  mse,
  mul,
  noGrad,
  Parameter,
  Random,
  type RecurrentLayer,
  SGD,
  sum,
  type Tensor,
  tensor,
  tidy,
} from '@recur/core';
import { buildModel, CELL_TYPES, type CellType } from './models.js';
import type { SuiteCase } from './suite-types.js';

/** Central-difference step for the float64 reference: truncation ~ε², round-off ~1e-16/ε. */
const EPS = 1e-5;

interface FdTolerance {
  atol: number;
  rtol: number;
  reason: string;
}

function fdTolerance(dtype: 'float32' | 'float64'): FdTolerance {
  return dtype === 'float64'
    ? { atol: 1e-8, rtol: 1e-6, reason: 'float64 analytic gradient vs float64 central difference (ε = 1e-5)' }
    : { atol: 2e-4, rtol: 2e-3, reason: 'float32 analytic gradient vs float64 central difference' };
}

/** Values that float32 represents exactly, so both backends start from identical numbers. */
export function exactRandom(random: Random, n: number, scale = 1): Float64Array {
  return Float64Array.from({ length: n }, () => Math.fround(scale * random.uniform(-1, 1)));
}

/**
 * A differentiable scalar function of named host arrays, evaluable on any backend: the
 * analytic gradient comes from the backend under test, the numeric one from the reference.
 */
export interface Problem {
  /** Initial values of each named input (parameters and data alike). */
  values: Record<string, Float64Array>;
  /** Builds the loss on `backend` from `values`; `grads` receives each input's gradient. */
  loss(
    backend: Backend,
    values: Record<string, Float64Array>,
    withGrads: boolean,
  ): Promise<{ loss: number; grads: Record<string, ArrayLike<number>> }>;
}

/**
 * Checks the analytic gradient of every input along two random ±1 directions against the
 * central difference of the reference (Rademacher directions touch every element at once).
 */
export async function checkGradients(problem: Problem, subject: Backend, reference: Backend): Promise<void> {
  const tol = fdTolerance(subject.dtype);
  const { grads } = await problem.loss(subject, problem.values, true);
  const random = new Random(7);
  const failures: string[] = [];
  for (const [name, value] of Object.entries(problem.values)) {
    const g = grads[name];
    if (!g) throw new Error(`no gradient was computed for '${name}'`);
    for (let trial = 0; trial < 2; trial++) {
      const direction = Float64Array.from(value, () => (random.next() < 0.5 ? -1 : 1));
      const shifted = (sign: number) => ({ ...problem.values, [name]: value.map((v, i) => v + sign * EPS * direction[i]) });
      const plus = (await problem.loss(reference, shifted(1), false)).loss;
      const minus = (await problem.loss(reference, shifted(-1), false)).loss;
      const numeric = (plus - minus) / (2 * EPS);
      let analytic = 0;
      for (let i = 0; i < value.length; i++) analytic += g[i] * direction[i];
      const allowed = tol.atol + tol.rtol * Math.max(Math.abs(numeric), Math.abs(analytic));
      if (!(Math.abs(numeric - analytic) <= allowed)) {
        failures.push(`'${name}' direction ${trial}: analytic ${analytic} vs finite difference ${numeric}`);
      }
    }
  }
  if (failures.length > 0)
    throw new Error(`gradient check failed (${tol.reason}; atol ${tol.atol}, rtol ${tol.rtol}):\n  ${failures.join('\n  ')}`);
}

export async function readGrads(entries: [string, Tensor | Parameter][]): Promise<Record<string, ArrayLike<number>>> {
  const out: Record<string, ArrayLike<number>> = {};
  for (const [name, t] of entries) if (t.grad) out[name] = await t.grad.toArray();
  return out;
}

export interface RecurrentCase {
  type: CellType;
  layers: 1 | 2;
  residual: boolean;
  bidirectional: boolean;
  variableLengths: boolean;
}

/** Loss Σ output·W_o + Σ hN·W_h (+ Σ cN·W_c) of a recurrent layer, as a `Problem`. */
function recurrentProblem(c: RecurrentCase, reference: Backend, dims = { input: 3, hidden: 3, batch: 2, steps: 4 }): Problem {
  const shape = {
    inputSize: dims.input,
    hiddenSize: dims.hidden,
    numLayers: c.layers,
    bidirectional: c.bidirectional,
    residual: c.residual,
  };
  const random = new Random(11);
  const D = c.bidirectional ? 2 : 1;
  const lengths = c.variableLengths
    ? Array.from({ length: dims.batch }, (_, b) => (b === 0 ? dims.steps : Math.max(1, dims.steps - 1 - b)))
    : undefined;
  const stateShape = [c.layers * D, dims.batch, dims.hidden];
  const outputShape = [dims.steps, dims.batch, D * dims.hidden];
  const stateSize = dims.batch * dims.hidden * c.layers * D;
  // Parameters drawn like PyTorch's init (U(−1/√H, 1/√H), time constants in [1.5, 3.5]).
  const template = buildModel(c.type, shape, reference, 5);
  const values: Record<string, Float64Array> = {};
  for (const [name, p] of template.namedParameters()) {
    values[name] = name.startsWith('tau')
      ? exactRandom(random, p.size).map((u) => Math.fround(2.5 + u))
      : exactRandom(random, p.size, 1 / Math.sqrt(dims.hidden));
  }
  template.dispose();
  values.input = exactRandom(random, dims.steps * dims.batch * dims.input);
  values.h0 = exactRandom(random, stateSize, 0.5);
  const twoStates = c.type === 'lstm';
  if (twoStates) values.c0 = exactRandom(random, stateSize, 0.5);
  const weights = {
    output: exactRandom(
      random,
      outputShape.reduce((a, b) => a * b),
    ),
    hN: exactRandom(random, stateSize),
    cN: exactRandom(random, stateSize),
  };
  return {
    values,
    async loss(backend, v, withGrads) {
      const model: RecurrentLayer = buildModel(c.type, shape, backend, 5);
      for (const [name, p] of model.namedParameters()) p.copyFrom(v[name]);
      const run = () => {
        const x = tensor(v.input, [dims.steps, dims.batch, dims.input], { backend, requiresGrad: withGrads });
        const h0 = tensor(v.h0, stateShape, { backend, requiresGrad: withGrads });
        const c0 = twoStates ? tensor(v.c0, stateShape, { backend, requiresGrad: withGrads }) : undefined;
        const out = model.forward(x, { h0, c0, lengths });
        let loss = add(
          sum(mul(out.output, tensor(weights.output, outputShape, { backend }))),
          sum(mul(out.hN, tensor(weights.hN, stateShape, { backend }))),
        );
        if (out.cN) loss = add(loss, sum(mul(out.cN, tensor(weights.cN, stateShape, { backend }))));
        if (withGrads) loss.backward();
        return { loss, x, h0, c0 };
      };
      const result = tidy(() => (withGrads ? run() : noGrad(run)));
      const loss = await result.loss.item();
      const inputs: [string, Tensor][] = [
        ['input', result.x],
        ['h0', result.h0],
      ];
      if (result.c0) inputs.push(['c0', result.c0]);
      const grads = withGrads ? await readGrads([...model.namedParameters(), ...inputs]) : {};
      disposeAll(result);
      model.dispose();
      return { loss, grads };
    },
  };
}

export function recurrentCases(): RecurrentCase[] {
  const cases: RecurrentCase[] = [];
  for (const type of CELL_TYPES) {
    for (const [layers, residual] of [
      [1, false],
      [2, false],
      [2, true],
    ] as const) {
      for (const bidirectional of [false, true]) {
        for (const variableLengths of [false, true]) cases.push({ type, layers, residual, bidirectional, variableLengths });
      }
    }
  }
  return cases;
}

export function describeRecurrentCase(c: RecurrentCase): string {
  return `${c.type} ${c.layers} layer${c.layers > 1 ? 's' : ''}${c.residual ? ' residual' : ''} ${c.bidirectional ? 'bidirectional' : 'unidirectional'} ${c.variableLengths ? 'variable lengths' : 'equal lengths'}`;
}

/** Embedding → LSTM → Linear → cross-entropy with ignored targets: a char-LM training graph. */
function languageModelProblem(reference: Backend): Problem {
  const vocab = 5;
  const dims = { embedding: 3, hidden: 4, steps: 4, batch: 2 };
  const ids = [0, 3, 1, 4, 2, 2, 1, 0];
  const targets = [3, 1, -100, 2, 2, 1, 0, 4];
  const build = (backend: Backend) => {
    const embedding = new Embedding({ numEmbeddings: vocab, embeddingDim: dims.embedding, backend, seed: 1 });
    const lstm = new LSTM({ inputSize: dims.embedding, hiddenSize: dims.hidden, backend, seed: 2 });
    const head = new Linear({ inFeatures: dims.hidden, outFeatures: vocab, backend, seed: 3 });
    const named: [string, Parameter][] = [
      ...[...embedding.namedParameters()].map(([n, p]) => [`embedding.${n}`, p] as [string, Parameter]),
      ...[...lstm.namedParameters()].map(([n, p]) => [`lstm.${n}`, p] as [string, Parameter]),
      ...[...head.namedParameters()].map(([n, p]) => [`head.${n}`, p] as [string, Parameter]),
    ];
    return { embedding, lstm, head, named };
  };
  const random = new Random(3);
  const template = build(reference);
  const values: Record<string, Float64Array> = {};
  for (const [name, p] of template.named) values[name] = exactRandom(random, p.size, 0.5);
  for (const m of [template.embedding, template.lstm, template.head]) m.dispose();
  return {
    values,
    async loss(backend, v, withGrads) {
      const { embedding, lstm, head, named } = build(backend);
      for (const [name, p] of named) p.copyFrom(v[name]);
      const loss = tidy(() => {
        const run = () => {
          const x = embedding.forward(ids, [dims.steps, dims.batch]);
          const logits = head.forward(lstm.forward(x).output);
          const l = crossEntropy(logits, targets, { ignoreIndex: -100 });
          if (withGrads) l.backward();
          return l;
        };
        return withGrads ? run() : noGrad(run);
      });
      const value = await loss.item();
      const grads = withGrads ? await readGrads(named) : {};
      loss.dispose();
      for (const m of [embedding, lstm, head]) m.dispose();
      return { loss: value, grads };
    },
  };
}

/** A loss applied directly to an input tensor. */
function lossProblem(kind: 'crossEntropy' | 'mse'): Problem {
  const random = new Random(kind === 'mse' ? 21 : 22);
  const shape = [4, 5];
  const values = { input: exactRandom(random, 20, 3) };
  const target = exactRandom(random, 20);
  const classes = [4, 0, 2, 1];
  return {
    values,
    async loss(backend, v, withGrads) {
      const x = tensor(v.input, shape, { backend, requiresGrad: withGrads });
      const loss = tidy(() => {
        const l = kind === 'mse' ? mse(x, tensor(target, shape, { backend })) : crossEntropy(x, classes, { mask: [1, 0, 1, 1] });
        if (withGrads) l.backward();
        return l;
      });
      const result = { loss: await loss.item(), grads: withGrads ? await readGrads([['input', x]]) : {} };
      disposeAll([x, loss]);
      return result;
    },
  };
}

/** Central differences of every coordinate (for small problems). */
async function numericGradient(problem: Problem, reference: Backend): Promise<Record<string, Float64Array>> {
  const out: Record<string, Float64Array> = {};
  for (const [name, value] of Object.entries(problem.values)) {
    out[name] = new Float64Array(value.length);
    for (let i = 0; i < value.length; i++) {
      const at = async (delta: number) => {
        const shifted = Float64Array.from(value);
        shifted[i] += delta;
        return (await problem.loss(reference, { ...problem.values, [name]: shifted }, false)).loss;
      };
      out[name][i] = ((await at(EPS)) - (await at(-EPS))) / (2 * EPS);
    }
  }
  return out;
}

/** clipGradNorm on a backend's gradients equals coef × the finite-difference gradient. */
async function checkClipping(subject: Backend, reference: Backend): Promise<void> {
  const tol = fdTolerance(subject.dtype);
  const problem = recurrentProblem({ type: 'gru', layers: 1, residual: false, bidirectional: false, variableLengths: false }, reference, {
    input: 2,
    hidden: 2,
    batch: 2,
    steps: 3,
  });
  const numeric = await numericGradient(problem, reference);
  const numericTotal = Math.sqrt(Object.values(numeric).reduce((s, g) => s + g.reduce((a, x) => a + x * x, 0), 0));
  const maxNorm = numericTotal / 3;
  const { grads } = await problem.loss(subject, problem.values, true);
  const params = Object.entries(grads).map(([name, g]) => {
    const shape = [g.length];
    const p = new Parameter(subject, problem.values[name], shape);
    p.grad = tensor(g, shape, { backend: subject });
    return [name, p] as const;
  });
  const total = await clipGradNorm(
    params.map(([, p]) => p),
    maxNorm,
  );
  if (Math.abs(total - numericTotal) > tol.atol + tol.rtol * numericTotal)
    throw new Error(`clipGradNorm total ${total} vs finite-difference norm ${numericTotal}`);
  const coef = maxNorm / (numericTotal + 1e-6);
  for (const [name, p] of params) {
    const clipped = await (p.grad as Tensor).toArray();
    clipped.forEach((g, i) => {
      const expected = coef * numeric[name][i];
      if (Math.abs(g - expected) > tol.atol + tol.rtol * Math.abs(expected))
        throw new Error(`clipped grad of '${name}'[${i}] ${g} vs coef × finite difference ${expected}`);
    });
  }
  disposeAll(params.map(([, p]) => p));
}

/** One optimizer step lowers the reference loss by ⟨g, Δθ⟩ to first order. */
async function checkDescentStep(subject: Backend, reference: Backend): Promise<void> {
  const problem = lossProblem('mse');
  const lr = 1e-4;
  const x = new Parameter(subject, problem.values.input, [20]);
  const { grads } = await problem.loss(subject, problem.values, true);
  x.grad = tensor(grads.input, [20], { backend: subject });
  const sgd = new SGD([x], { lr });
  sgd.step();
  const moved = Float64Array.from(await x.toArray());
  const before = (await problem.loss(reference, problem.values, false)).loss;
  const after = (await problem.loss(reference, { input: moved }, false)).loss;
  let predicted = 0;
  moved.forEach((m, i) => {
    predicted += grads.input[i] * (m - problem.values.input[i]);
  });
  if (!(predicted < 0) || Math.abs(after - before - predicted) > 0.01 * Math.abs(predicted)) {
    throw new Error(`SGD step changed the loss by ${after - before}; first-order prediction ${predicted}`);
  }
  sgd.dispose();
  disposeAll([x]);
}

/** Every finite-difference case, as suite cases. */
export function finiteDifferenceCases(): SuiteCase[] {
  const group = 'finite-differences' as const;
  return [
    ...recurrentCases().map((c) => ({
      group,
      name: describeRecurrentCase(c),
      run: (subject: Backend, reference: Backend) => checkGradients(recurrentProblem(c, reference), subject, reference),
    })),
    {
      group,
      name: 'char-LM graph: embedding, LSTM, linear, cross-entropy with ignored targets',
      run: (s, r) => checkGradients(languageModelProblem(r), s, r),
    },
    { group, name: 'loss: cross-entropy with a mask', run: (s, r) => checkGradients(lossProblem('crossEntropy'), s, r) },
    { group, name: 'loss: mse', run: (s, r) => checkGradients(lossProblem('mse'), s, r) },
    { group, name: 'clipGradNorm scales the finite-difference gradient by min(1, maxNorm/total)', run: checkClipping },
    { group, name: 'SGD step lowers the loss by ⟨g, Δθ⟩ to first order', run: checkDescentStep },
  ];
}
