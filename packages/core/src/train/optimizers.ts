import type { BackendBuffer, OptimizerUpdate } from '../backend/interface.js';
import { OptionsError, ValueRangeError } from '../errors.js';
import { checkOptions, describeValue, type OptionSpec, type OptionsSchema, option, required } from '../options.js';
import type { Parameter } from '../tensor.js';

/**
 * Hyper-parameters: every optimizer keeps them as explicit fields checked at construction and
 * builds each `OptimizerUpdate` from those fields alone, so nothing the caller passed (an
 * unknown key, a stale copy of `lr`) can reach the kernel.
 *
 * `lr` is the one mutable field: learning-rate schedules set it between steps (PyTorch's
 * `param_group['lr']`), and `step()` checks it (finite, ≥ 0) every time, before any update.
 * The others are readonly: PyTorch lets every param-group value change, but only the rate is
 * scheduled in practice, and checking the others at every step would cost each step for
 * nothing; build a new optimizer to change them.
 */
export abstract class Optimizer {
  readonly params: Parameter[];
  /** The learning rate of the next `step()`; may be changed between steps (schedulers do). */
  lr: number;
  private readonly state = new Map<Parameter, { buffers: BackendBuffer[]; steps: number }>();

  constructor(
    /** The optimizer's name in messages (`SGD`). */
    protected readonly where: string,
    params: Iterable<Parameter>,
    lr: number,
    private readonly stateCount: number,
  ) {
    this.params = [...params];
    if (this.params.length === 0) throw new ValueRangeError(`${where}: params must contain at least one parameter, received none`);
    this.lr = lr;
  }

  /** The kernel's arguments for a parameter's `steps`-th update (1-based), from the fields only. */
  protected abstract update(steps: number): OptimizerUpdate;

  /**
   * Applies one update to every parameter that has a gradient. The parameters change in place,
   * so a graph recorded before this call can no longer be back-propagated (see `bumpVersion`).
   */
  step(): void {
    if (typeof this.lr !== 'number' || !Number.isFinite(this.lr) || this.lr < 0) {
      throw new ValueRangeError(`${this.where}.step(): lr must be a finite number ≥ 0, received ${describeValue(this.lr)}`);
    }
    for (const p of this.params) {
      if (!p.grad) continue;
      let s = this.state.get(p);
      if (!s) {
        s = { buffers: Array.from({ length: this.stateCount }, () => p.backend.fill(p.size, 0)), steps: 0 };
        this.state.set(p, s);
      }
      s.steps++;
      p.backend.optimizerStep(this.update(s.steps), p.buffer, p.grad.buffer, s.buffers);
      p.bumpVersion();
    }
  }

  /** Disposes every parameter's gradient. */
  zeroGrad(): void {
    for (const p of this.params) p.zeroGrad();
  }

  /** Releases the optimizer's state buffers. */
  dispose(): void {
    for (const [p, s] of this.state) for (const b of s.buffers) p.backend.dispose(b);
    this.state.clear();
  }
}

const learningRate = option.nonNegativeNumber;

export interface SGDOptions {
  lr: number;
  momentum?: number;
  dampening?: number;
  nesterov?: boolean;
  weightDecay?: number;
}

const SGD_OPTIONS: OptionsSchema<SGDOptions> = {
  lr: required(learningRate),
  momentum: option.nonNegativeNumber,
  dampening: option.finiteNumber,
  nesterov: option.boolean,
  weightDecay: option.nonNegativeNumber,
};

/** PyTorch's `optim.SGD`: weight decay, momentum (buffer starts at the first gradient), Nesterov. */
export class SGD extends Optimizer {
  readonly momentum: number;
  readonly dampening: number;
  readonly nesterov: boolean;
  readonly weightDecay: number;

  constructor(params: Iterable<Parameter>, options: SGDOptions) {
    checkOptions('SGD', options, SGD_OPTIONS);
    super('SGD', params, options.lr, 1);
    this.momentum = options.momentum ?? 0;
    this.dampening = options.dampening ?? 0;
    this.nesterov = options.nesterov ?? false;
    this.weightDecay = options.weightDecay ?? 0;
    if (this.nesterov && (this.momentum <= 0 || this.dampening !== 0)) {
      throw new ValueRangeError('SGD: nesterov requires momentum > 0 and dampening 0');
    }
  }

