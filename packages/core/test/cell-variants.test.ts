/**
 * The cell variants of the notes (sigmoid Elman, reset-before GRU, LSTM with a projection) and
 * the LSTM forget-gate bias: outputs and final states against plain-JS references written from
 * the equations (test/variant-reference.ts), parameter names, shapes and init, gradients against
 * finite differences, and the typed errors.
 */
import {
  type Backend,
  GRU,
  LeakyRNN,
  LSTM,
  OptionsError,
  ProjectedLSTMCell,
  type RecurrentLayer,
  RNN,
  ShapeError,
  type Tensor,
  tensor,
  ValueRangeError,
} from '@recur/core';
import { describe, expect, it } from 'vitest';
import { expectClose, expectError, f64, paramGradCheck, randomArray, values, withoutFusedSequence } from './helpers.js';
import {
  flatState,
  nest,
  projectedLstm,
  resetBeforeGru,
  runStack,
  type Step,
  sigma,
  sigmoidElman,
  type Weights,
  weightsOf,
} from './variant-reference.js';

const I = 3;
const T = 4;
const B = 3;

interface Variant {
  name: string;
  build(backend: Backend, shape: { numLayers: number; bidirectional: boolean; bias?: boolean }): RecurrentLayer;
  step: Step;
  /** State widths: h, then c for the LSTM. */
  widths: number[];
}

const H = 4;
const P = 2;
const variants: Variant[] = [
  {
    name: 'RNN sigmoid',
    build: (backend, s) => new RNN({ inputSize: I, hiddenSize: H, nonlinearity: 'sigmoid', backend, seed: 7, ...s }),
    step: sigmoidElman(H),
    widths: [H],
  },
  {
    name: 'GRU resetAfter: false',
    build: (backend, s) => new GRU({ inputSize: I, hiddenSize: H, resetAfter: false, backend, seed: 7, ...s }),
    step: resetBeforeGru(H),
    widths: [H],
  },
  {
    name: 'LSTM projSize 2',
    build: (backend, s) => new LSTM({ inputSize: I, hiddenSize: H, projSize: P, backend, seed: 7, ...s }),
    step: projectedLstm(H, P),
    widths: [P, H],
  },
];

async function allWeights(model: RecurrentLayer): Promise<Weights[][]> {
  const out: Weights[][] = [];
  for (let layer = 0; layer < model.numLayers; layer++) {
    const row: Weights[] = [];
    for (let d = 0; d < model.directions; d++) row.push(await weightsOf(model, `_l${layer}${d === 1 ? '_reverse' : ''}`));
    out.push(row);
  }
  return out;
}

