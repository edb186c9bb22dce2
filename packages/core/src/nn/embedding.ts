import { describeShape, ShapeError, ValueRangeError } from '../errors.js';
import { gatherRows } from '../ops/shape-ops.js';
import { type OptionsSchema, option, required } from '../options.js';
import { assertValidShape, type Shape, sizeOf } from '../shape.js';
import type { Parameter, Tensor } from '../tensor.js';
import { MODULE_OPTIONS, Module, type ModuleOptions } from './module.js';

export interface EmbeddingOptions extends ModuleOptions {
  numEmbeddings: number;
  embeddingDim: number;
}

const EMBEDDING_OPTIONS: OptionsSchema<EmbeddingOptions> = {
  ...MODULE_OPTIONS,
  numEmbeddings: required(option.positiveInteger),
  embeddingDim: required(option.positiveInteger),
};

/** A lookup table `weight [numEmbeddings, embeddingDim]`, initialised N(0, 1) like PyTorch. */
export class Embedding extends Module {
  readonly numEmbeddings: number;
  readonly embeddingDim: number;
  readonly weight: Parameter;

  constructor(options: EmbeddingOptions) {
    super(options, { where: 'Embedding', schema: EMBEDDING_OPTIONS });
    this.numEmbeddings = options.numEmbeddings;
    this.embeddingDim = options.embeddingDim;
    this.weight = this.addParameter('weight', (n) => this.random.normalArray(n), [this.numEmbeddings, this.embeddingDim]);
  }

  /** Looks up token ids (flat, row-major over `shape`); returns `[...shape, embeddingDim]`. */
  forward(ids: ArrayLike<number>, shape: Shape = [ids.length]): Tensor {
    assertValidShape(shape, 'shape');
    if (sizeOf(shape) !== ids.length)
      throw new ShapeError(`Embedding: ids has ${ids.length} entries but shape ${describeShape(shape)} needs ${sizeOf(shape)}`);
    const index = new Int32Array(ids.length);
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      if (!Number.isInteger(id) || id < 0 || id >= this.numEmbeddings) {
        throw new ValueRangeError(`Embedding: ids[${i}] = ${id} is out of range [0, ${this.numEmbeddings})`);
      }
      index[i] = id;
    }
    return gatherRows(this.weight, index, [...shape, this.embeddingDim]);
  }
}
