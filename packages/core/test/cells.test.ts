/**
 * Closed-form checks of the recurrent cells: each layer's outputs against a plain-JS
 * implementation of the equations in docs/rnn-semantics.md, written here from the equations and
 * fed the parameter values read back from the model. Both the backend's fused-sequence path and
 * core's generic unrolled path are checked.
 */
import { type Backend, GRU, LeakyRNN, LSTM, type RecurrentLayer, RNN, type Tensor, tensor, UGRNN } from '@recur/core';
import { describe, expect, it } from 'vitest';
import { expectClose, f64, gradCheck, paramGradCheck, randomArray, values, withoutFusedSequence } from './helpers.js';

type Kind = 'tanh' | 'relu' | 'lstm' | 'gru' | 'ugrnn';
const sigma = (v: number) => 1 / (1 + Math.exp(-v));

/** `W·v + b` for `W` `[rows, cols]` stored row-major. */
function affine(w: number[], b: number[] | null, v: number[], rows: number): number[] {
  const cols = v.length;
  return Array.from({ length: rows }, (_, r) => {
    let s = b ? b[r] : 0;
    for (let c = 0; c < cols; c++) s += w[r * cols + c] * v[c];
    return s;
  });
}

interface Weights {
  wIh: number[];
  wHh: number[];
  bIh: number[] | null;
  bHh: number[] | null;
}

/** One step of one sequence, from the equations. Returns [h', c']. */
function referenceStep(kind: Kind, p: Weights, H: number, x: number[], h: number[], c: number[]): [number[], number[]] {
  const G = { tanh: 1, relu: 1, lstm: 4, gru: 3, ugrnn: 2 }[kind];
  const gx = affine(p.wIh, p.bIh, x, G * H);
  const gh = affine(p.wHh, p.bHh, h, G * H);
  const block = (v: number[], k: number) => v.slice(k * H, (k + 1) * H);
  const hNew: number[] = [];
  const cNew: number[] = [];
  for (let j = 0; j < H; j++) {
    const pre = (k: number) => block(gx, k)[j] + block(gh, k)[j];
    switch (kind) {
      case 'tanh':
        hNew.push(Math.tanh(pre(0)));
        break;
      case 'relu':
        hNew.push(Math.max(0, pre(0)));
        break;
      case 'lstm': {
        const i = sigma(pre(0));
        const f = sigma(pre(1));
        const g = Math.tanh(pre(2));
        const o = sigma(pre(3));
        cNew.push(f * c[j] + i * g);
        hNew.push(o * Math.tanh(cNew[j]));
        break;
      }
      case 'gru': {
        const r = sigma(pre(0));
        const z = sigma(pre(1));
        const n = Math.tanh(block(gx, 2)[j] + r * block(gh, 2)[j]);
        hNew.push((1 - z) * n + z * h[j]);
        break;
      }
      case 'ugrnn': {
        const g = sigma(pre(0));
        const cand = Math.tanh(pre(1));
        hNew.push(g * h[j] + (1 - g) * cand);
        break;
      }
    }
  }
  return [hNew, cNew];
}

async function weightsOf(model: RecurrentLayer, suffix = '_l0'): Promise<Weights> {
  const d = model.stateDict();
  return {
    wIh: await values(d[`weight_ih${suffix}`]),
    wHh: await values(d[`weight_hh${suffix}`]),
    bIh: d[`bias_ih${suffix}`] ? await values(d[`bias_ih${suffix}`]) : null,
    bHh: d[`bias_hh${suffix}`] ? await values(d[`bias_hh${suffix}`]) : null,
  };
}

const make = (
  kind: Kind,
  backend: Backend,
  options: { bias?: boolean; numLayers?: number; bidirectional?: boolean } = {},
): RecurrentLayer => {
  const common = { inputSize: 3, hiddenSize: 2, backend, seed: 11, ...options };
  switch (kind) {
    case 'tanh':
    case 'relu':
      return new RNN({ ...common, nonlinearity: kind });
    case 'lstm':
      return new LSTM(common);
    case 'gru':
      return new GRU(common);
    case 'ugrnn':
      return new UGRNN(common);
  }
};

const kinds: Kind[] = ['tanh', 'relu', 'lstm', 'gru', 'ugrnn'];
const paths: [string, () => Backend][] = [
  ['fused', f64],
  ['unrolled', () => withoutFusedSequence(f64())],
];

