/**
 * The cell variants of issue #10 in the conformance suite: their PyTorch goldens
 * (variant-golden.ts), finite-difference gradients of every parameter, input and initial state,
 * and whole-model comparisons against the float64 JS reference. Composite cells run through
 * core's generic unrolled path on every backend, so these cases exercise each backend's GEMM,
 * element-wise, slicing and (for the projected LSTM) fused LSTM step kernels under them.
 */
import {
  add,
  type Backend,
  disposeAll,
  GRU,
  GRUCell,
  LSTM,
  LSTMCell,
  mul,
  noGrad,
  Random,
  type RecurrentLayer,
  RNN,
  RNNCell,
  sum,
  type Tensor,
  tensor,
  tidy,
  unstack,
} from '@recur/core';
import { expectClose } from './compare.js';
import { type CrossBackendOptions, data, tolerance } from './cross-backend.js';
import { checkGradients, exactRandom, type Problem, readGrads } from './finite-diff.js';
import type { SuiteCase } from './suite-types.js';
import { variantGoldenCases } from './variant-golden.js';

export const VARIANT_TYPES = [
  'rnn-sigmoid',
  'gru-reset-before',
  'lstm-proj',
  'lstm-learned-state',
  'lstm-proj-learned-state',
  'gru-reset-before-learned-state',
] as const;
export type VariantType = (typeof VARIANT_TYPES)[number];

export interface VariantShape {
  inputSize: number;
  hiddenSize: number;
  numLayers: number;
  bidirectional: boolean;
  residual?: boolean;
}

/** A layer of a variant; the projection is ⌈H/2⌉ wide. */
export function buildVariant(type: VariantType, shape: VariantShape, backend: Backend, seed: number): RecurrentLayer {
  const common = { ...shape, backend, seed };
  const projSize = Math.ceil(shape.hiddenSize / 2);
  switch (type) {
    case 'rnn-sigmoid':
      return new RNN({ ...common, nonlinearity: 'sigmoid' });
    case 'gru-reset-before':
      return new GRU({ ...common, resetAfter: false });
    case 'lstm-proj':
      return new LSTM({ ...common, projSize });
    case 'lstm-learned-state':
      return new LSTM({ ...common, learnInitialState: true });
    case 'lstm-proj-learned-state':
      return new LSTM({ ...common, projSize, learnInitialState: true });
    case 'gru-reset-before-learned-state':
      return new GRU({ ...common, resetAfter: false, learnInitialState: true });
  }
}

export const STEP_TYPES = ['RNNCell sigmoid', 'RNNCell relu', 'GRUCell', 'GRUCell resetAfter false', 'LSTMCell'] as const;
export type StepType = (typeof STEP_TYPES)[number];

type StepModule = RNNCell | GRUCell | LSTMCell;

export function buildStep(type: StepType, inputSize: number, hiddenSize: number, backend: Backend, seed: number): StepModule {
  const common = { inputSize, hiddenSize, backend, seed };
  switch (type) {
    case 'RNNCell sigmoid':
      return new RNNCell({ ...common, nonlinearity: 'sigmoid' });
    case 'RNNCell relu':
      return new RNNCell({ ...common, nonlinearity: 'relu' });
    case 'GRUCell':
      return new GRUCell(common);
    case 'GRUCell resetAfter false':
      return new GRUCell({ ...common, resetAfter: false });
    case 'LSTMCell':
      return new LSTMCell(common);
  }
}

/** Steps of a cell over `xs`, its state fed back; returns every step's state slots. */
function rollout(cell: StepModule, xs: Tensor[], h0?: Tensor, c0?: Tensor): Tensor[][] {
  const out: Tensor[][] = [];
  let state: Tensor[] | undefined = h0 && (c0 ? [h0, c0] : [h0]);
  for (const x of xs) {
    state = cell instanceof LSTMCell ? cell.forward(x, state && [state[0], state[1]]) : [cell.forward(x, state?.[0])];
    out.push(state);
  }
  return out;
}

