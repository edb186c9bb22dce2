import type { OptimizerUpdate } from '@recur/core/backend';
import { describe, expect, it } from 'vitest';
import { expectClose, type FixtureTensor, f64, loadFixture, values } from './helpers.js';

interface OptimizerCase {
  name: string;
  optimizer: 'SGD' | 'Adam' | 'AdamW' | 'RMSprop';
  options: Record<string, number | boolean | number[]>;
  initialParams: FixtureTensor[];
  gradsPerStep: FixtureTensor[][];
  expected: { paramsPerStep: FixtureTensor[][] };
}

const cases = loadFixture<OptimizerCase>('optimizers.json').cases;

/** The update for step `step` (1-based) of a fixture's optimizer, from its resolved torch options. */
function updateFor(c: OptimizerCase, step: number): OptimizerUpdate {
  const o = c.options as Record<string, never>;
  switch (c.optimizer) {
    case 'SGD':
      return {
        kind: 'sgd',
        lr: o.lr,
        momentum: o.momentum,
        dampening: o.dampening,
        nesterov: o.nesterov,
        weightDecay: o.weightDecay,
        firstStep: step === 1,
      };
    case 'Adam':
    case 'AdamW': {
      const [beta1, beta2] = c.options.betas as number[];
      return {
        kind: 'adam',
        lr: o.lr,
        beta1,
        beta2,
        eps: o.eps,
        weightDecay: o.weightDecay,
        decoupled: c.optimizer === 'AdamW',
        amsgrad: o.amsgrad,
        step,
      };
    }
    case 'RMSprop':
      return {
        kind: 'rmsprop',
        lr: o.lr,
        alpha: o.alpha,
        eps: o.eps,
        weightDecay: o.weightDecay,
        momentum: o.momentum,
        centered: o.centered,
      };
  }
}

const STATE_BUFFERS = { sgd: 1, adam: 3, rmsprop: 3 } as const;

describe('optimizerStep against PyTorch 1.13 (optimizers.json)', () => {
  it('covers every optimizer', () => {
    expect(new Set(cases.map((c) => c.optimizer))).toEqual(new Set(['SGD', 'Adam', 'AdamW', 'RMSprop']));
  });

  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_, c) => {
    const params = c.initialParams.map((p) => f64.upload(p.data));
    const kind = updateFor(c, 1).kind;
    const states = params.map((p) => Array.from({ length: STATE_BUFFERS[kind] }, () => f64.fill(p.length, 0)));
    for (let s = 0; s < c.gradsPerStep.length; s++) {
      const update = updateFor(c, s + 1);
      params.forEach((p, i) => {
        f64.optimizerStep(update, p, f64.upload(c.gradsPerStep[s][i].data), states[i]);
      });
      for (let i = 0; i < params.length; i++) {
        expectClose(await values(params[i]), c.expected.paramsPerStep[s][i].data, 1e-12);
      }
    }
  });
});
