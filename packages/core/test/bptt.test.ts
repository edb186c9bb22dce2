import {
  type BpttChunk,
  bpttChunks,
  detachState,
  LSTM,
  mse,
  mul,
  slice,
  type Tensor,
  tensor,
  truncatedBptt,
  ValueRangeError,
} from '@recur/core';
import { describe, expect, it } from 'vitest';
import { expectClose, expectError, expectGradientsMatch, f64, numericParamGradient, randomArray, values } from './helpers.js';

describe('bpttChunks', () => {
  it('length 10, k1 3, k2 6', () => {
    expect([...bpttChunks(10, 3, 6)]).toEqual([
      { index: 0, start: 0, lossStart: 0, end: 3 },
      { index: 1, start: 0, lossStart: 3, end: 6 },
      { index: 2, start: 3, lossStart: 6, end: 9 },
      { index: 3, start: 6, lossStart: 9, end: 10 },
    ]);
  });

  it('k2 defaults to k1: disjoint chunks', () => {
    expect([...bpttChunks(10, 3)]).toEqual([
      { index: 0, start: 0, lossStart: 0, end: 3 },
      { index: 1, start: 3, lossStart: 3, end: 6 },
      { index: 2, start: 6, lossStart: 6, end: 9 },
      { index: 3, start: 9, lossStart: 9, end: 10 },
    ]);
    expect([...bpttChunks(4, 4, 4)]).toEqual([{ index: 0, start: 0, lossStart: 0, end: 4 }]);
    expect([...bpttChunks(3, 5)]).toEqual([{ index: 0, start: 0, lossStart: 0, end: 3 }]);
  });

  it('k2 must be a multiple of k1 (ValueRangeError), and sizes positive integers', () => {
    expectError(() => bpttChunks(10, 3, 5), ValueRangeError, 'k2', 'multiple of k1 (3)', '5');
    expectError(() => bpttChunks(10, 3, 2), ValueRangeError, 'k2', '2');
    expectError(() => bpttChunks(10, 0), ValueRangeError, 'k1', '0');
    expectError(() => bpttChunks(0, 1), ValueRangeError, 'length', '0');
    expectError(() => bpttChunks(10, 2.5), ValueRangeError, 'k1', '2.5');
  });
});

describe('detachState', () => {
  it('detaches every tensor of a structure and keeps the values', async () => {
    const backend = f64();
    const x = tensor([1, 2], [2], { backend, requiresGrad: true });
    const y = mul(x, 3);
    const state = { h: y, rest: [y, 5], label: 'a' };
    const d = detachState(state);
    expect(d.h).not.toBe(y);
    expect(d.h.gradFn).toBeNull();
    expect(d.h.requiresGrad).toBe(false);
    expect((d.rest[0] as Tensor).gradFn).toBeNull();
    expect(d.rest[1]).toBe(5);
    expect(d.label).toBe('a');
    expect(await values(d.h)).toEqual([3, 6]);
    expect(y.gradFn).not.toBeNull();
  });
});

