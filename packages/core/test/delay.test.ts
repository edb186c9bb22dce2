/**
 * DelayRNN against a plain-JS implementation of the spec's equation, written here from
 * docs/rnn-semantics.md ("Long-delay recurrent network"): each sequence is run alone over its own
 * length, so the reference knows nothing of state slots, masking or padding. Gradients by
 * central finite differences on float64.
 */
import { DelayRNN, OptionsError, Parameter, RNN, ShapeError, type Tensor, tensor, ValueRangeError } from '@recur/core';
import { describe, expect, it } from 'vitest';
import { expectClose, expectError, f64, paramGradCheck, randomArray, values } from './helpers.js';

const backend = f64();

interface Config {
  inputSize: number;
  hiddenSize: number;
  numLayers: number;
  bidirectional: boolean;
  delays: number[];
  nonlinearity: 'tanh' | 'relu';
}

/** `W v` for `W` `[rows, v.length]` row-major, plus `b`. */
function affine(w: number[], v: number[], b?: number[]): number[] {
  const rows = w.length / v.length;
  return Array.from({ length: rows }, (_, r) => v.reduce((s, x, c) => s + w[r * v.length + c] * x, b ? b[r] : 0));
}

/**
 * The spec's equation for a whole stack: `x` `[T, B, I]`, `h0` `[L·D, B, H]` (flat), `params`
 * by name. Returns `output` `[T, B, D·H]` (zeros past each length) and `hN` `[L·D, B, H]`.
 */
function reference(c: Config, params: Record<string, number[]>, x: number[], h0: number[], T: number, B: number, lengths: number[]) {
  const { hiddenSize: H, numLayers: L } = c;
  const D = c.bidirectional ? 2 : 1;
  const act = c.nonlinearity === 'relu' ? (v: number) => Math.max(0, v) : Math.tanh;
  let input = Array.from({ length: T }, (_, t) =>
    Array.from({ length: B }, (_, b) => x.slice((t * B + b) * c.inputSize, (t * B + b + 1) * c.inputSize)),
  );
  const hN = new Array<number>(L * D * B * H).fill(0);
  for (let layer = 0; layer < L; layer++) {
    const out = Array.from({ length: T }, () => Array.from({ length: B }, () => new Array<number>(D * H).fill(0)));
    for (let dir = 0; dir < D; dir++) {
      const suffix = `_l${layer}${dir === 1 ? '_reverse' : ''}`;
      const p = (name: string) => params[name + suffix];
      for (let b = 0; b < B; b++) {
        const start = h0.slice(((layer * D + dir) * B + b) * H, ((layer * D + dir) * B + b + 1) * H);
        const hs: number[][] = [];
        // h_{s−d}, in processing order s (a reverse direction processes t = len − 1 … 0).
        const past = (s: number, d: number) => (s - d >= 0 ? hs[s - d] : start);
        for (let s = 0; s < lengths[b]; s++) {
          const t = dir === 1 ? lengths[b] - 1 - s : s;
          const terms = [affine(p('weight_ih'), input[t][b], p('bias_ih')), affine(p('weight_hh'), past(s, 1), p('bias_hh'))];
          for (const d of c.delays.filter((d) => d > 1)) terms.push(affine(p(`weight_hh_d${d}`), past(s, d)));
          const h = terms[0].map((_, j) => act(terms.reduce((sum, term) => sum + term[j], 0)));
          hs.push(h);
          for (let j = 0; j < H; j++) out[t][b][dir * H + j] = h[j];
        }
        hN.splice(((layer * D + dir) * B + b) * H, H, ...hs[hs.length - 1]);
      }
    }
    input = out;
  }
  return { output: input.flat(2), hN };
}

async function paramsOf(model: DelayRNN): Promise<Record<string, number[]>> {
  const out: Record<string, number[]> = {};
  for (const [name, p] of model.namedParameters()) out[name] = await values(p);
  return out;
}

const configs: [string, Config][] = [
  [
    '1 layer tanh, delays [1, 3]',
    { inputSize: 2, hiddenSize: 3, numLayers: 1, bidirectional: false, delays: [1, 3], nonlinearity: 'tanh' },
  ],
  [
    '2 layers bidirectional relu, delays [4, 2] (no 1 listed)',
    { inputSize: 2, hiddenSize: 3, numLayers: 2, bidirectional: true, delays: [4, 2], nonlinearity: 'relu' },
  ],
  [
    '1 layer, delay 2 only (history of one block)',
    { inputSize: 3, hiddenSize: 2, numLayers: 1, bidirectional: false, delays: [2], nonlinearity: 'tanh' },
  ],
];

