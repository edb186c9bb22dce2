/**
 * The ops as tensor methods (`a.add(b)`, `loss.backward()`), attached here rather than in
 * tensor.ts so the op modules can import `Tensor` without a cycle.
 */
import { type BackwardOptions, backward } from './autograd.js';
import type { IntTensor } from './int-tensor.js';
import * as ew from './ops/elementwise.js';
import { type CrossEntropyOptions, crossEntropy, mse } from './ops/loss.js';
import { linear, matmul } from './ops/matmul.js';
import { mean, type ReduceOptions, sum } from './ops/reduce.js';
import { concat, permute, reshape, slice, transpose } from './ops/shape-ops.js';
import { logSoftmax, softmax } from './ops/softmax.js';
import { isPlainObject } from './options.js';
import type { Shape } from './shape.js';
import { Tensor } from './tensor.js';

declare module './tensor.js' {
  interface Tensor {
    add(other: ew.TensorLike): Tensor;
    sub(other: ew.TensorLike): Tensor;
    mul(other: ew.TensorLike): Tensor;
    div(other: ew.TensorLike): Tensor;
    neg(): Tensor;
    exp(): Tensor;
    log(): Tensor;
    tanh(): Tensor;
    sigmoid(): Tensor;
    relu(): Tensor;
    sqrt(): Tensor;
    square(): Tensor;
    abs(): Tensor;
    scale(factor: number): Tensor;
    matmul(other: Tensor): Tensor;
    linear(weight: Tensor, bias?: Tensor | null): Tensor;
    sum(axes?: number | readonly number[], options?: ReduceOptions): Tensor;
    mean(axes?: number | readonly number[], options?: ReduceOptions): Tensor;
    reshape(shape: Shape): Tensor;
    permute(perm: readonly number[]): Tensor;
    transpose(axis0?: number, axis1?: number): Tensor;
    concat(others: readonly Tensor[], axis?: number): Tensor;
    slice(axis: number, start: number, length: number): Tensor;
    /** `softmax(this, axis)`: probabilities along `axis` (default the last). */
    softmax(axis?: number): Tensor;
    /** `logSoftmax(this, axis)`: log-probabilities along `axis` (default the last). */
    logSoftmax(axis?: number): Tensor;
    crossEntropy(targets: IntTensor | ArrayLike<number>, options?: CrossEntropyOptions): Tensor;
    mse(target: Tensor): Tensor;
    /**
     * Back-propagates from this tensor (a loss, or with `grad` of this shape). A graph is
     * back-propagated once unless `{ retainGraph: true }` keeps it: `loss.backward({ retainGraph: true })`.
     */
    backward(options?: BackwardOptions): void;
    backward(grad: Tensor | undefined, options?: BackwardOptions): void;
  }
}

const methods: Partial<Tensor> = {
  add(this: Tensor, o) {
    return ew.add(this, o);
  },
  sub(this: Tensor, o) {
    return ew.sub(this, o);
  },
  mul(this: Tensor, o) {
    return ew.mul(this, o);
  },
  div(this: Tensor, o) {
    return ew.div(this, o);
  },
  neg(this: Tensor) {
    return ew.neg(this);
  },
  exp(this: Tensor) {
    return ew.exp(this);
  },
  log(this: Tensor) {
    return ew.log(this);
  },
  tanh(this: Tensor) {
    return ew.tanh(this);
  },
  sigmoid(this: Tensor) {
    return ew.sigmoid(this);
  },
  relu(this: Tensor) {
    return ew.relu(this);
  },
  sqrt(this: Tensor) {
    return ew.sqrt(this);
  },
  square(this: Tensor) {
    return ew.square(this);
  },
  abs(this: Tensor) {
    return ew.abs(this);
  },
  scale(this: Tensor, factor) {
    return ew.scale(this, factor);
  },
  matmul(this: Tensor, o) {
    return matmul(this, o);
  },
  linear(this: Tensor, w, b) {
    return linear(this, w, b);
  },
  sum(this: Tensor, axes, options) {
    return sum(this, axes, options);
  },
  mean(this: Tensor, axes, options) {
    return mean(this, axes, options);
  },
  reshape(this: Tensor, shape) {
    return reshape(this, shape);
  },
  permute(this: Tensor, perm) {
    return permute(this, perm);
  },
  transpose(this: Tensor, a0, a1) {
    return transpose(this, a0, a1);
  },
  concat(this: Tensor, others, axis) {
    return concat([this, ...others], axis);
  },
  slice(this: Tensor, axis, start, length) {
    return slice(this, axis, start, length);
  },
  softmax(this: Tensor, axis) {
    return softmax(this, axis);
  },
  logSoftmax(this: Tensor, axis) {
    return logSoftmax(this, axis);
  },
  crossEntropy(this: Tensor, targets, options) {
    return crossEntropy(this, targets, options);
  },
  mse(this: Tensor, target) {
    return mse(this, target);
  },
  backward(this: Tensor, gradOrOptions?: Tensor | BackwardOptions, options?: BackwardOptions) {
    // `loss.backward({ retainGraph: true })` reads like PyTorch's `loss.backward(retain_graph=True)`.
    if (isPlainObject(gradOrOptions)) backward(this, undefined, gradOrOptions);
    else backward(this, gradOrOptions as Tensor | undefined, options);
  },
};

Object.assign(Tensor.prototype, methods);