  protected update(steps: number): OptimizerUpdate {
    const { lr, momentum, dampening, nesterov, weightDecay } = this;
    return { kind: 'sgd', lr, momentum, dampening, nesterov, weightDecay, firstStep: steps === 1 };
  }
}

export interface AdamOptions {
  lr?: number;
  betas?: [number, number];
  eps?: number;
  weightDecay?: number;
  amsgrad?: boolean;
}

const beta = option.numberIn(0, 1, '[)');
const betas: OptionSpec = {
  expected: 'two numbers in [0, 1), e.g. [0.9, 0.999]',
  required: false,
  check(value, what) {
    if (!Array.isArray(value) || value.length !== 2)
      throw new OptionsError(`${what} must be ${this.expected}, received ${describeValue(value)}`);
    for (const [i, b] of value.entries()) beta.check(b, `${what}[${i}]`);
  },
};

const ADAM_OPTIONS: OptionsSchema<AdamOptions> = {
  lr: learningRate,
  betas,
  eps: option.nonNegativeNumber,
  weightDecay: option.nonNegativeNumber,
  amsgrad: option.boolean,
};

/** PyTorch's `optim.Adam` (L2 weight decay added to the gradient). */
export class Adam extends Optimizer {
  /** Adam or AdamW: its name, whether weight decay is decoupled, and its default decay. */
  protected static readonly variant = { where: 'Adam', decoupled: false, defaultWeightDecay: 0 };
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  readonly amsgrad: boolean;
  /** AdamW: the weights decay directly instead of through the gradient. */
  readonly decoupled: boolean;

  constructor(params: Iterable<Parameter>, options: AdamOptions = {}) {
    const variant = (new.target as typeof Adam).variant;
    checkOptions(variant.where, options, ADAM_OPTIONS);
    super(variant.where, params, options.lr ?? 1e-3, 3);
    [this.beta1, this.beta2] = options.betas ?? [0.9, 0.999];
    this.eps = options.eps ?? 1e-8;
    this.weightDecay = options.weightDecay ?? variant.defaultWeightDecay;
    this.amsgrad = options.amsgrad ?? false;
    this.decoupled = variant.decoupled;
  }

  protected update(step: number): OptimizerUpdate {
    const { lr, beta1, beta2, eps, weightDecay, amsgrad, decoupled } = this;
    return { kind: 'adam', lr, beta1, beta2, eps, weightDecay, amsgrad, decoupled, step };
  }
}

/** PyTorch's `optim.AdamW`: decoupled weight decay (default 0.01). */
export class AdamW extends Adam {
  protected static override readonly variant = { where: 'AdamW', decoupled: true, defaultWeightDecay: 0.01 };
}

export interface RMSpropOptions {
  lr?: number;
  alpha?: number;
  eps?: number;
  weightDecay?: number;
  momentum?: number;
  centered?: boolean;
}

const RMSPROP_OPTIONS: OptionsSchema<RMSpropOptions> = {
  lr: learningRate,
  alpha: option.numberIn(0, 1, '[)'),
  eps: option.nonNegativeNumber,
  weightDecay: option.nonNegativeNumber,
  momentum: option.nonNegativeNumber,
  centered: option.boolean,
};

/** PyTorch's `optim.RMSprop` (eps outside the square root; optional centering and momentum). */
export class RMSprop extends Optimizer {
  readonly alpha: number;
  readonly eps: number;
  readonly weightDecay: number;
  readonly momentum: number;
  readonly centered: boolean;

  constructor(params: Iterable<Parameter>, options: RMSpropOptions = {}) {
    checkOptions('RMSprop', options, RMSPROP_OPTIONS);
    super('RMSprop', params, options.lr ?? 1e-2, 3);
    this.alpha = options.alpha ?? 0.99;
    this.eps = options.eps ?? 1e-8;
    this.weightDecay = options.weightDecay ?? 0;
    this.momentum = options.momentum ?? 0;
    this.centered = options.centered ?? false;
  }

  protected update(): OptimizerUpdate {
    const { lr, alpha, eps, weightDecay, momentum, centered } = this;
    return { kind: 'rmsprop', lr, alpha, eps, weightDecay, momentum, centered };
  }
}
