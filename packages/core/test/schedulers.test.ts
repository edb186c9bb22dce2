/**
 * Learning-rate schedulers. Expected rates are worked out by hand from PyTorch's documented
 * formulas (StepLR: base·γ^⌊t/s⌋; CosineAnnealingLR: η_min + (base − η_min)(1 + cos(πt/T))/2;
 * LinearLR: base·(start + (end − start)·min(t, T)/T); ReduceLROnPlateau: its documented rules).
 */
import {
  CosineAnnealingLR,
  LinearLR,
  type Optimizer,
  OptionsError,
  Parameter,
  ReduceLROnPlateau,
  SequentialLR,
  SGD,
  StepLR,
  tensor,
  ValueRangeError,
} from '@recur/core';
import type { OptimizerUpdate } from '@recur/core/backend';
import { describe, expect, it } from 'vitest';
import { countingBackend, expectClose, expectError, f64, implementation } from './helpers.js';

const sgd = (lr: number) => new SGD([new Parameter(f64(), [1], [1])], { lr });

/** The rate at construction, then after each of `steps` calls of `step()`. */
function trace(scheduler: { step(): void; lastLr: number; optimizer: Optimizer }, steps: number): number[] {
  const rates = [scheduler.optimizer.lr];
  expect(scheduler.lastLr).toBe(rates[0]);
  for (let i = 0; i < steps; i++) {
    scheduler.step();
    expect(scheduler.lastLr).toBe(scheduler.optimizer.lr);
    rates.push(scheduler.optimizer.lr);
  }
  return rates;
}

describe('StepLR', () => {
  it('base 0.1, stepSize 3, gamma 0.5', () => {
    expectClose(trace(new StepLR(sgd(0.1), { stepSize: 3, gamma: 0.5 }), 7), [0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025], 1e-15);
  });
  it('gamma defaults to 0.1', () => {
    expectClose(trace(new StepLR(sgd(1), { stepSize: 1 }), 2), [1, 0.1, 0.01], 1e-15);
  });
});

describe('CosineAnnealingLR', () => {
  it('base 0.1, tMax 4, etaMin 0.01; past tMax it rises again along the cosine (as PyTorch’s)', () => {
    const c = (1 + Math.SQRT1_2) / 2; // (1 + cos(π/4)) / 2
    const expected = [0.1, 0.01 + 0.09 * c, 0.01 + 0.09 * 0.5, 0.01 + 0.09 * (1 - c), 0.01, 0.01 + 0.09 * (1 - c)];
    expectClose(trace(new CosineAnnealingLR(sgd(0.1), { tMax: 4, etaMin: 0.01 }), 5), expected, 1e-14, 1e-17);
  });
});

describe('LinearLR (warm-up)', () => {
  it('base 0.2, factor 0.25 → 1 over 4 steps, then held', () => {
    expectClose(
      trace(new LinearLR(sgd(0.2), { startFactor: 0.25, totalIters: 4 }), 6),
      [0.05, 0.0875, 0.125, 0.1625, 0.2, 0.2, 0.2],
      1e-14,
    );
  });
  it('defaults: 1/3 → 1 over 5 steps', () => {
    expectClose(trace(new LinearLR(sgd(0.3)), 5), [0.1, 0.14, 0.18, 0.22, 0.26, 0.3], 1e-14);
  });
});

