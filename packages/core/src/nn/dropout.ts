import { mul } from '../ops/elementwise.js';
import { type OptionsSchema, option } from '../options.js';
import type { Random } from '../random.js';
import { Tensor } from '../tensor.js';
import { MODULE_OPTIONS, Module, type ModuleOptions } from './module.js';

/** An inverted-dropout mask shaped like `like`: 0 with probability p, else 1/(1 − p). */
export function dropoutMask(like: Tensor, p: number, random: Random): Tensor {
  const keepScale = 1 / (1 - p);
  const values = new Float64Array(like.size);
  for (let i = 0; i < values.length; i++) values[i] = random.next() < p ? 0 : keepScale;
  return Tensor.fromBuffer(like.backend, like.backend.upload(values), like.shape);
}

export interface DropoutOptions extends ModuleOptions {
  /** Probability of zeroing an element, in [0, 1). */
  p?: number;
}

const DROPOUT_OPTIONS: OptionsSchema<DropoutOptions> = { ...MODULE_OPTIONS, p: option.numberIn(0, 1, '[)') };

/** Inverted dropout in training mode; the identity in eval mode. */
export class Dropout extends Module {
  readonly p: number;

  constructor(options: DropoutOptions = {}) {
    super(options, { where: 'Dropout', schema: DROPOUT_OPTIONS });
    this.p = options.p ?? 0.5;
  }

  forward(x: Tensor): Tensor {
    if (!this.training || this.p === 0) return x;
    return mul(x, dropoutMask(x, this.p, this.random));
  }
}
