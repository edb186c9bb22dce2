/** Softmax cross-entropy and the optimizer updates, each within the 4-storage-buffer budget. */
import type { BackendBuffer, CrossEntropyArgs, OptimizerUpdate } from '@recur/core/backend';
import { adamKernel, amsgradKernel, crossEntropyKernel, rmspropKernels, sgdKernel } from '../kernels/loss-optimizers.js';
import { sumAllKernel } from '../kernels/reductions.js';
import { gpuOf, STORAGE } from '../memory.js';
import { Params } from '../params.js';
import type { CommandQueue } from '../queue.js';

export function softmaxCrossEntropy(queue: CommandQueue, args: CrossEntropyArgs): { loss: BackendBuffer; dLogits: BackendBuffer } {
  const { rows, classes } = args;
  const dLogits = queue.alloc(rows * classes);
  const rowLoss = queue.alloc(rows);
  const loss = queue.alloc(1);
  const params = new Params()
    .u(rows, classes)
    .i(args.ignoreIndex)
    .f(1 / args.count);
  queue.run(
    'xent',
    crossEntropyKernel,
    [gpuOf(args.logits), queue.temporary(args.targets, STORAGE), gpuOf(dLogits), gpuOf(rowLoss)],
    params,
    rows,
  );
  queue.run('sum-all', sumAllKernel, [gpuOf(rowLoss), gpuOf(loss)], new Params().u(rows, 0).f(1 / args.count), [1, 1]);
  queue.dispose(rowLoss);
  return { loss, dLogits };
}

/** AMSGrad runs as a second kernel and RMSprop as three through a scratch buffer, to stay within 4 bindings. */
export function optimizerStep(
  queue: CommandQueue,
  update: OptimizerUpdate,
  param: BackendBuffer,
  grad: BackendBuffer,
  state: readonly BackendBuffer[],
): void {
  const n = param.length;
  const p = gpuOf(param);
  const g = gpuOf(grad);
  switch (update.kind) {
    case 'sgd': {
      const params = new Params()
        .u(n)
        .f(update.lr, update.momentum, update.dampening)
        .bool(update.nesterov)
        .f(update.weightDecay)
        .bool(update.firstStep);
      queue.run('sgd', sgdKernel, [p, g, gpuOf(state[0])], params, n);
      return;
    }
    case 'adam': {
      const params = new Params()
        .u(n)
        .f(update.lr, update.beta1, update.beta2, 1 - update.beta1, 1 - update.beta2, update.eps, update.weightDecay)
        .bool(update.decoupled)
        .bool(update.amsgrad)
        .f(update.lr / (1 - update.beta1 ** update.step), Math.sqrt(1 - update.beta2 ** update.step));
      const [m, v, vMax] = state.map((s) => gpuOf(s));
      queue.run('adam', adamKernel, [p, g, m, v], params, n);
      if (update.amsgrad) queue.run('amsgrad', amsgradKernel, [p, m, v, vMax], params, n);
      return;
    }
    case 'rmsprop': {
      const params = new Params()
        .u(n)
        .f(update.lr, update.alpha, 1 - update.alpha, update.eps, update.weightDecay, update.momentum)
        .bool(update.centered);
      const [squareAvg, momentum, gradAvg] = state.map((s) => gpuOf(s));
      const tmp = queue.alloc(n);
      const t = gpuOf(tmp);
      const [k1, k2, k3] = rmspropKernels();
      queue.run(k1.key, () => k1, [p, g, squareAvg, t], params, n);
      queue.run(k2.key, () => k2, [squareAvg, gradAvg, t], params, n);
      queue.run(k3.key, () => k3, [p, momentum, t], params, n);
      queue.dispose(tmp);
      return;
    }
  }
}
