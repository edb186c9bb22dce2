import { createJsBackend, JsBackend } from '@recur/backend-js';
import type { Backend } from '@recur/core/backend';
import { describe, expect, it } from 'vitest';
import { esnCases } from '../src/esn-cases.js';

/**
 * The ESN cases must be able to fail: each backend below carries one plausible bug in a kernel
 * the ESN uses, and the named case must reject it while passing the unmodified backend.
 */
function sabotage(patch: (base: JsBackend) => Partial<Backend>): Backend {
  const base = new JsBackend();
  return Object.assign(Object.create(base) as Backend, patch(base));
}

const bugs: { bug: string; backend: () => Backend; caseName: string }[] = [
  {
    bug: 'tanh 0.1% too small',
    backend: () =>
      sabotage((b) => ({
        unary: (op, x, p, p2, out) => {
          const y = b.unary.call(b, op, x, p, p2, out);
          return op === 'tanh' ? b.unary.call(b, 'scale', y, 0.999, undefined, y) : y;
        },
      })),
    caseName: 'ESN esn_2layer_batch_first_leak1_given_h0',
  },
  {
    bug: 'scale multiplies by 1% more than asked (the leaky update x + α(x̃ − x))',
    backend: () =>
      sabotage((b) => ({
        unary: (op, x, p, p2, out) => b.unary.call(b, op, x, op === 'scale' && p !== undefined ? p * 1.01 : p, p2, out),
      })),
    caseName: 'ESN esn_1layer_varlen_given_h0',
  },
  {
    bug: 'the backward gemm of x·Wᵀ forgets to transpose W (dL/dx wrong, forward right)',
    backend: () =>
      sabotage((b) => ({
        // The input gradient of linear is g·W: a gemm without transposes whose k equals n.
        gemm: (x, y, o, out) => b.gemm.call(b, x, y, !o.transA && !o.transB && o.k === o.n && o.m > 1 ? { ...o, transB: true } : o, out),
      })),
    caseName: 'ESN esn_2layer_varlen',
  },
  {
    bug: 'read drops the last value (fitRidge reads states through it)',
    backend: () =>
      sabotage((b) => ({
        read: async (x) => {
          const values = await b.read.call(b, x);
          if (values.length > 1) values[values.length - 1] = 0;
          return values;
        },
      })),
    caseName: 'ESN fitRidge ridge_intercept_washout vs numpy.linalg.solve',
  },
  {
    bug: 'slice on axis 0 starts one row late (chunks of a streamed fit)',
    backend: () =>
      sabotage((b) => ({
        slice: (x, shape, axis, start, length) =>
          b.slice.call(b, x, shape, axis, axis === 0 && start > 0 && start + length < shape[0] ? start + 1 : start, length),
      })),
    caseName: 'ESN fitRidge ridge_lengths, streamed in chunks',
  },
  {
    bug: 'tanh 0.1% too small, against the float64 reference',
    backend: () =>
      sabotage((b) => ({
        unary: (op, x, p, p2, out) => {
          const y = b.unary.call(b, op, x, p, p2, out);
          return op === 'tanh' ? b.unary.call(b, 'scale', y, 0.999, undefined, y) : y;
        },
      })),
    caseName: 'model: esn, 2 layers, hidden 16, leak rate 0.4, T 9, variable lengths',
  },
];

describe('the ESN conformance cases detect known bugs', () => {
  const cases = esnCases();
  const reference = createJsBackend({ dtype: 'float64' });
  for (const { bug, backend, caseName } of bugs) {
    it(`${bug} → fails '${caseName}'`, async () => {
      const c = cases.find((x) => x.name === caseName);
      if (!c) throw new Error(`no case '${caseName}'`);
      const context = { create: async () => createJsBackend() };
      await expect(c.run(createJsBackend(), reference, context)).resolves.toBeUndefined();
      await expect(c.run(backend(), reference, context)).rejects.toThrow();
    });
  }
});