describe('DelayRNN', () => {
  for (const [name, c] of configs) {
    for (const lengths of [undefined, [6, 2, 4]]) {
      it(`${name}, ${lengths ? 'variable lengths' : 'equal lengths'}: output and hN follow the equation, h0 filling the past`, async () => {
        const [T, B] = [6, 3];
        const D = c.bidirectional ? 2 : 1;
        const model = new DelayRNN({ ...c, backend, seed: 3 });
        const x = randomArray(1, T * B * c.inputSize);
        const h0 = randomArray(2, c.numLayers * D * B * c.hiddenSize, -0.8, 0.8);
        const out = model.forward(tensor(x, [T, B, c.inputSize], { backend }), {
          h0: tensor(h0, [c.numLayers * D, B, c.hiddenSize], { backend }),
          lengths,
        });
        const expected = reference(c, await paramsOf(model), x, h0, T, B, lengths ?? [T, T, T]);
        expectClose(await values(out.output), expected.output, 1e-12, 1e-12, 'output');
        expectClose(await values(out.hN), expected.hN, 1e-12, 1e-12, 'hN');
        expect(out.cN).toBeUndefined();
      });
    }
  }

  it('zeros are the default past; a sequence fed in chunks sees its delayed states across the boundary', async () => {
    const c = configs[0][1];
    const model = new DelayRNN({ ...c, backend, seed: 4 });
    const x = randomArray(5, 7 * 2 * 2);
    const whole = model.forward(tensor(x, [7, 2, 2], { backend }));
    const expected = reference(c, await paramsOf(model), x, new Array(6).fill(0), 7, 2, [7, 7]);
    expectClose(await values(whole.output), expected.output, 1e-12, 1e-12, 'output from zeros');
    // Two steps then five: the second chunk's delay-3 terms reach into the first chunk.
    const first = model.forward(tensor(x.slice(0, 2 * 2 * 2), [2, 2, 2], { backend }));
    const second = model.forward(tensor(x.slice(2 * 2 * 2), [5, 2, 2], { backend }), { state: first.state });
    expectClose(await values(second.output), expected.output.slice(2 * 2 * 3), 1e-12, 1e-12, 'second chunk');
    expect(first.state[1].shape).toEqual([1, 2, 2 * 3]);
  });

  it('padding steps leave a finished sequence’s whole state, history included, as it was at its length', async () => {
    const c = configs[1][1];
    const model = new DelayRNN({ ...c, backend, seed: 5 });
    const [T, B, I] = [6, 3, c.inputSize];
    const lengths = [6, 2, 4];
    const x = randomArray(6, T * B * I);
    const batched = model.forward(tensor(x, [T, B, I], { backend }), { lengths });
    for (let b = 0; b < B; b++) {
      const n = lengths[b];
      const own: number[] = [];
      for (let t = 0; t < n; t++) own.push(...x.slice((t * B + b) * I, (t * B + b + 1) * I));
      const alone = model.forward(tensor(own, [n, 1, I], { backend }));
      for (const slot of [0, 1]) {
        const [rows, , width] = batched.state[slot].shape;
        const all = await values(batched.state[slot]);
        const mine = Array.from({ length: rows }, (_, r) => all.slice((r * B + b) * width, (r * B + b + 1) * width)).flat();
        expectClose(mine, await values(alone.state[slot]), 1e-12, 1e-12, `sequence ${b} state[${slot}]`);
      }
    }
  });

  it('gradients of every parameter, the input and h0 match finite differences (variable lengths, 2 layers, both directions)', async () => {
    const c = configs[1][1];
    const model = new DelayRNN({ ...c, nonlinearity: 'tanh', backend, seed: 6 });
    const [T, B] = [5, 2];
    // Input and h0 as parameters, so the helper perturbs them like the weights.
    const x = new Parameter(backend, randomArray(7, T * B * c.inputSize), [T, B, c.inputSize]);
    const h0 = new Parameter(backend, randomArray(8, 4 * B * c.hiddenSize, -0.5, 0.5), [4, B, c.hiddenSize]);
    const w = tensor(randomArray(9, T * B * 2 * c.hiddenSize), [T, B, 2 * c.hiddenSize], { backend });
    const loss = (): Tensor => {
      const out = model.forward(x, { h0, lengths: [5, 3] });
      return out.output.mul(w).sum().add(out.hN.sum());
    };
    await paramGradCheck([...model.parameters(), x, h0], loss);
  });

  it('names, shapes and order: Elman’s four first, then weight_hh_d{d} increasing; init as RNN’s', async () => {
    const model = new DelayRNN({ inputSize: 2, hiddenSize: 4, delays: [5, 1, 3], bidirectional: true, backend, seed: 9 });
    expect([...model.namedParameters()].map(([n, p]) => `${n} [${p.shape}]`)).toEqual([
      'weight_ih_l0 [4,2]',
      'weight_hh_l0 [4,4]',
      'bias_ih_l0 [4]',
      'bias_hh_l0 [4]',
      'weight_hh_d3_l0 [4,4]',
      'weight_hh_d5_l0 [4,4]',
      'weight_ih_l0_reverse [4,2]',
      'weight_hh_l0_reverse [4,4]',
      'bias_ih_l0_reverse [4]',
      'bias_hh_l0_reverse [4]',
      'weight_hh_d3_l0_reverse [4,4]',
      'weight_hh_d5_l0_reverse [4,4]',
    ]);
    expect(model.delays).toEqual([1, 3, 5]);
    expect(model.stateWidths).toEqual([4, 16]);
    for (const p of model.parameters()) for (const v of await values(p)) expect(Math.abs(v)).toBeLessThanOrEqual(0.5);
    // The same seed draws the same Elman weights as RNN (same order), and delays [1] is RNN.
    const rnn = new RNN({ inputSize: 2, hiddenSize: 4, backend, seed: 9 });
    const elman = new DelayRNN({ inputSize: 2, hiddenSize: 4, delays: [1], backend, seed: 9 });
    const rnnParams = [...rnn.namedParameters()];
    for (const [i, [name, p]] of [...elman.namedParameters()].entries()) {
      expect(name).toBe(rnnParams[i][0]);
      expect(await values(p)).toEqual(await values(rnnParams[i][1]));
    }
    const x = tensor(randomArray(10, 4 * 2 * 2), [4, 2, 2], { backend });
    expect(elman.stateWidths).toEqual([4]);
    expectClose(await values(elman.forward(x).output), await values(rnn.forward(x).output), 1e-14, 1e-14);
  });

  it('typed errors name the argument', () => {
    const base = { inputSize: 2, hiddenSize: 3, backend };
    expectError(() => new DelayRNN({ ...base, delays: [1, 0] }), ValueRangeError, 'delays[1] = 0', 'positive integer');
    expectError(() => new DelayRNN({ ...base, delays: [2, 1.5] }), ValueRangeError, 'delays[1] = 1.5');
    expectError(() => new DelayRNN({ ...base, delays: [3, 2, 3] }), ValueRangeError, 'delays[2] = 3 repeats delays[0]');
    expectError(() => new DelayRNN({ ...base, delays: [] }), ValueRangeError, 'delays must hold at least one delay');
    expectError(() => new DelayRNN({ ...base } as never), OptionsError, 'delays');
    expectError(() => new DelayRNN({ ...base, delays: [2], nonlinearity: 'gelu' as never }), OptionsError, 'nonlinearity');
    expectError(() => new DelayRNN({ ...base, delays: [2], delay: 3 } as never), OptionsError, "did you mean 'delays'");
    const model = new DelayRNN({ ...base, delays: [1, 2] });
    const x = tensor(randomArray(11, 8), [2, 2, 2], { backend });
    expectError(() => model.forward(x, { c0: tensor(new Array(6).fill(0), [1, 2, 3], { backend }) }), OptionsError, 'c0', 'no cell state');
    expectError(() => model.forward(x, { h0: tensor(new Array(9).fill(0), [1, 3, 3], { backend }) }), ShapeError, 'h0 must be [1, 2, 3]');
    expectError(() => model.forward(x).lastCell(), ShapeError, 'no cell state');
  });
});
