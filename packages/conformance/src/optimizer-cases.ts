/**
 * The learning rate an optimizer is given after construction (directly, or by a scheduler)
 * must be the one the backend's kernel applies. Each case steps real `Optimizer`s on the
 * backend under test and compares the parameters with an independent float64 computation:
 * closed form for plain SGD (p − lr·g), otherwise the reference backend's `optimizerStep`
 * called with update objects written out here, holding the rates the schedule must produce.
 */
import { Adam, AdamW, type Backend, LinearLR, type Optimizer, Parameter, RMSprop, SGD, tensor } from '@recur/core';
import { OPTIMIZER_STATE_COUNT, type OptimizerUpdate } from '@recur/core/backend';
import { expectClose } from './compare.js';
import { data, tolerance } from './cross-backend.js';
import type { SuiteCase } from './suite-types.js';

const SHAPES = [[3, 4], [4]];
const STEPS = 4;
/** Constructed with this rate, which must never reach the kernel. */
const CONSTRUCTION_LR = 1;
/**
 * Step 1 runs at 0.04 (set directly); then `LinearLR(startFactor 0.5, totalIters 2)` made from
 * that base gives 0.04·0.5, 0.04·0.75 and 0.04 for steps 2 to 4.
 */
const RATES = [0.04, 0.02, 0.03, 0.04];

interface OptimizerKind {
  name: string;
  make(params: Parameter[]): Optimizer;
  /** The kernel arguments of the `step`-th update (1-based) at rate `lr`; null for plain SGD (closed form). */
  update: ((lr: number, step: number) => OptimizerUpdate) | null;
}

const KINDS: OptimizerKind[] = [
  { name: 'SGD', make: (ps) => new SGD(ps, { lr: CONSTRUCTION_LR }), update: null },
  {
    name: 'SGD with momentum 0.9, dampening 0.1, weight decay 0.01',
    make: (ps) => new SGD(ps, { lr: CONSTRUCTION_LR, momentum: 0.9, dampening: 0.1, weightDecay: 0.01 }),
    update: (lr, step) => ({ kind: 'sgd', lr, momentum: 0.9, dampening: 0.1, nesterov: false, weightDecay: 0.01, firstStep: step === 1 }),
  },
  {
    name: 'Adam with amsgrad and weight decay 0.1',
    make: (ps) => new Adam(ps, { lr: CONSTRUCTION_LR, amsgrad: true, weightDecay: 0.1 }),
    update: (lr, step) => ({
      kind: 'adam',
      lr,
      beta1: 0.9,
      beta2: 0.999,
      eps: 1e-8,
      weightDecay: 0.1,
      decoupled: false,
      amsgrad: true,
      step,
    }),
  },
  {
    name: 'AdamW (weight decay 0.01)',
    make: (ps) => new AdamW(ps, { lr: CONSTRUCTION_LR }),
    update: (lr, step) => ({
      kind: 'adam',
      lr,
      beta1: 0.9,
      beta2: 0.999,
      eps: 1e-8,
      weightDecay: 0.01,
      decoupled: true,
      amsgrad: false,
      step,
    }),
  },
  {
    name: 'RMSprop, centered, momentum 0.5, weight decay 0.01',
    make: (ps) => new RMSprop(ps, { lr: CONSTRUCTION_LR, centered: true, momentum: 0.5, weightDecay: 0.01 }),
    update: (lr) => ({ kind: 'rmsprop', lr, alpha: 0.99, eps: 1e-8, weightDecay: 0.01, momentum: 0.5, centered: true }),
  },
];

const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
const initial = (i: number) => data(70 + i, size(SHAPES[i]));
const gradient = (step: number, i: number) => data(80 + 10 * step + i, size(SHAPES[i]));

