/**
 * Learning-rate schedules (PyTorch's `torch.optim.lr_scheduler`): each sets `optimizer.lr`,
 * which the optimizer's next `step()` passes to the backend. Call the scheduler's `step()` once
 * per epoch (or per batch, as the schedule is meant), after `optimizer.step()`.
 */
import { OptionsError, ValueRangeError } from '../errors.js';
import { checkOptions, describeValue, type OptionSpec, type OptionsSchema, option, required } from '../options.js';
import { Optimizer } from './optimizers.js';

/**
 * PyTorch's `initial_lr`: the rate an optimizer had when its first scheduler was made. Every
 * later scheduler on that optimizer starts from it too, so schedulers made one after another
 * for a `SequentialLR` (whose construction each changed `optimizer.lr`) share one base rate.
 */
const initialRates = new WeakMap<Optimizer, number>();

function initialRate(where: string, optimizer: Optimizer): number {
  if (!(optimizer instanceof Optimizer)) {
    throw new OptionsError(`${where}: optimizer must be an Optimizer (SGD, Adam, AdamW, RMSprop), received ${describeValue(optimizer)}`);
  }
  let rate = initialRates.get(optimizer);
  if (rate === undefined) {
    rate = optimizer.lr;
    if (typeof rate !== 'number' || !Number.isFinite(rate) || rate < 0) {
      throw new ValueRangeError(`${where}: the optimizer's lr must be a finite number ≥ 0, received ${describeValue(rate)}`);
    }
    initialRates.set(optimizer, rate);
  }
  return rate;
}

export interface LRSchedulerState {
  /** Number of `step()` calls so far (PyTorch's `last_epoch`). */
  stepCount: number;
}

const SCHEDULER_STATE: OptionsSchema<LRSchedulerState> = { stepCount: required(option.nonNegativeInteger) };

/**
 * A schedule in closed form: after `t` calls of `step()` the rate is `schedule(t, baseLr)`.
 * Construction applies `t = 0` at once (a warm-up's first rate is already its start rate).
 * Subclass with a schedule function: `super('MyLR', optimizer, (t, base) => base / (1 + t))`.
 */
export abstract class LRScheduler {
  readonly optimizer: Optimizer;
  /** The rate the schedule starts from (see `initialRates`). */
  readonly baseLr: number;
  private steps = 0;
  private last: number;

  constructor(
    protected readonly where: string,
    optimizer: Optimizer,
    private readonly schedule: (step: number, baseLr: number) => number,
  ) {
    this.baseLr = initialRate(where, optimizer);
    this.optimizer = optimizer;
    this.last = this.apply(0);
  }

  /** The rate after `step` calls of `step()`. */
  lrAt(step: number): number {
    return this.schedule(step, this.baseLr);
  }

  /** Advances the schedule by one and sets the optimizer's rate. */
  step(): void {
    this.steps++;
    this.last = this.apply(this.steps);
  }

  /** The rate the last `step()` (or the construction) set. */
  get lastLr(): number {
    return this.last;
  }

  /** PyTorch's name for `lastLr` (one value: Recur's optimizers have one parameter group). */
  getLastLr(): number {
    return this.last;
  }

  get stepCount(): number {
    return this.steps;
  }

  stateDict(): LRSchedulerState {
    return { stepCount: this.steps };
  }

  /** Resumes the schedule at a saved step count and sets the optimizer's rate accordingly. */
  loadStateDict(state: LRSchedulerState): void {
    checkOptions(`${this.where}.loadStateDict`, state, SCHEDULER_STATE);
    this.steps = state.stepCount;
    this.last = this.apply(this.steps);
  }

  private apply(step: number): number {
    const lr = this.lrAt(step);
    this.optimizer.lr = lr;
    return lr;
  }
}

export interface StepLROptions {
  /** Steps between decays. */
  stepSize: number;
  /** Factor applied every `stepSize` steps (default 0.1). */
  gamma?: number;
}

const STEP_LR_OPTIONS: OptionsSchema<StepLROptions> = { stepSize: required(option.positiveInteger), gamma: option.nonNegativeNumber };

