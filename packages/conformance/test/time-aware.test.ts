import { createJsBackend, JsBackend } from '@recur/backend-js';
import type { Backend } from '@recur/core';
import { describe, expect, it } from 'vitest';
import { conformanceCases } from '../src/index.js';

/**
 * The time-aware cases must be able to fail: each backend below carries one bug that touches
 * only GRU-D's decays, and the named case must reject it while passing the honest backend.
 */
function sabotage(patch: (base: JsBackend) => Partial<Backend>): Backend {
  const base = new JsBackend();
  return Object.assign(Object.create(base) as Backend, patch(base));
}

const bugs: { bug: string; backend: () => Backend; caseName: string }[] = [
  {
    // relu's derivative is `step`: a step of 0 everywhere stops the gradient at max(0, ·) where
    // the decay's pre-activation is positive (the forward pass is unchanged).
    bug: 'step is 0 everywhere, so no gradient passes the decays’ max(0, ·)',
    backend: () =>
      sabotage((b) => ({ unary: (op, x, p, p2, out) => b.unary.call(b, op === 'step' ? 'scale' : op, x, op === 'step' ? 0 : p, p2, out) })),
    caseName: 'finite-differences:GRU-D: parameters, x, δ, h0',
  },
  {
    bug: 'step is 0 everywhere (the same bug, against PyTorch’s gradients)',
    backend: () =>
      sabotage((b) => ({ unary: (op, x, p, p2, out) => b.unary.call(b, op === 'step' ? 'scale' : op, x, op === 'step' ? 0 : p, p2, out) })),
    caseName: 'pytorch:GRU-D grud_per_sequence_timestamps (tensors)',
  },
  {
    bug: 'exp is 1% too large (the decays γ_x, γ_h)',
    backend: () =>
      sabotage((b) => ({
        unary: (op, x, p, p2, out) =>
          op === 'exp' ? b.unary.call(b, 'scale', b.unary.call(b, 'exp', x), 1.01) : b.unary.call(b, op, x, p, p2, out),
      })),
    caseName: 'cross-backend:model: GRU-D, hidden 16, T 9, variable lengths, half the values missing',
  },
];

describe('the time-aware cases detect bugs', () => {
  const reference = createJsBackend({ dtype: 'float64' });
  const honest = createJsBackend();
  const cases = conformanceCases();
  for (const { bug, backend, caseName } of bugs) {
    it(`${bug} → fails '${caseName}'`, async () => {
      const [group, name] = caseName.split(/:(.*)/s);
      const c = cases.find((x) => x.group === group && x.name === name);
      if (!c) throw new Error(`no case '${caseName}'`);
      const context = { create: async () => createJsBackend() };
      await expect(c.run(honest, reference, context)).resolves.toBeUndefined();
      await expect(c.run(backend(), reference, context)).rejects.toThrow();
    });
  }
});