export interface VariantLayerCase {
  type: VariantType;
  layers: 1 | 2;
  bidirectional: boolean;
  residual?: boolean;
  variableLengths?: boolean;
  unbatched?: boolean;
  /** Pass h0 (and c0): their gradients are checked too. Learned-state cases pass none. */
  givenStates: boolean;
}

/** Σ output·W_o + Σ hN·W_h (+ Σ cN·W_c) of a variant layer, wrt every parameter, input and state. */
function variantLayerProblem(c: VariantLayerCase, reference: Backend): Problem {
  const dims = { input: 3, hidden: 3, batch: c.unbatched ? 1 : 2, steps: 4 };
  const shape = {
    inputSize: dims.input,
    hiddenSize: dims.hidden,
    numLayers: c.layers,
    bidirectional: c.bidirectional,
    residual: c.residual,
  };
  const template = buildVariant(c.type, shape, reference, 5);
  const widths = template.stateWidths;
  const rows = c.layers * (c.bidirectional ? 2 : 1);
  const batchAxis = c.unbatched ? [] : [dims.batch];
  const inputShape = [dims.steps, ...batchAxis, dims.input];
  const stateShapes = widths.map((w) => [rows, ...batchAxis, w]);
  const outputShape = [dims.steps, ...batchAxis, template.outputSize];
  const size = (s: number[]) => s.reduce((a, b) => a * b, 1);
  const values: Record<string, Float64Array> = {};
  const generator = new Random(17);
  for (const [name, p] of template.namedParameters()) {
    values[name] = exactRandom(generator, p.size, /^[hc]0_l/.test(name) ? 0.5 : 1 / Math.sqrt(dims.hidden));
  }
  template.dispose();
  values.input = exactRandom(generator, size(inputShape));
  const stateNames = ['h0', 'c0'].slice(0, widths.length);
  if (c.givenStates) for (const [slot, name] of stateNames.entries()) values[name] = exactRandom(generator, size(stateShapes[slot]), 0.5);
  const weights = [outputShape, ...stateShapes].map((s) => exactRandom(generator, size(s)));
  const lengths = c.variableLengths ? [dims.steps, 2] : undefined;
  return {
    values,
    async loss(backend, v, withGrads) {
      const model = buildVariant(c.type, shape, backend, 5);
      for (const [name, p] of model.namedParameters()) p.copyFrom(v[name]);
      const run = () => {
        const x = tensor(v.input, inputShape, { backend, requiresGrad: withGrads });
        const states = c.givenStates
          ? stateNames.map((n, slot) => tensor(v[n], stateShapes[slot], { backend, requiresGrad: withGrads }))
          : [];
        const out = model.forward(x, { h0: states[0], c0: states[1], lengths });
        const terms = [out.output, ...out.state].map((t, i) => sum(mul(t, tensor(weights[i], t.shape, { backend }))));
        const loss = terms.reduce((a, b) => add(a, b));
        if (withGrads) loss.backward();
        return { loss, x, states };
      };
      const result = tidy(() => (withGrads ? run() : noGrad(run)));
      const loss = await result.loss.item();
      const inputs: [string, Tensor][] = [['input', result.x], ...result.states.map((s, i): [string, Tensor] => [stateNames[i], s])];
      const grads = withGrads ? await readGrads([...model.namedParameters(), ...inputs]) : {};
      disposeAll(result);
      model.dispose();
      return { loss, grads };
    },
  };
}

export interface StepCase {
  type: StepType;
  unbatched: boolean;
}