/** PyTorch's `StepLR`: `lr = baseLr · gamma^⌊t / stepSize⌋`. */
export class StepLR extends LRScheduler {
  readonly stepSize: number;
  readonly gamma: number;

  constructor(optimizer: Optimizer, options: StepLROptions) {
    checkOptions('StepLR', options, STEP_LR_OPTIONS);
    const { stepSize, gamma = 0.1 } = options;
    super('StepLR', optimizer, (t, base) => base * gamma ** Math.floor(t / stepSize));
    this.stepSize = stepSize;
    this.gamma = gamma;
  }
}

export interface CosineAnnealingLROptions {
  /** Steps from the base rate down to `etaMin` (half a period). */
  tMax: number;
  /** The lowest rate (default 0). */
  etaMin?: number;
}

const COSINE_OPTIONS: OptionsSchema<CosineAnnealingLROptions> = {
  tMax: required(option.positiveInteger),
  etaMin: option.nonNegativeNumber,
};

/**
 * PyTorch's `CosineAnnealingLR` (SGDR without restarts):
 * `lr = etaMin + (baseLr − etaMin)·(1 + cos(π·t / tMax)) / 2`. Past `tMax` the rate rises
 * again along the same cosine, as PyTorch's does; stop stepping at `tMax` to hold `etaMin`.
 */
export class CosineAnnealingLR extends LRScheduler {
  readonly tMax: number;
  readonly etaMin: number;

  constructor(optimizer: Optimizer, options: CosineAnnealingLROptions) {
    checkOptions('CosineAnnealingLR', options, COSINE_OPTIONS);
    const { tMax, etaMin = 0 } = options;
    super('CosineAnnealingLR', optimizer, (t, base) => etaMin + ((base - etaMin) * (1 + Math.cos((Math.PI * t) / tMax))) / 2);
    this.tMax = tMax;
    this.etaMin = etaMin;
  }
}

export interface LinearLROptions {
  /** Factor of the base rate at step 0, in (0, 1] (default 1/3). */
  startFactor?: number;
  /** Factor reached at `totalIters` and kept after, in [0, 1] (default 1). */
  endFactor?: number;
  /** Steps from the start factor to the end factor (default 5). */
  totalIters?: number;
}

const LINEAR_OPTIONS: OptionsSchema<LinearLROptions> = {
  startFactor: option.numberIn(0, 1, '(]'),
  endFactor: option.numberIn(0, 1, '[]'),
  totalIters: option.positiveInteger,
};

/**
 * PyTorch's `LinearLR`, the usual linear warm-up: the factor goes linearly from `startFactor`
 * to `endFactor` over `totalIters` steps, `lr = baseLr·(start + (end − start)·min(t, total)/total)`.
 * Follow it with another schedule through `SequentialLR`.
 */
export class LinearLR extends LRScheduler {
  readonly startFactor: number;
  readonly endFactor: number;
  readonly totalIters: number;

  constructor(optimizer: Optimizer, options: LinearLROptions = {}) {
    checkOptions('LinearLR', options, LINEAR_OPTIONS);
    const { startFactor = 1 / 3, endFactor = 1, totalIters = 5 } = options;
    super('LinearLR', optimizer, (t, base) => base * (startFactor + ((endFactor - startFactor) * Math.min(t, totalIters)) / totalIters));
    this.startFactor = startFactor;
    this.endFactor = endFactor;
    this.totalIters = totalIters;
  }
}

export interface SequentialLROptions {
  /** Schedules on the same optimizer, run one after another. */
  schedulers: LRScheduler[];
  /** Steps at which the next schedule takes over (one fewer than `schedulers`, increasing). */
  milestones: number[];
}

const milestones: OptionSpec = {
  expected: 'an increasing array of positive integers',
  required: true,
  check(value, what) {
    if (!Array.isArray(value)) throw new OptionsError(`${what} must be ${this.expected}, received ${describeValue(value)}`);
    value.forEach((m, i) => {
      option.positiveInteger.check(m, `${what}[${i}]`);
      if (i > 0 && m <= value[i - 1]) throw new ValueRangeError(`${what} must be increasing, received ${describeValue(value)}`);
    });
  },
};