/** Steps `optimizer` on the subject with the rates of `RATES`: the first set directly, the rest by a scheduler. */
function runScheduled(subject: Backend, kind: OptimizerKind): { params: Parameter[]; optimizer: Optimizer } {
  const params = SHAPES.map((shape, i) => new Parameter(subject, initial(i), shape));
  const optimizer = kind.make(params);
  optimizer.lr = RATES[0];
  let scheduler: LinearLR | null = null;
  for (let step = 1; step <= STEPS; step++) {
    for (const [i, p] of params.entries()) {
      p.zeroGrad();
      p.grad = tensor(gradient(step, i), SHAPES[i], { backend: subject });
    }
    optimizer.step();
    if (scheduler) scheduler.step();
    else scheduler = new LinearLR(optimizer, { startFactor: 0.5, totalIters: 2 });
  }
  return { params, optimizer };
}

/** The parameters after `RATES`, in float64, independently of the Optimizer classes. */
async function expectedParams(reference: Backend, kind: OptimizerKind): Promise<Float64Array[]> {
  return Promise.all(
    SHAPES.map(async (_, i) => {
      const param = Float64Array.from(initial(i));
      const update = kind.update;
      if (!update) {
        for (let step = 1; step <= STEPS; step++) {
          const g = gradient(step, i);
          for (let j = 0; j < param.length; j++) param[j] -= RATES[step - 1] * g[j];
        }
        return param;
      }
      const p = reference.upload(param);
      const state = Array.from({ length: OPTIMIZER_STATE_COUNT[update(0, 1).kind] }, () => reference.fill(param.length, 0));
      for (let step = 1; step <= STEPS; step++) {
        const g = reference.upload(gradient(step, i));
        reference.optimizerStep(update(RATES[step - 1], step), p, g, state);
        reference.dispose(g);
      }
      const result = Float64Array.from(await reference.read(p));
      for (const b of [p, ...state]) reference.dispose(b);
      return result;
    }),
  );
}

function dispose({ params, optimizer }: { params: Parameter[]; optimizer: Optimizer }): void {
  optimizer.dispose();
  for (const p of params) p.dispose();
}

function scheduledCase(kind: OptimizerKind): SuiteCase {
  return {
    group: 'cross-backend',
    name: `optimizer: ${kind.name}, lr set after construction and by a scheduler reaches the kernel`,
    run: async (subject, reference) => {
      const run = runScheduled(subject, kind);
      const expected = await expectedParams(reference, kind);
      const tol = tolerance(subject, 10, `${STEPS} optimizer steps, a few roundings each`);
      for (const [i, p] of run.params.entries()) expectClose(`parameter ${i} after ${STEPS} steps`, await p.toArray(), expected[i], tol);
      dispose(run);
    },
  };
}

/** After steps that fill the optimizer's state, lr = 0 must leave every parameter exactly as it was. */
function zeroRateCase(kind: OptimizerKind): SuiteCase {
  return {
    group: 'cross-backend',
    name: `optimizer: ${kind.name}, lr changed to 0 after steps leaves the parameters unchanged`,
    run: async (subject) => {
      const run = runScheduled(subject, kind);
      const before = await Promise.all(run.params.map(async (p) => Array.from(await p.toArray())));
      run.optimizer.lr = 0;
      for (const [i, p] of run.params.entries()) {
        p.zeroGrad();
        p.grad = tensor(gradient(STEPS + 1, i), SHAPES[i], { backend: subject });
      }
      run.optimizer.step();
      for (const [i, p] of run.params.entries()) {
        const after = Array.from(await p.toArray());
        const moved = after.findIndex((v, j) => v !== before[i][j]);
        if (moved >= 0) throw new Error(`parameter ${i}[${moved}] moved from ${before[i][moved]} to ${after[moved]} with lr 0`);
      }
      dispose(run);
    },
  };
}

/** Every optimizer, through its public class: the rate it is given later is the rate applied. */
export function optimizerCases(): SuiteCase[] {
  return KINDS.flatMap((kind) => [scheduledCase(kind), zeroRateCase(kind)]);
}
