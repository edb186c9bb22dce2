/**
 * Packs an `OptimizerUpdate` into the addon's positional form: a kind code and up to eight
 * hyper-parameters in a Float64Array (order in src/native/optimizers.h), checked on the way.
 */
import { type OptimizerUpdate, ValueRangeError } from '@recur/core';
import { count, real } from './validate.js';

/** Fills `hp` (8 entries, zeroed here) and returns the addon's kind code and how many state buffers the update needs. */
export function optimizerCall(M: string, update: OptimizerUpdate, hp: Float64Array): { kind: number; stateCount: number } {
  hp.fill(0);
  const num = (name: string, v: unknown) => real(M, name, v);
  switch (update?.kind) {
    case 'sgd':
      hp.set([
        num('lr', update.lr),
        num('momentum', update.momentum),
        num('dampening', update.dampening),
        num('weightDecay', update.weightDecay),
        update.nesterov ? 1 : 0,
        update.firstStep ? 1 : 0,
      ]);
      return { kind: 0, stateCount: 1 };
    case 'adam':
      hp.set([
        num('lr', update.lr),
        num('beta1', update.beta1),
        num('beta2', update.beta2),
        num('eps', update.eps),
        num('weightDecay', update.weightDecay),
        update.decoupled ? 1 : 0,
        update.amsgrad ? 1 : 0,
        count(M, 'step', update.step),
      ]);
      if (update.step < 1) throw new ValueRangeError(`${M}: step is 1-based, received ${update.step}`);
      return { kind: 1, stateCount: 3 };
    case 'rmsprop':
      hp.set([
        num('lr', update.lr),
        num('alpha', update.alpha),
        num('eps', update.eps),
        num('weightDecay', update.weightDecay),
        num('momentum', update.momentum),
        update.centered ? 1 : 0,
      ]);
      return { kind: 2, stateCount: 3 };
    default:
      throw new ValueRangeError(
        `optimizerStep: update.kind must be sgd, adam or rmsprop, received ${String((update as { kind?: unknown })?.kind)}`,
      );
  }
}