describe('cells against their equations, by hand', () => {
  for (const [path, makeBackend] of paths) {
    for (const kind of kinds) {
      for (const bias of [true, false]) {
        it(`${kind} (${path} path, bias ${bias}): 1 step and 3 steps from non-zero h0${kind === 'lstm' ? ', c0' : ''}`, async () => {
          const backend = makeBackend();
          const model = make(kind, backend, { bias });
          const p = await weightsOf(model);
          const T = 3;
          const B = 2;
          const H = 2;
          const xs = randomArray(1, T * B * 3, -1.5, 1.5);
          const h0 = randomArray(2, B * H, -0.9, 0.9);
          const c0 = randomArray(3, B * H, -0.9, 0.9);
          for (const steps of [1, T]) {
            const x = tensor(xs.slice(0, steps * B * 3), [steps, B, 3], { backend });
            const run = model.forward(x, {
              h0: tensor(h0, [1, B, H], { backend }),
              c0: kind === 'lstm' ? tensor(c0, [1, B, H], { backend }) : undefined,
            });
            const out = await values(run.output);
            const expectedOut: number[] = new Array(steps * B * H);
            const hN: number[] = [];
            const cN: number[] = [];
            for (let b = 0; b < B; b++) {
              let h = h0.slice(b * H, b * H + H);
              let c = c0.slice(b * H, b * H + H);
              for (let t = 0; t < steps; t++) {
                const xt = xs.slice((t * B + b) * 3, (t * B + b) * 3 + 3);
                [h, c] = referenceStep(kind, p, H, xt, h, c);
                for (let j = 0; j < H; j++) expectedOut[(t * B + b) * H + j] = h[j];
              }
              hN.push(...h);
              cN.push(...c);
            }
            expectClose(out, expectedOut, 1e-12, 1e-14, `${kind} output, ${steps} steps`);
            expectClose(await values(run.hN), hN, 1e-12, 1e-14, 'hN');
            if (kind === 'lstm') expectClose(await values(run.cN as Tensor), cN, 1e-12, 1e-14, 'cN');
            else expect(run.cN).toBeUndefined();
          }
        });
      }
    }
  }

  it('UGRNN gate order: block 0 is the update gate g, block 1 the candidate c', async () => {
    // With every weight zero, g = σ(b_g) and c = tanh(b_c): h' = σ(b_g)·h + (1 − σ(b_g))·tanh(b_c).
    const backend = f64();
    const model = new UGRNN({ inputSize: 1, hiddenSize: 1, backend, seed: 1 });
    await model.loadStateDict({
      weight_ih_l0: { data: [0, 0], shape: [2, 1] },
      weight_hh_l0: { data: [0, 0], shape: [2, 1] },
      bias_ih_l0: { data: [2, -0.5], shape: [2] },
      bias_hh_l0: { data: [0, 0], shape: [2] },
    });
    const { output } = model.forward(tensor([0], [1, 1, 1], { backend }), { h0: tensor([0.5], [1, 1, 1], { backend }) });
    const g = 1 / (1 + Math.exp(-2));
    expectClose(await values(output), [g * 0.5 + (1 - g) * Math.tanh(-0.5)], 1e-14);
  });

  it('LeakyRNN with tau = 1 equals RNN(tanh) with the same weights', async () => {
    const backend = f64();
    const rnn = new RNN({ inputSize: 3, hiddenSize: 4, numLayers: 2, bidirectional: true, backend, seed: 5 });
    const leaky = new LeakyRNN({ inputSize: 3, hiddenSize: 4, numLayers: 2, bidirectional: true, tau: 1, backend, seed: 6 });
    await leaky.loadStateDict(rnn.stateDict(), { strict: false });
    const x = tensor(randomArray(7, 5 * 2 * 3, -2, 2), [5, 2, 3], { backend });
    const h0 = tensor(randomArray(8, 4 * 2 * 4), [4, 2, 4], { backend });
    const a = rnn.forward(x, { h0, lengths: [5, 3] });
    const b = leaky.forward(x, { h0, lengths: [5, 3] });
    expectClose(await values(b.output), await values(a.output), 1e-13, 1e-15);
    expectClose(await values(b.hN), await values(a.hN), 1e-13, 1e-15);
  });

  it('LeakyRNN with tau > 1: h′ = (1 − 1/τ)·h + (1/τ)·tanh(W_ih x + b_ih + W_hh h + b_hh), by hand', async () => {
    const backend = f64();
    const tau = [1, 2.5, 4];
    const leaky = new LeakyRNN({ inputSize: 2, hiddenSize: 3, tau, backend, seed: 3 });
    const p = await weightsOf(leaky);
    const xs = randomArray(9, 4 * 2, -1, 1);
    const h0 = [0.3, -0.6, 0.9];
    const { output } = leaky.forward(tensor(xs, [4, 1, 2], { backend }), { h0: tensor(h0, [1, 1, 3], { backend }) });
    let h = h0;
    const expected: number[] = [];
    for (let t = 0; t < 4; t++) {
      const [cand] = referenceStep('tanh', p, 3, xs.slice(2 * t, 2 * t + 2), h, []);
      h = h.map((v, j) => (1 - 1 / tau[j]) * v + (1 / tau[j]) * cand[j]);
      expected.push(...h);
    }
    expectClose(await values(output), expected, 1e-13, 1e-15);
  });

  it('stacked bidirectional layers: layer 1 reads both directions of layer 0, hN index is layer·D + direction', async () => {
    const backend = f64();
    const model = new GRU({ inputSize: 3, hiddenSize: 2, numLayers: 2, bidirectional: true, backend, seed: 4 });
    const T = 3;
    const xs = randomArray(12, T * 3);
    const { output, hN } = model.forward(tensor(xs, [T, 1, 3], { backend }));
    const runDirection = (p: Weights, seq: number[][], reverse: boolean) => {
      const order = reverse ? [...seq.keys()].reverse() : [...seq.keys()];
      const out: number[][] = new Array(seq.length);
      let h = [0, 0];
      for (const t of order) {
        [h] = referenceStep('gru', p, 2, seq[t], h, []);
        out[t] = h;
      }
      return { out, h };
    };
    let seq = Array.from({ length: T }, (_, t) => xs.slice(3 * t, 3 * t + 3));
    const finals: number[] = [];
    for (const layer of [0, 1]) {
      const fwd = runDirection(await weightsOf(model, `_l${layer}`), seq, false);
      const bwd = runDirection(await weightsOf(model, `_l${layer}_reverse`), seq, true);
      finals.push(...fwd.h, ...bwd.h);
      seq = seq.map((_, t) => [...fwd.out[t], ...bwd.out[t]]);
    }
    expectClose(await values(output), seq.flat(), 1e-12, 1e-14);
    expect(hN.shape).toEqual([4, 1, 2]);
    expectClose(await values(hN), finals, 1e-12, 1e-14);
  });

  it('batchFirst transposes input and output but not hN', async () => {
    const backend = f64();
    const a = new LSTM({ inputSize: 3, hiddenSize: 2, backend, seed: 2 });
    const b = new LSTM({ inputSize: 3, hiddenSize: 2, batchFirst: true, backend, seed: 2 });
    const xs = randomArray(13, 4 * 2 * 3);
    const x = tensor(xs, [4, 2, 3], { backend });
    const ra = a.forward(x);
    const rb = b.forward(x.transpose(0, 1));
    expect(rb.output.shape).toEqual([2, 4, 2]);
    expect(await values(rb.output)).toEqual(await values(ra.output.transpose(0, 1)));
    expect(await values(rb.hN)).toEqual(await values(ra.hN));
  });
});