/** Σ_t h_t·W_t (+ Σ_t c_t·V_t) over a 3-step rollout of a single-step cell from given states. */
function stepProblem(c: StepCase, reference: Backend): Problem {
  const [I, H, B, S] = [3, 3, c.unbatched ? 1 : 2, 3];
  const lead = c.unbatched ? [] : [B];
  const template = buildStep(c.type, I, H, reference, 5);
  const generator = new Random(19);
  const values: Record<string, Float64Array> = {};
  for (const [name, p] of template.namedParameters()) values[name] = exactRandom(generator, p.size, 1 / Math.sqrt(H));
  const slots = template instanceof LSTMCell ? ['h0', 'c0'] : ['h0'];
  template.dispose();
  values.input = exactRandom(generator, S * B * I);
  for (const name of slots) values[name] = exactRandom(generator, B * H, 0.5);
  const weights = slots.map(() => exactRandom(generator, S * B * H));
  return {
    values,
    async loss(backend, v, withGrads) {
      const cell = buildStep(c.type, I, H, backend, 5);
      for (const [name, p] of cell.namedParameters()) p.copyFrom(v[name]);
      const run = () => {
        const x = tensor(v.input, [S, ...lead, I], { backend, requiresGrad: withGrads });
        const states = slots.map((n) => tensor(v[n], [...lead, H], { backend, requiresGrad: withGrads }));
        const steps = rollout(cell, unstack(x), states[0], states[1]);
        let loss: Tensor | undefined;
        for (const [t, state] of steps.entries()) {
          for (const [slot, s] of state.entries()) {
            const term = sum(mul(s, tensor(weights[slot].subarray(t * B * H, (t + 1) * B * H), s.shape, { backend })));
            loss = loss ? add(loss, term) : term;
          }
        }
        if (withGrads) (loss as Tensor).backward();
        return { loss: loss as Tensor, x, states };
      };
      const result = tidy(() => (withGrads ? run() : noGrad(run)));
      const loss = await result.loss.item();
      const inputs: [string, Tensor][] = [['input', result.x], ...result.states.map((s, i): [string, Tensor] => [slots[i], s])];
      const grads = withGrads ? await readGrads([...cell.namedParameters(), ...inputs]) : {};
      disposeAll(result);
      cell.dispose();
      return { loss, grads };
    },
  };
}

export const VARIANT_LAYER_CASES: VariantLayerCase[] = [
  ...(['rnn-sigmoid', 'gru-reset-before', 'lstm-proj'] as const).flatMap((type): VariantLayerCase[] => [
    { type, layers: 1, bidirectional: false, givenStates: true },
    { type, layers: 2, bidirectional: true, variableLengths: true, givenStates: true },
    { type, layers: 2, bidirectional: false, residual: true, givenStates: true },
  ]),
  { type: 'lstm-learned-state', layers: 2, bidirectional: true, variableLengths: true, givenStates: false },
  { type: 'lstm-proj-learned-state', layers: 2, bidirectional: false, givenStates: false },
  { type: 'gru-reset-before-learned-state', layers: 1, bidirectional: true, variableLengths: true, givenStates: false },
  { type: 'lstm-proj', layers: 2, bidirectional: true, unbatched: true, givenStates: true },
  { type: 'rnn-sigmoid', layers: 1, bidirectional: true, unbatched: true, givenStates: true },
];

export const STEP_CASES: StepCase[] = [
  ...STEP_TYPES.map((type) => ({ type, unbatched: false })),
  { type: 'LSTMCell', unbatched: true },
  { type: 'GRUCell resetAfter false', unbatched: true },
];

export function describeVariantCase(c: VariantLayerCase): string {
  const parts = [
    `${c.layers} layer${c.layers > 1 ? 's' : ''}`,
    c.residual ? 'residual' : '',
    c.bidirectional ? 'bidirectional' : 'unidirectional',
    c.variableLengths ? 'variable lengths' : '',
    c.unbatched ? 'unbatched' : '',
    c.givenStates ? 'given states' : 'learned states',
  ];
  return `variant ${c.type} ${parts.filter(Boolean).join(' ')}`;
}