describe('cell variants against their equations', () => {
  for (const v of variants) {
    for (const [numLayers, bidirectional, lengths, bias] of [
      [1, false, undefined, true],
      [1, false, undefined, false],
      [2, true, [4, 1, 3], true],
    ] as const) {
      const title = `${v.name}: ${numLayers} layer(s)${bidirectional ? ', bidirectional' : ''}${lengths ? ', variable lengths' : ''}, bias ${bias}`;
      it(`${title}, from given states`, async () => {
        // Both paths: the fused-sequence fast path must not catch these composite cells.
        for (const backend of [f64(), withoutFusedSequence(f64())]) {
          const model = v.build(backend, { numLayers, bidirectional, bias });
          const D = bidirectional ? 2 : 1;
          const xs = randomArray(1, T * B * I, -1.5, 1.5);
          const starts = v.widths.map((w, slot) => randomArray(10 + slot, numLayers * D * B * w, -0.9, 0.9));
          const given = starts.map((s, slot) => tensor(s, [numLayers * D, B, v.widths[slot]], { backend }));
          const out = model.forward(tensor(xs, [T, B, I], { backend }), { h0: given[0], c0: given[1], lengths: lengths && [...lengths] });
          const start = (layer: number, d: number, b: number) =>
            v.widths.map((w, slot) => starts[slot].slice(((layer * D + d) * B + b) * w, ((layer * D + d) * B + b + 1) * w));
          const ref = runStack(nest(xs, T, B, I), await allWeights(model), v.step, start, lengths && [...lengths]);
          expect(out.output.shape).toEqual([T, B, D * v.widths[0]]);
          expectClose(await values(out.output), ref.output.flat(2), 1e-12, 1e-14, 'output');
          expect(out.state.map((s) => s.shape)).toEqual(v.widths.map((w) => [numLayers * D, B, w]));
          for (const [slot, s] of out.state.entries())
            expectClose(await values(s), flatState(ref.finals, slot), 1e-12, 1e-14, `state ${slot}`);
        }
      });
    }

    it(`${v.name}: gradients of every parameter match finite differences (2 layers, bidirectional, lengths)`, async () => {
      const backend = f64();
      const model = v.build(backend, { numLayers: 2, bidirectional: true });
      const x = tensor(randomArray(21, T * 2 * I), [T, 2, I], { backend, requiresGrad: true });
      const states = v.widths.map((w, slot) => tensor(randomArray(22 + slot, 4 * 2 * w, -0.5, 0.5), [4, 2, w], { backend }));
      const r = randomArray(30, T * 2 * 2 * v.widths[0]);
      const loss = () => {
        const out = model.forward(x, { h0: states[0], c0: states[1], lengths: [4, 2] });
        return out.output
          .mul(tensor(r, out.output.shape, { backend }))
          .sum()
          .add(out.hN.square().sum());
      };
      await paramGradCheck(model.parameters(), loss, { tol: 1e-6 });
    });
  }

  it('the variants keep PyTorch’s names, order and draws: the same seed gives the default cell’s values', async () => {
    const backend = f64();
    const pairs: [RecurrentLayer, RecurrentLayer][] = [
      [
        new RNN({ inputSize: I, hiddenSize: H, nonlinearity: 'sigmoid', seed: 3, backend }),
        new RNN({ inputSize: I, hiddenSize: H, seed: 3, backend }),
      ],
      [
        new GRU({ inputSize: I, hiddenSize: H, resetAfter: false, numLayers: 2, seed: 3, backend }),
        new GRU({ inputSize: I, hiddenSize: H, numLayers: 2, seed: 3, backend }),
      ],
    ];
    for (const [variant, plain] of pairs) {
      const a = [...variant.namedParameters()];
      const b = [...plain.namedParameters()];
      expect(a.map(([n, p]) => [n, p.shape])).toEqual(b.map(([n, p]) => [n, p.shape]));
      for (let i = 0; i < a.length; i++) expect(await values(a[i][1])).toEqual(await values(b[i][1]));
    }
  });

  it('the reset-before GRU differs from the reset-after GRU on the same parameters (the variant is real)', async () => {
    const backend = f64();
    const before = new GRU({ inputSize: I, hiddenSize: H, resetAfter: false, seed: 3, backend });
    const after = new GRU({ inputSize: I, hiddenSize: H, seed: 3, backend });
    const x = tensor(randomArray(4, T * B * I, -2, 2), [T, B, I], { backend });
    const h0 = tensor(randomArray(5, B * H), [1, B, H], { backend });
    const a = await values(before.forward(x, { h0 }).output);
    const b = await values(after.forward(x, { h0 }).output);
    expect(Math.max(...a.map((v, i) => Math.abs(v - b[i])))).toBeGreaterThan(1e-3);
  });

  it('LSTM projSize: PyTorch’s parameter names, order and shapes, U(−1/√H, 1/√H) for weight_hr too', async () => {
    const backend = f64();
    const model = new LSTM({ inputSize: I, hiddenSize: 5, projSize: 2, numLayers: 2, bidirectional: true, backend, seed: 1 });
    const shapes = [...model.namedParameters()].map(([n, p]) => `${n} [${p.shape}]`);
    const perDirection = (k: number, inputs: number, suffix: string) => [
      `weight_ih_l${k}${suffix} [20,${inputs}]`,
      `weight_hh_l${k}${suffix} [20,2]`,
      `bias_ih_l${k}${suffix} [20]`,
      `bias_hh_l${k}${suffix} [20]`,
      `weight_hr_l${k}${suffix} [2,5]`,
    ];
    expect(shapes).toEqual([
      ...perDirection(0, 3, ''),
      ...perDirection(0, 3, '_reverse'),
      ...perDirection(1, 4, ''),
      ...perDirection(1, 4, '_reverse'),
    ]);
    const bound = 1 / Math.sqrt(5);
    const hr = await values(model.stateDict().weight_hr_l1_reverse);
    expect(hr.every((w) => Math.abs(w) <= bound)).toBe(true);
    const out = model.forward(tensor(randomArray(2, 3 * 2 * I), [3, 2, I], { backend }));
    expect([out.output.shape, out.hN.shape, out.cN?.shape]).toEqual([
      [3, 2, 4],
      [4, 2, 2],
      [4, 2, 5],
    ]);
    expect(model.stateWidths).toEqual([2, 5]);
    expect(model.outputSize).toBe(4);
  });

  it('LSTM projSize: typed errors for a projection not narrower than H, and for wrong state widths', () => {
    const backend = f64();
    expectError(
      () => new LSTM({ inputSize: 2, hiddenSize: 4, projSize: 4, backend }),
      ValueRangeError,
      "LSTM: option 'projSize'",
      'smaller than hiddenSize (4)',
      'received 4',
    );
    expectError(() => new LSTM({ inputSize: 2, hiddenSize: 4, projSize: -1, backend }), ValueRangeError, "LSTM: option 'projSize'");
    expectError(() => new LSTM({ inputSize: 2, hiddenSize: 4, projSize: '2' as never, backend }), OptionsError, "LSTM: option 'projSize'");
    expectError(
      () => new ProjectedLSTMCell({ inputSize: 2, hiddenSize: 3, projSize: 5, backend }),
      ValueRangeError,
      "ProjectedLSTMCell: option 'projSize'",
    );
    const model = new LSTM({ inputSize: 2, hiddenSize: 4, projSize: 3, backend });
    const x = tensor(new Float64Array(2 * 1 * 2), [2, 1, 2], { backend });
    expectError(() => model.forward(x, { h0: tensor(new Float64Array(4), [1, 1, 4], { backend }) }), ShapeError, 'h0 must be [1, 1, 3]');
    expectError(() => model.forward(x, { c0: tensor(new Float64Array(3), [1, 1, 3], { backend }) }), ShapeError, 'c0 must be [1, 1, 4]');
  });

  it('RNN nonlinearity: sigmoid is accepted, other names get a typed error listing all three', () => {
    const backend = f64();
    expectError(
      () => new RNN({ inputSize: 2, hiddenSize: 2, nonlinearity: 'softsign' as never, backend }),
      OptionsError,
      "'tanh', 'relu', 'sigmoid'",
    );
    expectError(
      () => new GRU({ inputSize: 2, hiddenSize: 2, resetAfter: 'no' as never, backend }),
      OptionsError,
      "GRU: option 'resetAfter'",
    );
  });

  it('LeakyRNN with sigmoid: h′ = (1 − 1/τ)·h + (1/τ)·σ(W_ih x + b_ih + W_hh h + b_hh), by hand', async () => {
    const backend = f64();
    const tau = [1, 3];
    const leaky = new LeakyRNN({ inputSize: 2, hiddenSize: 2, tau, nonlinearity: 'sigmoid', backend, seed: 3 });
    const p = await weightsOf(leaky, '_l0');
    const xs = randomArray(9, 3 * 2);
    const { output } = leaky.forward(tensor(xs, [3, 1, 2], { backend }));
    let h = [0, 0];
    const expected: number[] = [];
    for (let t = 0; t < 3; t++) {
      const [candidate] = sigmoidElman(2)(p, xs.slice(2 * t, 2 * t + 2), [h]);
      h = h.map((v, j) => v + (candidate[j] - v) / tau[j]);
      expected.push(...h);
    }
    expectClose(await values(output), expected, 1e-13, 1e-15);
  });
});