describe('SequentialLR', () => {
  it('linear warm-up for 2 steps, then cosine from the base rate (restarted at its step 0)', () => {
    const optimizer = sgd(1);
    const warmup = new LinearLR(optimizer, { startFactor: 0.5, totalIters: 2 });
    // Made after the warm-up changed optimizer.lr to 0.5, the cosine still starts from 1.
    const cosine = new CosineAnnealingLR(optimizer, { tMax: 2 });
    expect(cosine.baseLr).toBe(1);
    const schedule = new SequentialLR(optimizer, { schedulers: [warmup, cosine], milestones: [2] });
    expectClose(trace(schedule, 4), [0.5, 0.75, 1, 0.5, 0], 1e-15, 1e-16);
  });

  it('checks its schedulers and milestones', () => {
    const optimizer = sgd(1);
    const a = new StepLR(optimizer, { stepSize: 1 });
    const b = new StepLR(optimizer, { stepSize: 2 });
    expectError(() => new SequentialLR(optimizer, { schedulers: [a, b], milestones: [] }), ValueRangeError, 'one fewer', 'received 0');
    expectError(() => new SequentialLR(optimizer, { schedulers: [a, b, a], milestones: [3, 2] }), ValueRangeError, 'increasing');
    expectError(() => new SequentialLR(optimizer, { schedulers: [a, 'b'], milestones: [1] } as never), OptionsError, "'schedulers'[1]");
    const other = new StepLR(sgd(1), { stepSize: 1 });
    expectError(
      () => new SequentialLR(optimizer, { schedulers: [a, other], milestones: [1] }),
      OptionsError,
      'schedulers[1] belongs to another optimizer',
    );
  });
});

describe('ReduceLROnPlateau', () => {
  it("mode 'min', relative threshold 0.1, patience 2, cooldown 1, factor 0.5, minLr 0.02", () => {
    const optimizer = sgd(0.1);
    const plateau = new ReduceLROnPlateau(optimizer, { factor: 0.5, patience: 2, threshold: 0.1, cooldown: 1, minLr: 0.02 });
    const metrics = [1, 1, 0.95, 0.92, 0.5, 0.5, 0.47, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5];
    const rates = metrics.map((m) => {
      plateau.step(m);
      return plateau.lastLr;
    });
    // Step 1 sets best = 1; steps 2–4 are bad (1, 0.95 and 0.92 are not < 0.9: within the
    // threshold): after the third, lr halves and a cooldown step follows; step 5 improves
    // (0.5 < 0.9) and is the cooldown step; steps 6–8 are bad (0.5 and 0.47 are not < 0.45):
    // halve; step 9 is cooldown; 10–12 bad: 0.0125 is clipped to minLr 0.02; 13 cooldown;
    // 14–16 bad: 0.02 cannot go lower, so it stays.
    expectClose(rates, [0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.05, 0.025, 0.025, 0.025, 0.025, 0.02, 0.02, 0.02, 0.02, 0.02], 1e-15);
    expect(optimizer.lr).toBe(0.02);
  });

  it('cooldown 2 with patience 0: two steps after each reduction are not counted', () => {
    const plateau = new ReduceLROnPlateau(sgd(1), { patience: 0, cooldown: 2, factor: 0.5 });
    const rates = [1, 1, 1, 1, 1, 1, 1, 1].map((m) => {
      plateau.step(m);
      return plateau.lastLr;
    });
    // Step 1 sets the best; 2 is bad: halve; 3 and 4 are cooldown; 5 bad: halve; 6, 7 cooldown; 8 halve.
    expect(rates).toEqual([1, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.125]);
  });

  it('a reduction smaller than eps is skipped', () => {
    const optimizer = sgd(1.5e-8);
    const plateau = new ReduceLROnPlateau(optimizer, { patience: 0, factor: 0.5 });
    plateau.step(1);
    plateau.step(1); // 1.5e-8 → 7.5e-9 would change it by 7.5e-9 ≤ eps 1e-8
    expect(optimizer.lr).toBe(1.5e-8);
    const coarse = new ReduceLROnPlateau(sgd(1.5e-8), { patience: 0, factor: 0.5, eps: 1e-9 });
    coarse.step(1);
    coarse.step(1);
    expect(coarse.lastLr).toBe(7.5e-9);
  });

  it("mode 'max' with an absolute threshold; patience 0", () => {
    const plateau = new ReduceLROnPlateau(sgd(1), { mode: 'max', thresholdMode: 'abs', threshold: 0.05, patience: 0, factor: 0.1 });
    const rates = [0.5, 0.52, 0.6, 0.6].map((m) => {
      plateau.step(m);
      return plateau.lastLr;
    });
    // 0.52 is not > 0.5 + 0.05: reduce; 0.6 > 0.55 improves; 0.6 is not > 0.65: reduce.
    expectClose(rates, [1, 0.1, 0.1, 0.01], 1e-15);
  });

  it('a NaN metric is never an improvement; a tensor passed as the metric is an OptionsError', () => {
    const optimizer = sgd(1);
    const plateau = new ReduceLROnPlateau(optimizer, { patience: 0 });
    plateau.step(1);
    plateau.step(Number.NaN);
    expect(optimizer.lr).toBeCloseTo(0.1, 15);
    const loss = tensor([1], [], { backend: f64() });
    expectError(() => plateau.step(loss as never), OptionsError, 'metric must be a number', 'loss.item()');
  });

  it('stateDict / loadStateDict resume the plateau counters and the rate', () => {
    const first = new ReduceLROnPlateau(sgd(1), { patience: 1 });
    for (const m of [3, 3, 3]) first.step(m);
    const saved = first.stateDict();
    expect(saved).toEqual({ stepCount: 3, best: 3, numBadSteps: 0, cooldownCounter: 0, lr: 0.1 });
    const optimizer = sgd(1);
    const resumed = new ReduceLROnPlateau(optimizer, { patience: 1 });
    resumed.loadStateDict(saved);
    expect(optimizer.lr).toBe(0.1);
    resumed.step(3);
    resumed.step(3);
    expect(optimizer.lr).toBeCloseTo(0.01, 15);
  });
});

