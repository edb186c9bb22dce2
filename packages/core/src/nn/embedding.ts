import { describeShape, ShapeError, ValueRangeError } from '../errors.js';
import { type IntTensor, indexArgument } from '../int-tensor.js';
import { gatherRows } from '../ops/shape-ops.js';
import { describeValue, type OptionsSchema, option, required } from '../options.js';
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

  /**
   * Looks up token ids; returns `[...shape, embeddingDim]`. `ids` is an int32 tensor
   * (`tensor(ids, [T, B], { dtype: 'int32' })`), whose shape is used, or flat host ids, row-major
   * over `shape` (default `[ids.length]`).
   */
  forward(ids: IntTensor | ArrayLike<number>, shape?: Shape): Tensor {
    const given = indexArgument(ids, 'Embedding.forward', 'ids');
    if (given.shape && shape !== undefined) {
      throw new ShapeError(
        `Embedding.forward: shape must be omitted when ids is an int32 tensor (its shape ${describeShape(given.shape)} is used); reshape the ids instead, ids.reshape(${describeShape(shape)})`,
      );
    }
    const values = given.values;
    const resolved = given.shape ?? shape ?? [values.length];
    if (!Array.isArray(resolved))
      throw new ShapeError(`Embedding.forward: shape must be an array such as [T, B], received ${describeValue(resolved)}`);
    assertValidShape(resolved, 'Embedding.forward: shape');
    if (sizeOf(resolved) !== values.length)
      throw new ShapeError(
        `Embedding.forward: ids has ${values.length} entries but shape ${describeShape(resolved)} needs ${sizeOf(resolved)}`,
      );
    const index = new Int32Array(values.length);
    for (let i = 0; i < values.length; i++) {
      const id = values[i];
      if (!Number.isInteger(id) || id < 0 || id >= this.numEmbeddings) {
        throw new ValueRangeError(`Embedding.forward: ids[${i}] = ${id} is out of range [0, ${this.numEmbeddings})`);
      }
      index[i] = id;
    }
    return gatherRows(this.weight, index, [...resolved, this.embeddingDim]);
  }
}