describe('forgetBias', () => {
  const H2 = 3;
  for (const projSize of [0, 2]) {
    it(`sets the f block of bias_ih to b and of bias_hh to 0, leaving every other draw as without it (projSize ${projSize})`, async () => {
      const backend = f64();
      const common = { inputSize: 2, hiddenSize: H2, numLayers: 2, bidirectional: true, projSize, backend, seed: 9 };
      const withBias = new LSTM({ ...common, forgetBias: 1 });
      const plain = new LSTM(common);
      const a = withBias.stateDict();
      const b = plain.stateDict();
      expect(Object.keys(a)).toEqual(Object.keys(b));
      for (const name of Object.keys(a)) {
        const got = await values(a[name]);
        const expected = await values(b[name]);
        if (name.startsWith('bias_ih')) expected.fill(1, H2, 2 * H2);
        if (name.startsWith('bias_hh')) expected.fill(0, H2, 2 * H2);
        expect(got, name).toEqual(expected);
      }
    });
  }

  it('gives the forget gate σ(b) with zero weights: c′ = σ(b)·c + i·g', async () => {
    const backend = f64();
    const model = new LSTM({ inputSize: 1, hiddenSize: 1, forgetBias: 2, backend, seed: 1 });
    const d = model.stateDict();
    await model.loadStateDict({
      weight_ih_l0: { data: [0, 0, 0, 0], shape: [4, 1] },
      weight_hh_l0: { data: [0, 0, 0, 0], shape: [4, 1] },
      // Only the forget block is kept as the option wrote it; i·g = σ(0)·tanh(0) = 0.
      bias_ih_l0: { data: [0, (await values(d.bias_ih_l0))[1], 0, 0], shape: [4] },
      bias_hh_l0: { data: [0, (await values(d.bias_hh_l0))[1], 0, 0], shape: [4] },
    });
    const out = model.forward(tensor([0], [1, 1, 1], { backend }), { c0: tensor([0.8], [1, 1, 1], { backend }) });
    expectClose(await values(out.cN as Tensor), [sigma(2) * 0.8], 1e-15);
  });

  it('typed errors: without biases, on a non-number', () => {
    const backend = f64();
    expectError(
      () => new LSTM({ inputSize: 1, hiddenSize: 2, forgetBias: 1, bias: false, backend }),
      OptionsError,
      "'forgetBias' needs the biases",
    );
    expectError(
      () => new LSTM({ inputSize: 1, hiddenSize: 3, projSize: 1, forgetBias: 1, bias: false, backend }),
      OptionsError,
      "'forgetBias' needs the biases",
    );
    expectError(
      () => new LSTM({ inputSize: 1, hiddenSize: 2, forgetBias: 'one' as never, backend }),
      OptionsError,
      "LSTM: option 'forgetBias'",
    );
    expectError(
      () => new LSTM({ inputSize: 1, hiddenSize: 2, forgetBias: Number.NaN, backend }),
      ValueRangeError,
      "LSTM: option 'forgetBias'",
    );
  });
});
