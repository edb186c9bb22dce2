/**
 * Packs an `OptimizerUpdate` into the addon's positional form: a kind code (its index in
 * `OPTIMIZER_KINDS`) and up to eight hyper-parameters in a Float64Array, in the order of the
 * parameter structs of src/native/optimizers.h. The checked wrapper has validated the update.
 */
import { OPTIMIZER_KINDS, type OptimizerUpdate } from '@recur/core/backend';

/** Fills `hyper` (8 entries) and returns the addon's kind code. */
export function packOptimizerUpdate(update: OptimizerUpdate, hyper: Float64Array): number {
  hyper.fill(0);
  switch (update.kind) {
    case 'sgd':
      hyper.set([update.lr, update.momentum, update.dampening, update.weightDecay, +update.nesterov, +update.firstStep]);
      break;
    case 'adam':
      hyper.set([update.lr, update.beta1, update.beta2, update.eps, update.weightDecay, +update.decoupled, +update.amsgrad, update.step]);
      break;
    case 'rmsprop':
      hyper.set([update.lr, update.alpha, update.eps, update.weightDecay, update.momentum, +update.centered]);
      break;
  }
  return OPTIMIZER_KINDS.indexOf(update.kind);
}
