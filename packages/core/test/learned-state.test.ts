/**
 * Learned initial states (`learnInitialState`) and unbatched input `[T, I]`: names, shapes,
 * precedence, gradients (closed form and finite differences), the fused inference path, and
 * the typed errors.
 */
import { type Backend, GRU, LSTM, noGrad, OptionsError, type Parameter, RNN, ShapeError, type Tensor, tensor } from '@recur/core';
import type { FusedKernels } from '@recur/core/backend';
import { describe, expect, it } from 'vitest';
import {
  countingBackend,
  expectClose,
  expectError,
  f64,
  implementation,
  paramGradCheck,
  randomArray,
  values,
  withoutFusedSequence,
} from './helpers.js';

const T = 3;
const B = 2;
const I = 2;
const H = 3;

function params(model: { namedParameters(): Iterable<[string, Parameter]> }): Record<string, Parameter> {
  return Object.fromEntries(model.namedParameters());
}

describe('learnInitialState', () => {
  it('registers h0_l{k} (and c0_l{k}) [D, 1, width] after each layer’s cells, zeros at first', async () => {
    const backend = f64();
    const lstm = new LSTM({ inputSize: I, hiddenSize: H, numLayers: 2, bidirectional: true, learnInitialState: true, backend, seed: 1 });
    const names = [...lstm.namedParameters()].map(([n, p]) => `${n} [${p.shape}]`);
    expect(names.slice(8, 10)).toEqual(['h0_l0 [2,1,3]', 'c0_l0 [2,1,3]']);
    expect(names.slice(18)).toEqual(['h0_l1 [2,1,3]', 'c0_l1 [2,1,3]']);
    expect(names[10]).toBe('weight_ih_l1 [12,6]');
    expect(await values(params(lstm).c0_l1)).toEqual(new Array(6).fill(0));
    // The other parameters are the draws of the same seed without learned states.
    const plain = params(new LSTM({ inputSize: I, hiddenSize: H, numLayers: 2, bidirectional: true, backend, seed: 1 }));
    expect(await values(params(lstm).weight_hh_l1_reverse)).toEqual(await values(plain.weight_hh_l1_reverse));
    const projected = new LSTM({ inputSize: I, hiddenSize: H, projSize: 2, learnInitialState: true, backend });
    expect([params(projected).h0_l0.shape, params(projected).c0_l0.shape]).toEqual([
      [1, 1, 2],
      [1, 1, 3],
    ]);
    expect(Object.keys(params(new GRU({ inputSize: I, hiddenSize: H, learnInitialState: true, backend })))).toContain('h0_l0');
    expect(Object.keys(params(new GRU({ inputSize: I, hiddenSize: H, learnInitialState: true, backend })))).not.toContain('c0_l0');
  });

  for (const [path, makeBackend] of [
    ['fused', f64],
    ['unrolled', () => withoutFusedSequence(f64())],
  ] as const) {
    it(`starts every sequence from the learned state, as if it had been passed broadcast (${path} path)`, async () => {
      const backend = makeBackend();
      const common = { inputSize: I, hiddenSize: H, numLayers: 2, bidirectional: true, backend, seed: 2 };
      const learned = new LSTM({ ...common, learnInitialState: true });
      const plain = new LSTM(common);
      const p = params(learned);
      const starts: Record<string, number[]> = {};
      for (const [i, name] of ['h0_l0', 'c0_l0', 'h0_l1', 'c0_l1'].entries()) {
        starts[name] = randomArray(40 + i, 2 * H);
        p[name].copyFrom(starts[name]);
      }
      // [L·D, B, H] with row layer·D + d holding the learned [H] of (layer, d) for every sequence.
      const broadcast = (prefix: string) =>
        [0, 1].flatMap((layer) => [0, 1].flatMap((d) => [0, 1].flatMap(() => starts[`${prefix}_l${layer}`].slice(d * H, (d + 1) * H))));
      const x = tensor(randomArray(3, T * B * I), [T, B, I], { backend });
      const a = learned.forward(x, { lengths: [3, 2] });
      const b = plain.forward(x, {
        h0: tensor(broadcast('h0'), [4, B, H], { backend }),
        c0: tensor(broadcast('c0'), [4, B, H], { backend }),
        lengths: [3, 2],
      });
      expectClose(await values(a.output), await values(b.output), 1e-14, 1e-15, 'output');
      expectClose(await values(a.cN as Tensor), await values(b.cN as Tensor), 1e-14, 1e-15, 'cN');
      // A given state wins over the learned one, slot by slot.
      const h0 = tensor(randomArray(5, 4 * B * H), [4, B, H], { backend });
      const c = learned.forward(x, { h0, lengths: [3, 2] });
      const d = plain.forward(x, { h0, c0: tensor(broadcast('c0'), [4, B, H], { backend }), lengths: [3, 2] });
      expectClose(await values(c.hN), await values(d.hN), 1e-14, 1e-15, 'hN with h0 given');
    });
  }

  it('the learned state’s gradient is the initial state’s gradient summed over the batch', async () => {
    const backend = f64();
    const common = { inputSize: I, hiddenSize: H, backend, seed: 4 };
    const learned = new GRU({ ...common, learnInitialState: true });
    const plain = new GRU(common);
    const start = randomArray(6, H);
    params(learned).h0_l0.copyFrom(start);
    const x = tensor(randomArray(7, T * B * I), [T, B, I], { backend });
    const w = tensor(randomArray(8, T * B * H), [T, B, H], { backend });
    learned.forward(x).output.mul(w).sum().backward();
    const h0 = tensor([...start, ...start], [1, B, H], { backend, requiresGrad: true });
    plain.forward(x, { h0 }).output.mul(w).sum().backward();
    const perSequence = await values(h0.grad as Tensor);
    const expected = start.map((_, j) => perSequence[j] + perSequence[H + j]);
    expectClose(await values(params(learned).h0_l0.grad as Tensor), expected, 1e-13, 1e-15);
  });

  it('gradients of the learned states (and every other parameter) match finite differences', async () => {
    const backend = f64();
    const model = new LSTM({
      inputSize: I,
      hiddenSize: 4,
      projSize: 2,
      numLayers: 2,
      bidirectional: true,
      learnInitialState: true,
      backend,
      seed: 6,
    });
    for (const [name, p] of model.namedParameters()) if (/^[hc]0_/.test(name)) p.copyFrom(randomArray(name.length + p.size, p.size));
    const x = tensor(randomArray(9, T * B * I), [T, B, I], { backend });
    const r = randomArray(10, T * B * 4);
    const loss = () => {
      const out = model.forward(x, { lengths: [2, 3] });
      return out.output
        .mul(tensor(r, out.output.shape, { backend }))
        .sum()
        .add((out.cN as Tensor).sum());
    };
    await paramGradCheck(model.parameters(), loss);
  });

  it('inference: the fused stack path runs from the learned states, not from zeros', async () => {
    const inner = f64();
    let stackCalls = 0;
    const { sequence, stack } = implementation(inner).fused;
    const fused: FusedKernels = {
      sequence,
      stack: stack && {
        forward: (args) => {
          stackCalls++;
          expect(args.h0).toBeDefined();
          return stack.forward(args);
        },
      },
    };
    const backend = countingBackend(inner, { fused }).backend;
    const model = new RNN({ inputSize: I, hiddenSize: H, numLayers: 2, learnInitialState: true, backend, seed: 8 });
    params(model).h0_l1.copyFrom(randomArray(11, H));
    const x = tensor(randomArray(12, T * B * I), [T, B, I], { backend });
    const recorded = await values(model.forward(x).output);
    const inference = await values(noGrad(() => model.forward(x).output));
    expect(stackCalls).toBe(1);
    expectClose(inference, recorded, 1e-14, 1e-15);
  });

  it('typed error for a non-boolean', () => {
    expectError(
      () => new GRU({ inputSize: 1, hiddenSize: 1, learnInitialState: 1 as never, backend: f64() }),
      OptionsError,
      "option 'learnInitialState'",
    );
  });
});

