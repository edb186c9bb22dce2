/**
 * The autograd graph refuses to give wrong gradients silently: a weight modified in place
 * between forward and backward (optimizer step, loadStateDict) and a second backward through a
 * released graph both throw AutogradError; `retainGraph` allows the second pass.
 */
import {
  AutogradError,
  type Backend,
  clipGradValue,
  LeakyRNN,
  Linear,
  LSTM,
  mul,
  OptionsError,
  Parameter,
  SGD,
  sum,
  type Tensor,
  tanh,
  tensor,
} from '@recur/core';
import { backward } from '@recur/core/backend';
import { describe, expect, it } from 'vitest';
import { expectClose, expectError, f64, randomArray, values, withoutFusedSequence } from './helpers.js';

const T = 3;
const B = 2;
const I = 2;
const H = 3;

function setup(backend: Backend) {
  const lstm = new LSTM({ inputSize: I, hiddenSize: H, backend, seed: 7 });
  const x = tensor(randomArray(11, T * B * I), [T, B, I], { backend });
  const loss = () => sum(tanh(lstm.forward(x).output));
  return { lstm, loss, params: lstm.parameters() };
}

async function gradients(params: Parameter[]): Promise<number[][]> {
  return Promise.all(params.map((p) => values(p.grad as Tensor)));
}

const paths = [
  ['fused sequence', () => f64()],
  ['unrolled', () => withoutFusedSequence(f64())],
] as const;

for (const [path, makeBackend] of paths) {
  describe(`weights modified between forward and backward (${path} path)`, () => {
    it('an optimizer step in between: AutogradError naming the parameter and the versions', async () => {
      const { lstm, loss, params } = setup(makeBackend());
      const optimizer = new SGD(params, { lr: 0.1 });
      loss().backward();
      optimizer.step(); // every parameter: version 0 → 1
      const l = loss(); // records version 1
      optimizer.step(); // version 1 → 2, with the stale gradients
      const e = expectError(() => l.backward(), AutogradError, 'was modified in place (version 1 → 2)', 'after the forward pass');
      expect(e.message).toMatch(/parameter '(weight|bias)_(ih|hh)_l0'/);
      expect(lstm.parameters().every((p) => p.version === 2)).toBe(true);
    });

    it('loadStateDict in between: AutogradError naming the parameter; the gradients are left alone', async () => {
      const { lstm, loss, params } = setup(makeBackend());
      loss().backward();
      const before = await gradients(params);
      const l = loss();
      const state = lstm.stateDict();
      const changed = Object.fromEntries(
        await Promise.all(
          Object.entries(state).map(async ([name, t]) => [name, { shape: t.shape, data: (await values(t)).map((v) => v + 1) }]),
        ),
      );
      await lstm.loadStateDict(changed);
      expectError(() => l.backward(), AutogradError, /parameter '(weight|bias)_(ih|hh)_l0'/, 'version 0 → 1');
      expect(await gradients(params)).toEqual(before);
    });

    it('the normal loop (forward, backward, step, zeroGrad, forward …) still works', async () => {
      const { loss, params } = setup(makeBackend());
      const optimizer = new SGD(params, { lr: 0.05, momentum: 0.9 });
      const losses: number[] = [];
      for (let i = 0; i < 4; i++) {
        const l = loss();
        l.backward();
        optimizer.step();
        optimizer.zeroGrad();
        losses.push(await l.item());
      }
      expect(losses.every(Number.isFinite)).toBe(true);
      expect(params[0].version).toBe(4);
    });
  });

  describe(`a second backward (${path} path)`, () => {
    it('throws AutogradError without retainGraph, and changes no gradient', async () => {
      const { loss, params } = setup(makeBackend());
      const l = loss();
      l.backward();
      const once = await gradients(params);
      expectError(() => l.backward(), AutogradError, 'already back-propagated', 'retainGraph: true');
      expect(await gradients(params)).toEqual(once);
    });

    it('with retainGraph on the first, the second adds the same gradient again (twice the first)', async () => {
      const { loss, params } = setup(makeBackend());
      const l = loss();
      l.backward({ retainGraph: true });
      const once = await gradients(params);
      l.backward();
      // Twice the first up to rounding: each time step's contribution is added to the leaf in
      // turn, so the second pass sums (g1 + g2 + g3) + g1 + g2 + g3 in another order.
      const twice = await gradients(params);
      for (const [i, g] of once.entries()) {
        expectClose(
          twice[i],
          g.map((v) => 2 * v),
          1e-13,
          1e-15,
          `param ${i}`,
        );
      }
      // That second backward released the graph.
      expectError(() => l.backward(), AutogradError, 'retainGraph');
    });
  });
}