describe('truncatedBptt', () => {
  const T = 7;
  const B = 2;
  const I = 2;
  const H = 2;

  function setup() {
    const backend = f64();
    const model = new LSTM({ inputSize: I, hiddenSize: H, backend, seed: 3 });
    const x = tensor(randomArray(41, T * B * I, -1.5, 1.5), [T, B, I], { backend });
    const target = tensor(randomArray(42, T * B * H), [T, B, H], { backend });
    const h0 = tensor(randomArray(43, B * H), [1, B, H], { backend });
    const c0 = tensor(randomArray(44, B * H), [1, B, H], { backend });
    /** The loss of steps [lossStart, end), running the model over [start, end) from the given state. */
    const chunkLoss = (chunk: BpttChunk, state: { h: Tensor; c: Tensor }) => {
      const run = model.forward(slice(x, 0, chunk.start, chunk.end - chunk.start), { h0: state.h, c0: state.c });
      const counted = chunk.end - chunk.lossStart;
      const loss = mse(slice(run.output, 0, chunk.lossStart - chunk.start, counted), slice(target, 0, chunk.lossStart, counted));
      return { loss, state: { h: run.hN, c: run.cN as Tensor } };
    };
    return { backend, model, x, h0, c0, chunkLoss };
  }

  it('k1 = k2 = T gives exactly the full-BPTT gradient', async () => {
    const { model, h0, c0, chunkLoss } = setup();
    const full = chunkLoss({ index: 0, start: 0, lossStart: 0, end: T }, { h: h0, c: c0 });
    full.loss.backward();
    const fullGrads = await Promise.all(model.parameters().map((p) => values(p.grad as Tensor)));
    model.zeroGrad();
    const seen: BpttChunk[] = [];
    const final = await truncatedBptt({
      length: T,
      k1: T,
      k2: T,
      initialState: { h: h0, c: c0 },
      step: (chunk, state) => {
        seen.push(chunk);
        const { loss, state: next } = chunkLoss(chunk, state);
        loss.backward();
        return next;
      },
    });
    expect(seen).toEqual([{ index: 0, start: 0, lossStart: 0, end: T }]);
    const grads = await Promise.all(model.parameters().map((p) => values(p.grad as Tensor)));
    expect(grads).toEqual(fullGrads);
    expect(await values(final.h)).toEqual(await values(full.state.h));
    expect(final.h.gradFn).toBeNull();
  });

  for (const [k1, k2] of [
    [2, 2],
    [2, 4],
  ]) {
    it(`k1 ${k1}, k2 ${k2}: each chunk's gradient is the finite difference of its loss from the detached start state`, async () => {
      const { model, h0, c0, chunkLoss } = setup();
      const params = model.parameters();
      const records: { chunk: BpttChunk; h: number[]; c: number[]; grads: number[][] }[] = [];
      const endStates = new Map<number, { h: number[]; c: number[] }>();
      const final = await truncatedBptt({
        length: T,
        k1,
        k2,
        initialState: { h: h0, c: c0 },
        step: async (chunk, state) => {
          // The state handed in is cut from the graph.
          expect(state.h.gradFn).toBeNull();
          expect(state.c.requiresGrad).toBe(false);
          const h = await values(state.h);
          const c = await values(state.c);
          const { loss, state: next } = chunkLoss(chunk, state);
          loss.backward();
          records.push({ chunk, h, c, grads: await Promise.all(params.map((p) => values(p.grad as Tensor))) });
          model.zeroGrad();
          endStates.set(chunk.end, { h: await values(next.h), c: await values(next.c) });
          return next;
        },
      });
      expect(records.map((r) => r.chunk)).toEqual([...bpttChunks(T, k1, k2)]);
      // Chunk 0 starts from the initial state; every later chunk from the state an earlier chunk ended with.
      for (const r of records) {
        const expected = r.chunk.start === 0 ? { h: await values(h0), c: await values(c0) } : endStates.get(r.chunk.start);
        expect(expected, `state at step ${r.chunk.start}`).toBeDefined();
        expect({ h: r.h, c: r.c }).toEqual(expected);
      }
      for (const r of records) {
        const hStart = tensor(r.h, [1, B, H], { backend: model.backend });
        const cStart = tensor(r.c, [1, B, H], { backend: model.backend });
        const numeric = await numericParamGradient(params, () => chunkLoss(r.chunk, { h: hStart, c: cStart }).loss);
        expectGradientsMatch(r.grads, numeric, 1e-6, `chunk ${r.chunk.index} param`);
        expect(r.grads.flat().some((g) => g !== 0)).toBe(true);
      }
      // With fixed parameters, the carried state after the last chunk is the full run's final state.
      const full = chunkLoss({ index: 0, start: 0, lossStart: 0, end: T }, { h: h0, c: c0 });
      expectClose(await values(final.h), await values(full.state.h), 1e-13, 1e-15);
      expectClose(await values(final.c), await values(full.state.c), 1e-13, 1e-15);
    });
  }

  it('truncation cuts the gradient: a chunk loss does not reach the parameters through the carried state', async () => {
    // With k1 = k2 = 1, chunk t's gradient only involves step t. Compare chunk 1 of a 2-step stream
    // with the full 2-step gradient of the same loss: they differ (the full one flows through step 0).
    const { model, h0, c0, chunkLoss } = setup();
    const chunk: BpttChunk = { index: 1, start: 1, lossStart: 1, end: 2 };
    const truncated: number[][] = [];
    await truncatedBptt({
      length: 2,
      k1: 1,
      initialState: { h: h0, c: c0 },
      step: async (c, state) => {
        const { loss, state: next } = chunkLoss(c, state);
        loss.backward();
        if (c.index === 1) truncated.push(...(await Promise.all(model.parameters().map((p) => values(p.grad as Tensor)))));
        model.zeroGrad();
        return next;
      },
    });
    chunkLoss({ ...chunk, start: 0 }, { h: h0, c: c0 }).loss.backward();
    const through = await Promise.all(model.parameters().map((p) => values(p.grad as Tensor)));
    expect(truncated.flat().some((g) => g !== 0)).toBe(true);
    expect(truncated).not.toEqual(through);
  });
});
