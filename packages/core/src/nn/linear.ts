import { linear } from '../ops/matmul.js';
import type { Parameter, Tensor } from '../tensor.js';
import { assertPositiveInteger } from './cells.js';
import { Module, type ModuleOptions } from './module.js';

export interface LinearOptions extends ModuleOptions {
  inFeatures: number;
  outFeatures: number;
  /** Default true. */
  bias?: boolean;
}

/** `y = x·Wᵀ + b` with PyTorch's layout and default init U(−1/√in, 1/√in). */
export class Linear extends Module {
  readonly weight: Parameter;
  readonly bias: Parameter | null;

  constructor(options: LinearOptions) {
    super(options);
    assertPositiveInteger(options.inFeatures, 'inFeatures');
    assertPositiveInteger(options.outFeatures, 'outFeatures');
    const { inFeatures, outFeatures } = options;
    const bound = 1 / Math.sqrt(inFeatures);
    this.weight = this.addParameter('weight', (n) => this.random.uniformArray(n, -bound, bound), [outFeatures, inFeatures]);
    this.bias = (options.bias ?? true) ? this.addParameter('bias', (n) => this.random.uniformArray(n, -bound, bound), [outFeatures]) : null;
  }

  forward(x: Tensor): Tensor {
    return linear(x, this.weight, this.bias);
  }
}
