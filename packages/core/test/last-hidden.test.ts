/**
 * `lastHidden()` / `lastCell()` on what `RecurrentLayer.forward` returns: the last layer's final
 * state with its directions side by side, `[B, D·H]`, forward direction first (PyTorch's
 * `torch.cat([hN[-2], hN[-1]], dim=1)`). Expected values are laid out in plain JS from `hN`'s
 * documented index `layer·D + direction`; gradients are checked against finite differences.
 */
import { type Backend, GRU, LSTM, noGrad, type RecurrentLayer, RNN, ShapeError, sum, type Tensor, tensor, tidy } from '@recur/core';
import { describe, expect, it } from 'vitest';
import { expectError, f64, gradCheck, paramGradCheck, randomArray, values, withoutFusedSequence, withoutFusedStack } from './helpers.js';

const T = 4;
const B = 3;
const I = 2;
const H = 2;

/** Host `[L·D, B, H]` final state → `[B, D·H]`: row b is the last layer's directions concatenated. */
function lastLayerByHand(state: number[], numLayers: number, directions: number): number[] {
  const out: number[] = [];
  for (let b = 0; b < B; b++) {
    for (let d = 0; d < directions; d++) {
      const row = (numLayers - 1) * directions + d;
      out.push(...state.slice((row * B + b) * H, (row * B + b + 1) * H));
    }
  }
  return out;
}

const paths: [string, () => Backend][] = [
  ['fused sequence', f64],
  ['unrolled', () => withoutFusedSequence(f64())],
];
const configs = [
  [1, false],
  [2, false],
  [1, true],
  [2, true],
] as const;

describe('lastHidden() and lastCell()', () => {
  for (const [path, makeBackend] of paths) {
    for (const [numLayers, bidirectional] of configs) {
      for (const lengths of [undefined, [4, 1, 3]]) {
        const name = `${numLayers} layer(s)${bidirectional ? ', bidirectional' : ''}${lengths ? ', with lengths' : ''} (${path})`;
        it(`equal the last layer of hN / cN, directions concatenated: ${name}`, async () => {
          const backend = makeBackend();
          const lstm = new LSTM({ inputSize: I, hiddenSize: H, numLayers, bidirectional, batchFirst: true, backend, seed: 3 });
          const out = lstm.forward(tensor(randomArray(5, B * T * I), [B, T, I], { backend }), { lengths });
          const D = bidirectional ? 2 : 1;
          const hidden = out.lastHidden();
          expect([...hidden.shape]).toEqual([B, D * H]);
          expect(await values(hidden)).toEqual(lastLayerByHand(await values(out.hN), numLayers, D));
          const cell = out.lastCell();
          expect([...cell.shape]).toEqual([B, D * H]);
          expect(await values(cell)).toEqual(lastLayerByHand(await values(out.cN as Tensor), numLayers, D));
        });
      }
    }
  }

  it('the forward direction comes first (a bidirectional layer’s reverse half differs)', async () => {
    const backend = f64();
    const gru = new GRU({ inputSize: I, hiddenSize: H, bidirectional: true, backend, seed: 4 });
    const out = gru.forward(tensor(randomArray(6, T * B * I), [T, B, I], { backend }));
    const hN = await values(out.hN);
    const hidden = await values(out.lastHidden());
    // Row 0 of hN (forward) fills columns [0, H) of every batch row; row 1 (reverse) columns [H, 2H).
    expect(hidden.slice(0, H)).toEqual(hN.slice(0, H));
    expect(hidden.slice(H, 2 * H)).toEqual(hN.slice(B * H, B * H + H));
    expect(hN.slice(0, H)).not.toEqual(hN.slice(B * H, B * H + H));
  });

  it('on the stacked inference path too (noGrad, one direction, several layers)', async () => {
    for (const backend of [f64(), withoutFusedStack(f64())]) {
      const rnn = new RNN({ inputSize: I, hiddenSize: H, numLayers: 3, backend, seed: 5 });
      const x = tensor(randomArray(7, T * B * I), [T, B, I], { backend });
      const hidden = noGrad(() => rnn.forward(x).lastHidden());
      expect(await values(hidden)).toEqual(lastLayerByHand(await values(noGrad(() => rnn.forward(x).hN)), 3, 1));
    }
  });

  it('lastCell() is a ShapeError for cells without a cell state', () => {
    const backend = f64();
    const gru = new GRU({ inputSize: I, hiddenSize: H, backend, seed: 6 });
    const out = gru.forward(tensor(randomArray(8, T * B * I), [T, B, I], { backend }));
    expectError(() => out.lastCell(), ShapeError, 'GRU', 'lastCell', '1 state tensor');
  });

  it('a call inside tidy returns a live tensor; the output object holds no extra tensors', async () => {
    const backend = f64();
    const rnn = new RNN({ inputSize: I, hiddenSize: H, bidirectional: true, backend, seed: 9 });
    const x = tensor(randomArray(10, T * B * I), [T, B, I], { backend });
    const hidden = tidy(() => rnn.forward(x).lastHidden());
    expect(hidden.disposed).toBe(false);
    expect((await values(hidden)).length).toBe(B * 2 * H);
    const out = rnn.forward(x);
    const tensorsOnIt = Object.values(out).filter((v) => typeof v === 'object' && v !== null && 'gradFn' in v);
    expect(tensorsOnIt).toEqual([out.output, out.hN]);
  });
});

describe('gradients through lastHidden()', () => {
  const layers: [string, (backend: Backend, numLayers: number, bidirectional: boolean) => RecurrentLayer][] = [
    ['LSTM', (backend, numLayers, bidirectional) => new LSTM({ inputSize: I, hiddenSize: H, numLayers, bidirectional, backend, seed: 11 })],
    ['GRU', (backend, numLayers, bidirectional) => new GRU({ inputSize: I, hiddenSize: H, numLayers, bidirectional, backend, seed: 12 })],
  ];
  for (const [path, makeBackend] of paths) {
    for (const [kind, build] of layers) {
      for (const [numLayers, bidirectional] of [
        [1, true],
        [2, true],
        [2, false],
      ] as const) {
        const name = `${kind}, ${numLayers} layer(s)${bidirectional ? ', bidirectional' : ''}, with lengths (${path})`;
        it(`match finite differences wrt the input and the parameters: ${name}`, async () => {
          const backend = makeBackend();
          const layer = build(backend, numLayers, bidirectional);
          const lengths = [4, 2, 3];
          const xData = randomArray(13, T * B * I);
          await gradCheck(backend, (x) => layer.forward(x, { lengths }).lastHidden(), [{ data: xData, shape: [T, B, I] }]);
          const x = tensor(xData, [T, B, I], { backend });
          const weights = tensor(randomArray(14, B * (bidirectional ? 2 : 1) * H), [B, (bidirectional ? 2 : 1) * H], { backend });
          await paramGradCheck(layer.parameters(), () => sum(layer.forward(x, { lengths }).lastHidden().mul(weights)));
        });
      }
    }
  }
});
