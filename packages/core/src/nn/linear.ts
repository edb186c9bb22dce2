import { linear } from '../ops/matmul.js';
import { type OptionsSchema, option, required } from '../options.js';
import type { Parameter, Tensor } from '../tensor.js';
import { MODULE_OPTIONS, Module, type ModuleOptions } from './module.js';

export interface LinearOptions extends ModuleOptions {
  inFeatures: number;
  outFeatures: number;
  /** Default true. */
  bias?: boolean;
}

const LINEAR_OPTIONS: OptionsSchema<LinearOptions> = {
  ...MODULE_OPTIONS,
  inFeatures: required(option.positiveInteger),
  outFeatures: required(option.positiveInteger),
  bias: option.boolean,
};

/** `y = x·Wᵀ + b` with PyTorch's layout and default init U(−1/√in, 1/√in). */
export class Linear extends Module {
  readonly weight: Parameter;
  readonly bias: Parameter | null;

  constructor(options: LinearOptions) {
    super(options, { where: 'Linear', schema: LINEAR_OPTIONS });
    const { inFeatures, outFeatures } = options;
    const bound = 1 / Math.sqrt(inFeatures);
    this.weight = this.addParameter('weight', (n) => this.random.uniformArray(n, -bound, bound), [outFeatures, inFeatures]);
    this.bias = (options.bias ?? true) ? this.addParameter('bias', (n) => this.random.uniformArray(n, -bound, bound), [outFeatures]) : null;
  }

  forward(x: Tensor): Tensor {
    return linear(x, this.weight, this.bias);
  }
}
