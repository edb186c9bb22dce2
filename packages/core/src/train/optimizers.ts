import type { BackendBuffer, OptimizerUpdate } from '../backend/interface.js';
import { ValueRangeError } from '../errors.js';
import type { Parameter } from '../tensor.js';

function checkHyper(name: string, value: number, low: number, high = Number.POSITIVE_INFINITY, lowInclusive = true): void {
  const ok = Number.isFinite(value) && (lowInclusive ? value >= low : value > low) && value < high;
  if (!ok) throw new ValueRangeError(`${name} must be in ${lowInclusive ? '[' : '('}${low}, ${high}), received ${value}`);
}

/**
 * Shared machinery: per-parameter state buffers created on first use and one fused backend
 * update per parameter. Parameters without a gradient are skipped, like PyTorch.
 */
export abstract class Optimizer {
  readonly params: Parameter[];
  private readonly state = new Map<Parameter, { buffers: BackendBuffer[]; steps: number }>();

  constructor(
    params: Iterable<Parameter>,
    private readonly stateCount: number,
  ) {
    this.params = [...params];
    if (this.params.length === 0) throw new ValueRangeError('optimizer: params must contain at least one parameter, received none');
  }

  protected abstract update(steps: number): OptimizerUpdate;

  /** Applies one update to every parameter that has a gradient. */
  step(): void {
    for (const p of this.params) {
      if (!p.grad) continue;
      let s = this.state.get(p);
      if (!s) {
        s = { buffers: Array.from({ length: this.stateCount }, () => p.backend.fill(p.size, 0)), steps: 0 };
        this.state.set(p, s);
      }
      s.steps++;
      p.backend.optimizerStep(this.update(s.steps), p.buffer, p.grad.buffer, s.buffers);
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

export interface SGDOptions {
  lr: number;
  momentum?: number;
  dampening?: number;
  nesterov?: boolean;
  weightDecay?: number;
}

/** PyTorch's `optim.SGD`: weight decay, momentum (buffer starts at the first gradient), Nesterov. */
export class SGD extends Optimizer {
  lr: number;
  readonly options: Required<Omit<SGDOptions, 'lr'>>;

  constructor(params: Iterable<Parameter>, options: SGDOptions) {
    super(params, 1);
    this.lr = options.lr;
    this.options = { momentum: 0, dampening: 0, nesterov: false, weightDecay: 0, ...options };
    checkHyper('lr', options.lr, 0);
    checkHyper('momentum', this.options.momentum, 0);
    checkHyper('weightDecay', this.options.weightDecay, 0);
    if (this.options.nesterov && (this.options.momentum <= 0 || this.options.dampening !== 0)) {
      throw new ValueRangeError('SGD: nesterov requires momentum > 0 and dampening 0');
    }
  }

  protected update(steps: number): OptimizerUpdate {
    return { kind: 'sgd', lr: this.lr, ...this.options, firstStep: steps === 1 };
  }
}

export interface AdamOptions {
  lr?: number;
  betas?: [number, number];
  eps?: number;
  weightDecay?: number;
  amsgrad?: boolean;
}

/** PyTorch's `optim.Adam` (L2 weight decay added to the gradient). */
export class Adam extends Optimizer {
  lr: number;
  protected readonly decoupled: boolean = false;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  readonly amsgrad: boolean;

  constructor(params: Iterable<Parameter>, options: AdamOptions = {}, defaultWeightDecay = 0) {
    super(params, 3);
    this.lr = options.lr ?? 1e-3;
    [this.beta1, this.beta2] = options.betas ?? [0.9, 0.999];
    this.eps = options.eps ?? 1e-8;
    this.weightDecay = options.weightDecay ?? defaultWeightDecay;
    this.amsgrad = options.amsgrad ?? false;
    checkHyper('lr', this.lr, 0);
    checkHyper('betas[0]', this.beta1, 0, 1);
    checkHyper('betas[1]', this.beta2, 0, 1);
    checkHyper('eps', this.eps, 0);
    checkHyper('weightDecay', this.weightDecay, 0);
  }

  protected update(step: number): OptimizerUpdate {
    const { lr, beta1, beta2, eps, weightDecay, amsgrad, decoupled } = this;
    return { kind: 'adam', lr, beta1, beta2, eps, weightDecay, amsgrad, decoupled, step };
  }
}

/** PyTorch's `optim.AdamW`: decoupled weight decay (default 0.01). */
export class AdamW extends Adam {
  protected override readonly decoupled = true;

  constructor(params: Iterable<Parameter>, options: AdamOptions = {}) {
    super(params, options, 0.01);
  }
}

export interface RMSpropOptions {
  lr?: number;
  alpha?: number;
  eps?: number;
  weightDecay?: number;
  momentum?: number;
  centered?: boolean;
}

/** PyTorch's `optim.RMSprop` (eps outside the square root; optional centering and momentum). */
export class RMSprop extends Optimizer {
  lr: number;
  readonly options: Required<Omit<RMSpropOptions, 'lr'>>;

  constructor(params: Iterable<Parameter>, options: RMSpropOptions = {}) {
    super(params, 3);
    this.lr = options.lr ?? 1e-2;
    this.options = { alpha: 0.99, eps: 1e-8, weightDecay: 0, momentum: 0, centered: false, ...options };
    checkHyper('lr', this.lr, 0);
    checkHyper('alpha', this.options.alpha, 0, 1, true);
    checkHyper('eps', this.options.eps, 0);
    checkHyper('momentum', this.options.momentum, 0);
    checkHyper('weightDecay', this.options.weightDecay, 0);
  }

  protected update(): OptimizerUpdate {
    return { kind: 'rmsprop', lr: this.lr, ...this.options };
  }
}