const SEQUENTIAL_OPTIONS: OptionsSchema<SequentialLROptions> = {
  schedulers: required(option.arrayOf(LRScheduler, 'an LRScheduler (StepLR, LinearLR, …)')),
  milestones,
};

/**
 * PyTorch's `SequentialLR`: `schedulers[i]` runs from `milestones[i − 1]` on, restarted at its
 * own step 0 (e.g. a `LinearLR` warm-up, then `CosineAnnealingLR`). Step only this scheduler.
 */
export class SequentialLR extends LRScheduler {
  readonly schedulers: readonly LRScheduler[];
  readonly milestones: readonly number[];

  constructor(optimizer: Optimizer, options: SequentialLROptions) {
    checkOptions('SequentialLR', options, SEQUENTIAL_OPTIONS);
    const schedulers = [...options.schedulers];
    const marks = [...options.milestones];
    if (schedulers.length === 0 || marks.length !== schedulers.length - 1) {
      throw new ValueRangeError(
        `SequentialLR: milestones must hold one fewer entry than schedulers (${schedulers.length}), received ${marks.length}`,
      );
    }
    schedulers.forEach((s, i) => {
      if (s.optimizer !== optimizer) throw new OptionsError(`SequentialLR: schedulers[${i}] belongs to another optimizer`);
    });
    super('SequentialLR', optimizer, (t) => {
      let phase = 0;
      while (phase < marks.length && t >= marks[phase]) phase++;
      return schedulers[phase].lrAt(t - (phase === 0 ? 0 : marks[phase - 1]));
    });
    this.schedulers = schedulers;
    this.milestones = marks;
  }
}

export interface ReduceLROnPlateauOptions {
  /** Whether lower (`'min'`, default: a loss) or higher (`'max'`: an accuracy) metrics are better. */
  mode?: 'min' | 'max';
  /** Factor applied to the rate on a plateau, in [0, 1) (default 0.1). */
  factor?: number;
  /** Steps without improvement tolerated before reducing (default 10). */
  patience?: number;
  /** Smallest change that counts as an improvement (default 1e-4). */
  threshold?: number;
  /** `'rel'` (default): relative to the best metric; `'abs'`: absolute. */
  thresholdMode?: 'rel' | 'abs';
  /** Steps after a reduction during which no plateau is counted (default 0). */
  cooldown?: number;
  /** The rate is never reduced below this (default 0). */
  minLr?: number;
  /** A reduction smaller than this is skipped (default 1e-8). */
  eps?: number;
}

const PLATEAU_OPTIONS: OptionsSchema<ReduceLROnPlateauOptions> = {
  mode: option.oneOf('min', 'max'),
  factor: option.numberIn(0, 1, '[)'),
  patience: option.nonNegativeInteger,
  threshold: option.nonNegativeNumber,
  thresholdMode: option.oneOf('rel', 'abs'),
  cooldown: option.nonNegativeInteger,
  minLr: option.nonNegativeNumber,
  eps: option.nonNegativeNumber,
};

export interface ReduceLROnPlateauState {
  stepCount: number;
  /** The best metric so far (±Infinity before the first). */
  best: number;
  numBadSteps: number;
  cooldownCounter: number;
  /** The optimizer's rate when saved (restored on load: a plateau schedule has no closed form). */
  lr: number;
}

const PLATEAU_STATE: OptionsSchema<ReduceLROnPlateauState> = {
  stepCount: required(option.nonNegativeInteger),
  best: required(numberOrInfinity()),
  numBadSteps: required(option.nonNegativeInteger),
  cooldownCounter: required(option.nonNegativeInteger),
  lr: required(option.nonNegativeNumber),
};

function numberOrInfinity(): OptionSpec {
  return {
    expected: 'a number',
    required: false,
    check(value, what) {
      if (typeof value !== 'number' || Number.isNaN(value))
        throw new OptionsError(`${what} must be a number, received ${describeValue(value)}`);
    },
  };
}