describe('unbatched input [T, I]', () => {
  const build = (backend: Backend, batchFirst: boolean) =>
    new LSTM({ inputSize: I, hiddenSize: H, numLayers: 2, bidirectional: true, batchFirst, backend, seed: 5 });

  for (const batchFirst of [false, true]) {
    it(`equals the batched run with B = 1, output [T, D·H] and states [L·D, H] (batchFirst ${batchFirst} is ignored)`, async () => {
      const backend = f64();
      const model = build(backend, batchFirst);
      const xs = randomArray(13, T * I);
      const h0 = randomArray(14, 4 * H);
      const c0 = randomArray(15, 4 * H);
      const un = model.forward(tensor(xs, [T, I], { backend }), {
        h0: tensor(h0, [4, H], { backend }),
        c0: tensor(c0, [4, H], { backend }),
      });
      const batched = model.forward(tensor(xs, batchFirst ? [1, T, I] : [T, 1, I], { backend }), {
        h0: tensor(h0, [4, 1, H], { backend }),
        c0: tensor(c0, [4, 1, H], { backend }),
      });
      expect([un.output.shape, un.hN.shape, un.cN?.shape, un.lastHidden().shape]).toEqual([[T, 2 * H], [4, H], [4, H], [2 * H]]);
      expect(await values(un.output)).toEqual(await values(batched.output));
      expect(await values(un.hN)).toEqual(await values(batched.hN));
      expect(await values(un.cN as Tensor)).toEqual(await values(batched.cN as Tensor));
      expect(await values(un.lastCell())).toEqual(await values(batched.lastCell()));
    });
  }

  it('gradients flow to the unbatched input and states', async () => {
    const backend = f64();
    const model = new GRU({ inputSize: I, hiddenSize: H, resetAfter: false, backend, seed: 2 });
    const x = tensor(randomArray(16, T * I), [T, I], { backend, requiresGrad: true });
    const h0 = tensor(randomArray(17, H), [1, H], { backend, requiresGrad: true });
    const w = randomArray(18, T * H);
    const out = model.forward(x, { h0 });
    out.output
      .mul(tensor(w, [T, H], { backend }))
      .sum()
      .backward();
    expect((x.grad as Tensor).shape).toEqual([T, I]);
    expect((h0.grad as Tensor).shape).toEqual([1, H]);
    await paramGradCheck(model.parameters(), () =>
      model
        .forward(x, { h0 })
        .output.mul(tensor(w, [T, H], { backend }))
        .sum(),
    );
  });

  it('typed errors name the state and the unbatched shape expected', () => {
    const backend = f64();
    const model = build(backend, false);
    const x = tensor(new Float64Array(T * I), [T, I], { backend });
    expectError(
      () => model.forward(x, { h0: tensor(new Float64Array(4 * H), [4, 1, H], { backend }) }),
      ShapeError,
      'h0 must be [4, 3] for unbatched input',
    );
    expectError(() => model.forward(x, { c0: tensor(new Float64Array(2 * H), [2, H], { backend }) }), ShapeError, 'c0 must be [4, 3]');
    expectError(
      () => model.forward(tensor(new Float64Array(T * 4), [T, 4], { backend })),
      ShapeError,
      'or [T, 2] (unbatched)',
      'received [3, 4]',
    );
    expectError(() => model.forward(tensor(new Float64Array(T), [T], { backend })), ShapeError, 'received [3]');
  });
});
