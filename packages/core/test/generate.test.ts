/**
 * `generate`: each new token is checked against the model run afresh on the whole sequence so
 * far (prime and tokens already drawn, no state carried), so the state carried token by token
 * must be exactly the state of the full sequence — including a DelayRNN's history.
 */
import {
  DelayRNN,
  Embedding,
  generate,
  IntTensor,
  intTensor,
  Linear,
  LSTM,
  memory,
  OptionsError,
  Random,
  RNN,
  Sequential,
  ShapeError,
  sample,
  slice,
  tensor,
  ValueRangeError,
} from '@recur/core';
import { describe, expect, it } from 'vitest';
import { expectRejection, f64 } from './helpers.js';

const backend = f64();
const [V, E, H] = [6, 4, 5];

/** A small language model with weights 3× PyTorch's init, so greedy decoding does not settle at once. */
async function languageModel(kind: 'lstm' | 'rnn' | 'delay', batchFirst = false) {
  const options = { inputSize: E, hiddenSize: H, batchFirst, backend, seed: 2 };
  const recurrent =
    kind === 'lstm'
      ? new LSTM({ ...options, numLayers: 2 })
      : kind === 'rnn'
        ? new RNN({ ...options, numLayers: 2 })
        : new DelayRNN({ ...options, delays: [1, 3] });
  const model = new Sequential([
    new Embedding({ numEmbeddings: V, embeddingDim: E, backend, seed: 1 }),
    recurrent,
    new Linear({ inFeatures: H, outFeatures: V, backend, seed: 3 }),
  ]);
  for (const p of model.parameters()) p.copyFrom((await p.toArray()).map((v) => 3 * v));
  return model;
}

/** The last step's logits `[1, V]` of the model on one whole sequence, from zero states. */
function lastLogits(model: Sequential, sequence: number[]) {
  const logits = model.forward(intTensor(sequence, [sequence.length, 1]));
  return slice(logits, 0, sequence.length - 1, 1).reshape([1, V]);
}

describe('generate', () => {
  // Random LSTMs this small settle on one token at once under greedy decoding, which would
  // check nothing: the greedy case uses Elman layers, the sampled one LSTMs too.
  for (const kind of ['rnn', 'delay'] as const) {
    it(`${kind}: temperature 0 takes, at each step, the arg-max of the model on the whole sequence so far`, async () => {
      const model = await languageModel(kind);
      const prime = [2, 5, 1];
      const ids = await generate(model, prime, 8, { temperature: 0 });
      expect(ids.shape).toEqual([8]);
      const sequence = [...prime];
      for (const id of ids.data) {
        const expected = (await sample(lastLogits(model, sequence), { temperature: 0 })).data[0];
        expect(id).toBe(expected);
        sequence.push(id);
      }
      // Not a constant: the check above has something to catch.
      expect(new Set(ids.data).size).toBeGreaterThan(1);
    });
  }

  for (const kind of ['lstm', 'delay'] as const) {
    it(`${kind}: sampling with a seeded Random draws what sample() draws from the whole-sequence logits`, async () => {
      const model = await languageModel(kind);
      const prime = intTensor([3, 0], [2]);
      const options = { temperature: 1.5, topK: 4, topP: 0.95 };
      const ids = await generate(model, prime, 10, { ...options, random: new Random(11) });
      const random = new Random(11);
      const sequence = [3, 0];
      for (const id of ids.data) {
        sequence.push((await sample(lastLogits(model, sequence), { ...options, random })).data[0]);
        expect(id).toBe(sequence[sequence.length - 1]);
      }
      expect(new Set(ids.data).size).toBeGreaterThan(2);
      expect(Array.from((await generate(model, prime, 10, { ...options, random: new Random(11) })).data)).toEqual(Array.from(ids.data));
    });
  }

  it('a batch [T, B] gives [n, B], each column what that sequence gives alone; [B, T] for batch-first models', async () => {
    const model = await languageModel('delay');
    const primes = [
      [1, 2, 3],
      [4, 4, 0],
    ];
    const alone = await Promise.all(primes.map((p) => generate(model, p, 5, { temperature: 0 })));
    const timeMajor = await generate(model, intTensor([1, 4, 2, 4, 3, 0], [3, 2]), 5, { temperature: 0 });
    expect(timeMajor.shape).toEqual([5, 2]);
    for (let b = 0; b < 2; b++) expect(Array.from({ length: 5 }, (_, i) => timeMajor.data[i * 2 + b])).toEqual(Array.from(alone[b].data));
    const batchFirstModel = await languageModel('delay', true);
    await batchFirstModel.loadStateDict(model.stateDict());
    const batchFirst = await generate(batchFirstModel, intTensor(primes.flat(), [2, 3]), 5, { temperature: 0 });
    expect(batchFirst.shape).toEqual([2, 5]);
    expect(Array.from(batchFirst.data)).toEqual([...alone[0].data, ...alone[1].data]);
  });

  it('records nothing and leaves no buffer behind; n = 0 gives no tokens', async () => {
    const model = await languageModel('lstm');
    const before = memory(backend).buffers;
    const ids = await generate(model, [1, 2], 6, { random: new Random(1) });
    expect(memory(backend).buffers).toBe(before);
    expect(model.parameters().every((p) => p.grad === null)).toBe(true);
    expect(ids).toBeInstanceOf(IntTensor);
    expect((await generate(model, [1], 0)).shape).toEqual([0]);
  });

  it('typed errors name the argument', async () => {
    const model = await languageModel('lstm');
    await expectRejection(() => generate(model, [], 3), ShapeError, 'prime must hold at least one token');
    await expectRejection(() => generate(model, [1], -1), ValueRangeError, 'n must be an integer ≥ 0');
    await expectRejection(() => generate(model, [1], 2, { temprature: 1 } as never), OptionsError, "did you mean 'temperature'");
    await expectRejection(() => generate(model, [1], 2, { topP: 2 }), ValueRangeError, 'topP');
    await expectRejection(() => generate({} as never, [1], 2), OptionsError, 'model must be a Sequential');
    await expectRejection(() => generate(model, tensor([1], [1], { backend }) as never, 2), OptionsError, 'prime must be an int32 tensor');
    await expectRejection(
      () => generate(model, intTensor([1, 2, 3, 4, 5, 6, 7, 8], [2, 2, 2]), 2),
      ShapeError,
      'prime must be [T] or [T, B]',
    );
    await expectRejection(() => generate(model, [1, 9], 2), ValueRangeError, 'ids[1] = 9');
  });
});
