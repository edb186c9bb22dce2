/**
 * `Sequential`: modules one after the other, with recurrent layers passing their output on,
 * `LastHidden` taking a recurrent layer's final state, and recurrent states carried by
 * `forwardWithState`. Expected values are the same modules composed by hand.
 */
import { Embedding, GRU, LastHidden, Linear, LSTM, OptionsError, Sequential, ShapeError, type Tensor, tensor } from '@recur/core';
import { describe, expect, it } from 'vitest';
import { expectError, f64, paramGradCheck, randomArray, values } from './helpers.js';

const backend = f64();
const [T, B, V, E, H] = [5, 3, 7, 4, 6];
const ids = Int32Array.from({ length: T * B }, (_, i) => (i * 5 + 2) % V);

function charModel() {
  const embedding = new Embedding({ numEmbeddings: V, embeddingDim: E, backend, seed: 1 });
  const lstm = new LSTM({ inputSize: E, hiddenSize: H, numLayers: 2, backend, seed: 2 });
  const head = new Linear({ inFeatures: H, outFeatures: V, backend, seed: 3 });
  return { embedding, lstm, head, model: new Sequential([embedding, lstm, head]) };
}

describe('Sequential', () => {
  it("names children 0, 1, … as PyTorch's nn.Sequential does, and reaches them for train/eval", () => {
    const { model, lstm } = charModel();
    expect(Object.keys(model.stateDict())).toEqual([
      '0.weight',
      '1.weight_ih_l0',
      '1.weight_hh_l0',
      '1.bias_ih_l0',
      '1.bias_hh_l0',
      '1.weight_ih_l1',
      '1.weight_hh_l1',
      '1.bias_ih_l1',
      '1.bias_hh_l1',
      '2.weight',
      '2.bias',
    ]);
    model.eval();
    expect(lstm.training).toBe(false);
    model.train();
    expect(lstm.training).toBe(true);
  });

  it('forward equals the modules composed by hand', async () => {
    const { model, embedding, lstm, head } = charModel();
    const x = tensor(ids, [T, B], { dtype: 'int32' });
    const manual = head.forward(lstm.forward(embedding.forward(x)).output);
    expect(await values(model.forward(x))).toEqual(await values(manual));
  });

  it('forwardWithState carries the recurrent states: two halves equal the whole sequence', async () => {
    const { model } = charModel();
    const whole = await values(model.forward(tensor(ids, [T, B], { dtype: 'int32' })));
    const first = model.forwardWithState(tensor(ids.subarray(0, 2 * B), [2, B], { dtype: 'int32' }));
    expect(first.state).toHaveLength(1);
    expect(first.state[0].map((s: Tensor) => s.shape)).toEqual([
      [2, B, H],
      [2, B, H],
    ]);
    const second = model.forwardWithState(tensor(ids.subarray(2 * B), [T - 2, B], { dtype: 'int32' }), { state: first.state });
    const halves = [...(await values(first.output)), ...(await values(second.output))];
    halves.forEach((v, i) => {
      expect(v).toBeCloseTo(whole[i], 12);
    });
  });

  it('LastHidden after a bidirectional GRU is its lastHidden(), with lengths passed on, and gradients flow through it', async () => {
    const gru = new GRU({ inputSize: 2, hiddenSize: 3, bidirectional: true, backend, seed: 4 });
    const head = new Linear({ inFeatures: 6, outFeatures: 2, backend, seed: 5 });
    const model = new Sequential([gru, new LastHidden(), head]);
    const x = tensor(randomArray(6, 4 * 2 * 2), [4, 2, 2], { backend });
    const lengths = [4, 2];
    const manual = head.forward(gru.forward(x, { lengths }).lastHidden());
    expect(await values(model.forward(x, { lengths }))).toEqual(await values(manual));
    await paramGradCheck(model.parameters(), () => model.forward(x, { lengths }).square().sum());
  });

  it('refuses misuse with typed errors', () => {
    const { model } = charModel();
    const x = tensor(ids, [T, B], { dtype: 'int32' });
    expectError(() => new Sequential([]), ShapeError, 'non-empty');
    expectError(() => new Sequential([{ forward: () => 1 } as never]), ShapeError, 'layers[0]');
    expectError(() => new Sequential([new LastHidden({ backend })]).forward(x), ShapeError, 'LastHidden must follow a recurrent layer');
    expectError(() => model.forward(x, { state: [undefined, undefined] }), ShapeError, 'one entry', 'per recurrent layer (1)');
    expectError(() => model.forward(x, { lenghts: [1] } as never), OptionsError, "did you mean 'lengths'?");
  });
});