/** Whole variant models at a larger size: output, final states and every gradient vs the reference. */
function variantModelCases(hidden: number): SuiteCase[] {
  const dims = { inputSize: 5, steps: 9, batch: 4 };
  const layerCases = VARIANT_TYPES.map((type) => ({
    group: 'cross-backend' as const,
    name: `model: variant ${type}, 2 layers, bidirectional, hidden ${hidden}, T ${dims.steps}, variable lengths`,
    run: async (subject: Backend, reference: Backend) => {
      const shape = { inputSize: dims.inputSize, hiddenSize: hidden, numLayers: 2, bidirectional: true };
      const run = async (backend: Backend) => {
        const model = buildVariant(type, shape, backend, 42);
        // Learned starts away from zero, so their effect (and gradient) is not trivial.
        for (const [name, p] of model.namedParameters()) if (/^[hc]0_l/.test(name)) p.copyFrom(data(60 + p.size, p.size, -0.5, 0.5));
        const result = tidy(() => {
          const x = tensor(data(50, dims.steps * dims.batch * dims.inputSize), [dims.steps, dims.batch, dims.inputSize], {
            backend,
            requiresGrad: true,
          });
          const out = model.forward(x, { lengths: [9, 3, 7, 1] });
          const w = tensor(data(51, out.output.size), out.output.shape, { backend });
          const loss = out.state.reduce((l, s) => add(l, sum(s)), sum(mul(out.output, w)));
          loss.backward();
          return { x, out };
        });
        const arrays = [...(await Promise.all([result.out.output, ...result.out.state, result.x.grad as Tensor].map((t) => t.toArray())))];
        for (const [, p] of model.namedParameters()) arrays.push(await (p.grad as Tensor).toArray());
        disposeAll(result);
        model.dispose();
        return arrays;
      };
      const actual = await run(subject);
      const expected = await run(reference);
      const tol = tolerance(subject, dims.steps * hidden * 2, `sums over ${hidden} units through ${dims.steps} steps and 2 layers`);
      for (const [i, e] of expected.entries())
        expectClose(`output ${i} (output, states, grad of input, grads of parameters)`, actual[i], e, tol);
    },
  }));
  const stepCase: SuiteCase = {
    group: 'cross-backend',
    name: `model: variant single-step cells (${STEP_TYPES.join(', ')}), 6 steps, batch 4, hidden ${hidden}`,
    run: async (subject, reference) => {
      for (const type of STEP_TYPES) {
        const run = async (backend: Backend) => {
          const cell = buildStep(type, dims.inputSize, hidden, backend, 43);
          const result = tidy(() => {
            const x = tensor(data(52, 6 * dims.batch * dims.inputSize), [6, dims.batch, dims.inputSize], { backend, requiresGrad: true });
            const steps = rollout(cell, unstack(x));
            const loss = steps.flat().reduce((l: Tensor | null, s, i) => {
              const term = sum(mul(s, tensor(data(53 + i, s.size), s.shape, { backend })));
              return l ? add(l, term) : term;
            }, null) as Tensor;
            loss.backward();
            return { x, last: steps[steps.length - 1] };
          });
          const arrays = await Promise.all([...result.last, result.x.grad as Tensor].map((t) => t.toArray()));
          for (const p of cell.parameters()) arrays.push(await (p.grad as Tensor).toArray());
          disposeAll(result);
          cell.dispose();
          return arrays;
        };
        const actual = await run(subject);
        const expected = await run(reference);
        const tol = tolerance(subject, 6 * hidden * 2, `sums over ${hidden} units through 6 steps`);
        for (const [i, e] of expected.entries())
          expectClose(`${type}: output ${i} (last state, grad of input, grads of parameters)`, actual[i], e, tol);
      }
    },
  };
  return [...layerCases, stepCase];
}

/** Every case of the cell variants: PyTorch goldens, finite differences, cross-backend models. */
export function variantCases(options: CrossBackendOptions = {}): SuiteCase[] {
  return [
    ...variantGoldenCases(),
    ...VARIANT_LAYER_CASES.map((c) => ({
      group: 'finite-differences' as const,
      name: describeVariantCase(c),
      run: (subject: Backend, reference: Backend) => checkGradients(variantLayerProblem(c, reference), subject, reference),
    })),
    ...STEP_CASES.map((c) => ({
      group: 'finite-differences' as const,
      name: `variant ${c.type} 3-step rollout${c.unbatched ? ' unbatched' : ''}`,
      run: (subject: Backend, reference: Backend) => checkGradients(stepProblem(c, reference), subject, reference),
    })),
    ...variantModelCases(options.modelHidden ?? 16),
  ];
}