describe('every scheduler', () => {
  it('the scheduled rate is the one the kernel receives', () => {
    const inner = f64();
    const rates: number[] = [];
    const { backend } = countingBackend(inner, {
      optimizerStep: (update: OptimizerUpdate, param, grad, state) => {
        rates.push(update.lr);
        implementation(inner).optimizerStep(update, param, grad, state);
      },
    });
    const p = new Parameter(backend, [1, 2], [2]);
    const optimizer = new SGD([p], { lr: 0.8, momentum: 0.5 });
    const scheduler = new StepLR(optimizer, { stepSize: 2, gamma: 0.25 });
    for (let i = 0; i < 5; i++) {
      p.grad = tensor([1, 1], [2], { backend });
      optimizer.step();
      scheduler.step();
    }
    expectClose(rates, [0.8, 0.8, 0.2, 0.2, 0.05], 1e-15);
  });

  it('stateDict / loadStateDict resume a closed-form schedule', () => {
    const first = new CosineAnnealingLR(sgd(0.1), { tMax: 10 });
    for (let i = 0; i < 3; i++) first.step();
    const optimizer = sgd(0.1);
    const resumed = new CosineAnnealingLR(optimizer, { tMax: 10 });
    resumed.loadStateDict(first.stateDict());
    expect(resumed.stepCount).toBe(3);
    expect(optimizer.lr).toBe(first.lastLr);
    expect(resumed.getLastLr()).toBe(first.getLastLr());
    expectError(() => resumed.loadStateDict({ stepCount: -1 }), ValueRangeError, 'stepCount');
  });

  it('options are checked', () => {
    const optimizer = sgd(0.1);
    expectError(() => new StepLR(optimizer, { step_size: 2 } as never), OptionsError, "StepLR: unknown option 'step_size'", "'stepSize'");
    expectError(() => new StepLR(optimizer, {} as never), OptionsError, "option 'stepSize' is required");
    expectError(() => new CosineAnnealingLR(optimizer, { T_max: 5 } as never), OptionsError, "did you mean 'tMax'?");
    expectError(() => new LinearLR(optimizer, { startFactor: 0 }), ValueRangeError, 'startFactor', '(0, 1]');
    expectError(() => new ReduceLROnPlateau(optimizer, { mode: 'minimum' } as never), OptionsError, "'min', 'max'");
    expectError(() => new ReduceLROnPlateau(optimizer, { factor: 1 }), ValueRangeError, 'factor', '[0, 1)');
    expectError(() => new StepLR({ lr: 0.1 } as never, { stepSize: 1 }), OptionsError, 'optimizer must be an Optimizer');
    const broken = sgd(0.1);
    broken.lr = Number.NaN;
    expectError(() => new StepLR(broken, { stepSize: 1 }), ValueRangeError, "optimizer's lr", 'NaN');
  });
});