describe('graph release and versions, in detail', () => {
  const backend = f64();

  it('two losses sharing a subgraph: the second backward needs retainGraph on the first (as in PyTorch)', async () => {
    const x = tensor([0.5, -1], [2], { backend, requiresGrad: true });
    const h = tanh(x);
    sum(h).backward();
    expectError(() => sum(mul(h, 3)).backward(), AutogradError, "'tanh'", 'retainGraph');

    const y = tensor([0.5, -1], [2], { backend, requiresGrad: true });
    const k = tanh(y);
    sum(k).backward({ retainGraph: true });
    sum(mul(k, 3)).backward();
    const d = [0.5, -1].map((v) => 1 - Math.tanh(v) ** 2);
    expect(await values(y.grad as Tensor)).toEqual(d.map((v) => v + 3 * v));
  });

  it('backward(grad, { retainGraph }) and the function form backward(root, seed, options)', async () => {
    const x = tensor([1, 2], [2], { backend, requiresGrad: true });
    const y = mul(x, x);
    const seed = tensor([1, 1], [2], { backend });
    y.backward(seed, { retainGraph: true });
    backward(y, seed, { retainGraph: true });
    backward(y, seed);
    expect(await values(x.grad as Tensor)).toEqual([6, 12]);
    expectError(() => backward(y, seed), AutogradError, 'retainGraph');
  });

  it('backward options are checked; grad must be a tensor', () => {
    const x = tensor([1], [1], { backend, requiresGrad: true });
    expectError(() => sum(x).backward({ retain_graph: true } as never), OptionsError, "did you mean 'retainGraph'?");
    expectError(() => mul(x, 2).backward(2 as never), OptionsError, 'grad must be a Tensor', 'received 2');
  });

  it("LeakyRNN's tau: a learned tau is named when changed; a fixed one is read in the forward pass only", async () => {
    const x = tensor([1, 2], [2, 1, 1], { backend });
    const learned = new LeakyRNN({ inputSize: 1, hiddenSize: 2, tau: 2, learnTau: true, backend, seed: 1 });
    const l = sum(learned.forward(x).output);
    await learned.loadStateDict({ tau_l0: { shape: [2], data: [3, 3] } }, { strict: false });
    expectError(() => l.backward(), AutogradError, "parameter 'tau_l0' [2]");
    // A fixed tau (a buffer, no gradient) enters the graph through 1/τ computed in the forward
    // pass, so the backward pass never reads it: changing it afterwards is not an error.
    const fixed = new LeakyRNN({ inputSize: 1, hiddenSize: 2, tau: 2, backend, seed: 1 });
    const m = sum(fixed.forward(x).output);
    await fixed.loadStateDict({ tau_l0: { shape: [2], data: [3, 3] } }, { strict: false });
    m.backward();
  });

  it('views share the version: a detached view in the graph sees its parameter change', () => {
    const p = new Parameter(backend, [1, 2], [2]);
    const view = p.detach();
    const x = tensor([3, 4], [2], { backend, requiresGrad: true });
    const l = sum(mul(x, view)); // backward reads the view's values
    p.grad = tensor([1, 1], [2], { backend });
    new SGD([p], { lr: 0.5 }).step();
    expect(view.version).toBe(1);
    expectError(() => l.backward(), AutogradError, `${view}`, 'version 0 → 1');
  });

  it('clipGradValue modifies gradients in place, so a graph that read a gradient sees it', () => {
    const p = new Parameter(backend, [1], [1]);
    p.grad = tensor([5], [1], { backend });
    const x = tensor([2], [1], { backend, requiresGrad: true });
    const l = sum(mul(x, p.grad));
    clipGradValue([p], 1);
    expectError(() => l.backward(), AutogradError, 'modified in place');
  });

  it('a Linear layer: the error names its weight', () => {
    const linear = new Linear({ inFeatures: 2, outFeatures: 1, backend, seed: 3 });
    const x = tensor([1, 2], [1, 2], { backend, requiresGrad: true });
    linear.weight.grad = tensor([1, 1], [1, 2], { backend });
    const l = sum(linear.forward(x));
    new SGD([linear.weight], { lr: 0.1 }).step();
    expectError(() => l.backward(), AutogradError, "parameter 'weight' [1, 2]");
  });
});
