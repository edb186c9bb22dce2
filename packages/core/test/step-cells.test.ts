/**
 * The single-step modules `RNNCell`, `LSTMCell`, `GRUCell`: PyTorch's names and init, one step
 * against the equations (batched and unbatched, given and default states), a rollout against the
 * layer of the same cell, gradients against finite differences, and the typed errors.
 */
import { type Backend, GRU, GRUCell, LSTM, LSTMCell, OptionsError, RNN, RNNCell, ShapeError, type Tensor, tensor } from '@recur/core';
import { describe, expect, it } from 'vitest';
import { expectClose, expectError, f64, paramGradCheck, randomArray, values } from './helpers.js';
import { affine, lstm, resetBeforeGru, type Step, sigma, sigmoidElman, type Weights } from './variant-reference.js';

const I = 3;
const H = 4;
const B = 2;

async function weightsOfCell(cell: { stateDict(): Record<string, Tensor> }): Promise<Weights> {
  const d = cell.stateDict();
  const read = async (name: string) => (d[name] ? values(d[name]) : null);
  return {
    wIh: (await read('weight_ih')) as number[],
    wHh: (await read('weight_hh')) as number[],
    wHr: [],
    bIh: await read('bias_ih'),
    bHh: await read('bias_hh'),
  };
}

const tanhElman =
  (act: (v: number) => number): Step =>
  (p, x, [h]) => {
    const a = affine(p.wIh, p.bIh, x, H);
    const b = affine(p.wHh, p.bHh, h, H);
    return [a.map((v, j) => act(v + b[j]))];
  };

/** PyTorch's GRU cell (reset after the matmul). */
const resetAfterGru: Step = (p, x, [h]) => {
  const gx = affine(p.wIh, p.bIh, x, 3 * H);
  const gh = affine(p.wHh, p.bHh, h, 3 * H);
  return [
    h.map((v, j) => {
      const r = sigma(gx[j] + gh[j]);
      const z = sigma(gx[H + j] + gh[H + j]);
      const n = Math.tanh(gx[2 * H + j] + r * gh[2 * H + j]);
      return (1 - z) * n + z * v;
    }),
  ];
};

interface Case {
  name: string;
  make(backend: Backend, bias: boolean): RNNCell | GRUCell | LSTMCell;
  step: Step;
  slots: number;
}

const cases: Case[] = [
  {
    name: 'RNNCell tanh',
    make: (backend, bias) => new RNNCell({ inputSize: I, hiddenSize: H, bias, backend, seed: 1 }),
    step: tanhElman(Math.tanh),
    slots: 1,
  },
  {
    name: 'RNNCell relu',
    make: (backend, bias) => new RNNCell({ inputSize: I, hiddenSize: H, nonlinearity: 'relu', bias, backend, seed: 2 }),
    step: tanhElman((v) => Math.max(0, v)),
    slots: 1,
  },
  {
    name: 'RNNCell sigmoid',
    make: (backend, bias) => new RNNCell({ inputSize: I, hiddenSize: H, nonlinearity: 'sigmoid', bias, backend, seed: 3 }),
    step: sigmoidElman(H),
    slots: 1,
  },
  {
    name: 'GRUCell',
    make: (backend, bias) => new GRUCell({ inputSize: I, hiddenSize: H, bias, backend, seed: 4 }),
    step: resetAfterGru,
    slots: 1,
  },
  {
    name: 'GRUCell resetAfter: false',
    make: (backend, bias) => new GRUCell({ inputSize: I, hiddenSize: H, resetAfter: false, bias, backend, seed: 5 }),
    step: resetBeforeGru(H),
    slots: 1,
  },
  {
    name: 'LSTMCell',
    make: (backend, bias) => new LSTMCell({ inputSize: I, hiddenSize: H, bias, backend, seed: 6 }),
    step: lstm(H),
    slots: 2,
  },
];

/** One step through the module's own interface: `forward(x, h)` or `forward(x, [h, c])`. */
function stepOf(cell: RNNCell | GRUCell | LSTMCell, x: Tensor, state?: Tensor[]): Tensor[] {
  if (cell instanceof LSTMCell) return cell.forward(x, state && [state[0], state[1]]);
  return [cell.forward(x, state?.[0])];
}