describe('layer gradients match finite differences', () => {
  for (const [path, makeBackend] of paths) {
    for (const kind of ['tanh', 'lstm', 'gru', 'ugrnn'] as const) {
      it(`${kind}, 2 layers, bidirectional, variable lengths (${path} path)`, async () => {
        const backend = makeBackend();
        const model = make(kind, backend, { numLayers: 2, bidirectional: true });
        const x = tensor(randomArray(21, 3 * 2 * 3), [3, 2, 3], { backend });
        const h0 = tensor(randomArray(22, 4 * 2 * 2), [4, 2, 2], { backend });
        const r = tensor(randomArray(23, 3 * 2 * 4), [3, 2, 4], { backend });
        const rh = tensor(randomArray(24, 4 * 2 * 2), [4, 2, 2], { backend });
        const loss = () => {
          const out = model.forward(x, { h0, lengths: [3, 2] });
          const extra = kind === 'lstm' ? (out.cN as Tensor).mul(rh).sum() : out.hN.mul(rh).sum();
          return out.output.mul(r).sum().add(extra);
        };
        await paramGradCheck(model.parameters(), loss);
        // Gradients wrt the input and the initial states.
        await gradCheck(backend, (xt, h) => model.forward(xt, { h0: h, lengths: [3, 2] }).output, [
          { data: randomArray(25, 18), shape: [3, 2, 3] },
          { data: randomArray(26, 16), shape: [4, 2, 2] },
        ]);
        if (kind === 'lstm') {
          await gradCheck(backend, (c) => model.forward(x, { c0: c }).hN, [{ data: randomArray(27, 16), shape: [4, 2, 2] }]);
        }
      });
    }
  }
});
