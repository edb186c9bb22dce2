/**
 * Every optimizer passes its current `lr` (and nothing the caller passed at construction) to
 * the kernel, and checks `lr` at every step. The update objects reaching the backend are
 * recorded by a spy around the float64 JS backend.
 */
import { Adam, AdamW, Parameter, RMSprop, SGD, tensor, ValueRangeError } from '@recur/core';
import type { OptimizerUpdate } from '@recur/core/backend';
import { describe, expect, it } from 'vitest';
import { countingBackend, expectClose, expectError, f64, implementation, values } from './helpers.js';

function spyBackend() {
  const inner = f64();
  const updates: OptimizerUpdate[] = [];
  const { backend } = countingBackend(inner, {
    optimizerStep: (update, param, grad, state) => {
      updates.push({ ...update });
      implementation(inner).optimizerStep(update, param, grad, state);
    },
  });
  return { backend, updates };
}

const MAKERS = {
  SGD: (ps: Parameter[]) => new SGD(ps, { lr: 0.5 }),
  'SGD with momentum and weight decay': (ps: Parameter[]) => new SGD(ps, { lr: 0.5, momentum: 0.9, weightDecay: 0.1 }),
  Adam: (ps: Parameter[]) => new Adam(ps, { lr: 0.5, weightDecay: 0.1 }),
  AdamW: (ps: Parameter[]) => new AdamW(ps, { lr: 0.5 }),
  RMSprop: (ps: Parameter[]) => new RMSprop(ps, { lr: 0.5, momentum: 0.5, weightDecay: 0.1, centered: true }),
} as const;

/** The fields of each kind of update (backend.ts), and nothing else. */
const UPDATE_KEYS = {
  sgd: ['dampening', 'firstStep', 'kind', 'lr', 'momentum', 'nesterov', 'weightDecay'],
  adam: ['amsgrad', 'beta1', 'beta2', 'decoupled', 'eps', 'kind', 'lr', 'step', 'weightDecay'],
  rmsprop: ['alpha', 'centered', 'eps', 'kind', 'lr', 'momentum', 'weightDecay'],
};

for (const [name, make] of Object.entries(MAKERS)) {
  describe(name, () => {
    it('lr set after construction is the lr the kernel receives, step after step', () => {
      const { backend, updates } = spyBackend();
      const p = new Parameter(backend, [1, -2, 3], [3]);
      const optimizer = make([p]);
      for (const lr of [0.01, 0.2, 0]) {
        optimizer.lr = lr;
        p.grad = tensor([0.3, -0.1, 0.2], [3], { backend });
        optimizer.step();
      }
      expect(updates.map((u) => u.lr)).toEqual([0.01, 0.2, 0]);
      for (const u of updates) expect(Object.keys(u).sort()).toEqual(UPDATE_KEYS[u.kind]);
    });

    it('lr = 0 leaves the parameters exactly unchanged (weight decay included)', async () => {
      const backend = f64();
      const p = new Parameter(backend, [1, -2, 3], [3]);
      const optimizer = make([p]);
      optimizer.lr = 0;
      for (let i = 0; i < 3; i++) {
        p.grad = tensor([0.3, -0.1, 0.2], [3], { backend });
        optimizer.step();
      }
      expect(await values(p)).toEqual([1, -2, 3]);
    });

    it('a NaN, infinite, negative or non-number lr set later is a ValueRangeError at step(), before any update', async () => {
      const { backend, updates } = spyBackend();
      const p = new Parameter(backend, [1, 2], [2]);
      const optimizer = make([p]);
      p.grad = tensor([1, 1], [2], { backend });
      for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, -0.1, '0.1']) {
        optimizer.lr = bad as number;
        const shown = typeof bad === 'string' ? '"0.1"' : String(bad);
        expectError(() => optimizer.step(), ValueRangeError, `${name.split(' ')[0]}.step(): lr must be a finite number ≥ 0`, shown);
      }
      expect(updates).toEqual([]);
      expect(await values(p)).toEqual([1, 2]);
      expect(p.version).toBe(0);
    });
  });
}

describe('closed form', () => {
  it('SGD without momentum: p ← p − lr·g with the lr of each step', async () => {
    const backend = f64();
    const start = [0.5, -1.25, 2];
    const grads = [
      [0.1, 0.2, -0.3],
      [-0.5, 0.25, 1],
      [2, -1, 0.5],
    ];
    const rates = [0.3, 0.05, 1.5];
    const p = new Parameter(backend, start, [3]);
    const sgd = new SGD([p], { lr: 10 });
    let expected = start;
    for (const [i, g] of grads.entries()) {
      sgd.lr = rates[i];
      p.grad = tensor(g, [3], { backend });
      sgd.step();
      expected = expected.map((v, j) => v - rates[i] * g[j]);
    }
    expectClose(await values(p), expected, 1e-15, 1e-15);
  });

  it('hyper-parameters are explicit fields; the defaults are PyTorch’s', () => {
    const p = [new Parameter(f64(), [1], [1])];
    const sgd = new SGD(p, { lr: 0.1, momentum: 0.9 });
    expect([sgd.lr, sgd.momentum, sgd.dampening, sgd.nesterov, sgd.weightDecay]).toEqual([0.1, 0.9, 0, false, 0]);
    const adamw = new AdamW(p);
    expect([adamw.lr, adamw.beta1, adamw.beta2, adamw.eps, adamw.weightDecay, adamw.decoupled]).toEqual([
      1e-3,
      0.9,
      0.999,
      1e-8,
      0.01,
      true,
    ]);
    const adam = new Adam(p);
    expect([adam.weightDecay, adam.decoupled]).toEqual([0, false]);
    const rms = new RMSprop(p);
    expect([rms.lr, rms.alpha, rms.eps, rms.momentum, rms.centered]).toEqual([1e-2, 0.99, 1e-8, 0, false]);
  });
});