describe('single-step cells', () => {
  for (const c of cases) {
    for (const bias of [true, false]) {
      it(`${c.name} (bias ${bias}): one step, batched and unbatched, given and zero states, by the equations`, async () => {
        const backend = f64();
        const cell = c.make(backend, bias);
        const G = c.name.startsWith('LSTM') ? 4 : c.name.startsWith('GRU') ? 3 : 1;
        const names = [...cell.namedParameters()].map(([n, p]) => `${n} [${p.shape}]`);
        const expectedNames = [`weight_ih [${G * H},${I}]`, `weight_hh [${G * H},${H}]`];
        if (bias) expectedNames.push(`bias_ih [${G * H}]`, `bias_hh [${G * H}]`);
        expect(names).toEqual(expectedNames);
        const p = await weightsOfCell(cell);
        const xs = randomArray(1, B * I, -2, 2);
        const states = Array.from({ length: c.slots }, (_, s) => randomArray(2 + s, B * H, -0.9, 0.9));
        const given = stepOf(
          cell,
          tensor(xs, [B, I], { backend }),
          states.map((s) => tensor(s, [B, H], { backend })),
        );
        for (let b = 0; b < B; b++) {
          const expected = c.step(
            p,
            xs.slice(b * I, (b + 1) * I),
            states.map((s) => s.slice(b * H, (b + 1) * H)),
          );
          for (let s = 0; s < c.slots; s++)
            expectClose((await values(given[s])).slice(b * H, (b + 1) * H), expected[s], 1e-13, 1e-15, `slot ${s}`);
        }
        // Unbatched, from the default (zero) state.
        const un = stepOf(cell, tensor(xs.slice(0, I), [I], { backend }));
        const zeros = Array.from({ length: c.slots }, () => new Array(H).fill(0));
        const expected = c.step(p, xs.slice(0, I), zeros);
        for (let s = 0; s < c.slots; s++) {
          expect(un[s].shape).toEqual([H]);
          expectClose(await values(un[s]), expected[s], 1e-13, 1e-15, `unbatched slot ${s}`);
        }
      });
    }
  }

  it('a rollout of the cell equals the layer with the same parameters (PyTorch’s names, without the _l0 suffix)', async () => {
    const backend = f64();
    const T = 4;
    const pairs: [RNNCell | GRUCell | LSTMCell, RNN | GRU | LSTM][] = [
      [
        new RNNCell({ inputSize: I, hiddenSize: H, nonlinearity: 'sigmoid', backend, seed: 1 }),
        new RNN({ inputSize: I, hiddenSize: H, nonlinearity: 'sigmoid', backend }),
      ],
      [
        new GRUCell({ inputSize: I, hiddenSize: H, resetAfter: false, backend, seed: 2 }),
        new GRU({ inputSize: I, hiddenSize: H, resetAfter: false, backend }),
      ],
      [new LSTMCell({ inputSize: I, hiddenSize: H, backend, seed: 3 }), new LSTM({ inputSize: I, hiddenSize: H, backend })],
    ];
    for (const [cell, layer] of pairs) {
      const dict = Object.fromEntries(Object.entries(cell.stateDict()).map(([n, t]) => [`${n}_l0`, t]));
      await layer.loadStateDict(dict);
      const xs = randomArray(7, T * B * I);
      const out = layer.forward(tensor(xs, [T, B, I], { backend }));
      let state: Tensor[] | undefined;
      const outputs: number[] = [];
      for (let t = 0; t < T; t++) {
        state = stepOf(cell, tensor(xs.slice(t * B * I, (t + 1) * B * I), [B, I], { backend }), state);
        outputs.push(...(await values(state[0])));
      }
      expectClose(outputs, await values(out.output), 1e-13, 1e-15, cell.constructor.name);
    }
  });

  it('PyTorch’s init: same seed, same draws as the layer’s cell, all within U(−1/√H, 1/√H)', async () => {
    const backend = f64();
    const cell = new GRUCell({ inputSize: I, hiddenSize: H, backend, seed: 12 });
    const layer = new GRU({ inputSize: I, hiddenSize: H, backend, seed: 12 });
    const a = cell.stateDict();
    const b = layer.stateDict();
    for (const name of ['weight_ih', 'weight_hh', 'bias_ih', 'bias_hh']) {
      const got = await values(a[name]);
      expect(got).toEqual(await values(b[`${name}_l0`]));
      expect(got.every((v) => Math.abs(v) <= 1 / Math.sqrt(H))).toBe(true);
    }
    const forget = new LSTMCell({ inputSize: I, hiddenSize: H, forgetBias: 1, backend, seed: 1 });
    expect((await values(forget.stateDict().bias_ih)).slice(H, 2 * H)).toEqual([1, 1, 1, 1]);
  });

  for (const c of cases) {
    it(`${c.name}: gradients of parameters match finite differences over a 3-step rollout`, async () => {
      const backend = f64();
      const cell = c.make(backend, true);
      const xs = [0, 1, 2].map((t) => tensor(randomArray(20 + t, B * I), [B, I], { backend }));
      const h0 = Array.from({ length: c.slots }, (_, s) => tensor(randomArray(30 + s, B * H, -0.5, 0.5), [B, H], { backend }));
      const w = tensor(randomArray(40, B * H), [B, H], { backend });
      const loss = () => {
        let state = h0;
        let total: Tensor | undefined;
        for (const x of xs) {
          state = stepOf(cell, x, state);
          const term = state[state.length - 1].mul(w).sum();
          total = total ? total.add(term) : term;
        }
        return total as Tensor;
      };
      await paramGradCheck(cell.parameters(), loss);
    });
  }

  it('typed errors name the argument and the shapes', () => {
    const backend = f64();
    const gru = new GRUCell({ inputSize: I, hiddenSize: H, backend });
    const lstmCell = new LSTMCell({ inputSize: I, hiddenSize: H, backend });
    const x = tensor(new Float64Array(B * I), [B, I], { backend });
    expectError(
      () => gru.forward(tensor(new Float64Array(B * 2), [B, 2], { backend })),
      ShapeError,
      'GRUCell.forward: input must be [B, 3] or [3]',
      'received [2, 2]',
    );
    expectError(() => gru.forward(x, tensor(new Float64Array(H), [H], { backend })), ShapeError, 'h must be [2, 4]', 'received [4]');
    expectError(
      () => lstmCell.forward(x, [tensor(new Float64Array(B * H), [B, H], { backend })] as never),
      ShapeError,
      'state must be [h, c]',
    );
    expectError(
      () => lstmCell.forward(x, [tensor(new Float64Array(B * H), [B, H], { backend }), tensor(new Float64Array(H), [1, H], { backend })]),
      ShapeError,
      'state[1] (c) must be [2, 4]',
    );
    expectError(
      () => new RNNCell({ inputSize: I, hiddenSize: H, nonlinearity: 'gelu' as never, backend }),
      OptionsError,
      "RNNCell: option 'nonlinearity'",
    );
    expectError(
      () => new LSTMCell({ inputSize: I, hiddenSize: H, numLayers: 2, backend } as never),
      OptionsError,
      "LSTMCell: unknown option 'numLayers'",
    );
  });
});