/**
 * PyTorch's `ReduceLROnPlateau`: `step(metric)` after each evaluation; when the metric has not
 * improved by more than `threshold` for more than `patience` steps, the rate is multiplied by
 * `factor` (not below `minLr`), then `cooldown` steps pass before plateaus count again. It
 * reads and changes `optimizer.lr` itself, so it has no closed form and cannot join a
 * `SequentialLR`. A NaN metric never counts as an improvement.
 */
export class ReduceLROnPlateau {
  readonly optimizer: Optimizer;
  readonly mode: 'min' | 'max';
  readonly factor: number;
  readonly patience: number;
  readonly threshold: number;
  readonly thresholdMode: 'rel' | 'abs';
  readonly cooldown: number;
  readonly minLr: number;
  readonly eps: number;
  private steps = 0;
  private best: number;
  private numBadSteps = 0;
  private cooldownCounter = 0;
  private last: number;

  constructor(optimizer: Optimizer, options: ReduceLROnPlateauOptions = {}) {
    checkOptions('ReduceLROnPlateau', options, PLATEAU_OPTIONS);
    if (!(optimizer instanceof Optimizer)) {
      throw new OptionsError(
        `ReduceLROnPlateau: optimizer must be an Optimizer (SGD, Adam, AdamW, RMSprop), received ${describeValue(optimizer)}`,
      );
    }
    this.optimizer = optimizer;
    this.mode = options.mode ?? 'min';
    this.factor = options.factor ?? 0.1;
    this.patience = options.patience ?? 10;
    this.threshold = options.threshold ?? 1e-4;
    this.thresholdMode = options.thresholdMode ?? 'rel';
    this.cooldown = options.cooldown ?? 0;
    this.minLr = options.minLr ?? 0;
    this.eps = options.eps ?? 1e-8;
    this.best = this.mode === 'min' ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
    this.last = optimizer.lr;
  }

  /** Records one evaluation of the monitored metric and reduces the rate on a plateau. */
  step(metric: number): void {
    if (typeof metric !== 'number') {
      throw new OptionsError(
        `ReduceLROnPlateau.step(metric): metric must be a number (read a loss tensor with await loss.item()), received ${describeValue(metric)}`,
      );
    }
    this.steps++;
    if (this.isImprovement(metric)) {
      this.best = metric;
      this.numBadSteps = 0;
    } else {
      this.numBadSteps++;
    }
    if (this.cooldownCounter > 0) {
      this.cooldownCounter--;
      this.numBadSteps = 0;
    }
    if (this.numBadSteps > this.patience) {
      const current = this.optimizer.lr;
      const reduced = Math.max(current * this.factor, this.minLr);
      if (current - reduced > this.eps) this.optimizer.lr = reduced;
      this.cooldownCounter = this.cooldown;
      this.numBadSteps = 0;
    }
    this.last = this.optimizer.lr;
  }

  private isImprovement(metric: number): boolean {
    const { best, threshold } = this;
    if (this.mode === 'min') return this.thresholdMode === 'rel' ? metric < best * (1 - threshold) : metric < best - threshold;
    return this.thresholdMode === 'rel' ? metric > best * (1 + threshold) : metric > best + threshold;
  }

  get lastLr(): number {
    return this.last;
  }

  getLastLr(): number {
    return this.last;
  }

  get stepCount(): number {
    return this.steps;
  }

  stateDict(): ReduceLROnPlateauState {
    const { steps: stepCount, best, numBadSteps, cooldownCounter } = this;
    return { stepCount, best, numBadSteps, cooldownCounter, lr: this.optimizer.lr };
  }

  loadStateDict(state: ReduceLROnPlateauState): void {
    checkOptions('ReduceLROnPlateau.loadStateDict', state, PLATEAU_STATE);
    this.steps = state.stepCount;
    this.best = state.best;
    this.numBadSteps = state.numBadSteps;
    this.cooldownCounter = state.cooldownCounter;
    this.optimizer.lr = state.lr;
    this.last = state.lr;
  }
}
