import { createJsBackend, JsBackend } from '@recur/backend-js';
import type { Backend } from '@recur/core/backend';
import { describe, expect, it } from 'vitest';
import { conformanceCases } from '../src/index.js';

/**
 * The DelayRNN, softmax and Seq2Seq cases must be able to fail: each backend below carries one
 * plausible bug in a kernel these composite models run on, and the named case must reject it
 * while passing the unmodified backend.
 */
const reference = createJsBackend({ dtype: 'float64' });
const honest = createJsBackend();

function sabotage(patch: (base: JsBackend) => Partial<Backend>): () => Backend {
  return () => {
    const base = new JsBackend();
    return Object.assign(Object.create(base) as Backend, patch(base));
  };
}

const bugs: { bug: string; backend: () => Backend; caseName: string }[] = [
  {
    bug: 'concat along the columns of a matrix puts its two parts the other way round (the history shifts wrongly)',
    backend: sabotage((b) => ({
      concat: (xs, shapes, axis) =>
        axis === 1 && shapes.length === 2 && shapes[0].length === 2
          ? b.concat([xs[1], xs[0]], [shapes[1], shapes[0]], axis)
          : b.concat(xs, shapes, axis),
    })),
    caseName: 'pytorch:DelayRNN delay_tanh_1layer_given_h0',
  },
  {
    bug: 'a column slice of a matrix starts one column early (a delayed state read from the wrong block)',
    backend: sabotage((b) => ({
      slice: (x, shape, axis, start, length) =>
        b.slice(x, shape, axis, axis === 1 && shape.length === 2 && start > 0 ? start - 1 : start, length),
    })),
    caseName: 'finite-differences:DelayRNN delays [1,3] 1 layer unidirectional equal lengths, h0 and history in the loss',
  },
  {
    bug: 'exp is 0.1% too large (softmax cancels it; logSoftmax must not)',
    backend: sabotage((b) => ({
      unary: (op, x, p, p2, out) => {
        const y = b.unary.call(b, op, x, p, p2, out);
        return op === 'exp' ? b.unary.call(b, 'scale', y, 1.001, undefined, y) : y;
      },
    })),
    caseName: 'pytorch:softmax and logSoftmax softmax_last_axis',
  },
  {
    bug: 'sumTo over the last axis drops its last element',
    backend: sabotage((b) => ({
      sumTo: (x, inShape, outShape) => {
        const last = inShape.length - 1;
        if (outShape[last] !== 1 || inShape[last] < 2) return b.sumTo(x, inShape, outShape);
        const head = b.slice(x, inShape, last, 0, inShape[last] - 1);
        const out = b.sumTo(head, [...inShape.slice(0, last), inShape[last] - 1], outShape);
        b.dispose(head);
        return out;
      },
    })),
    caseName: 'cross-backend:softmax and logSoftmax with logits near ±1000: outputs and gradients',
  },
  {
    bug: 'gatherRows reads every repeated index as its first occurrence’s successor (beams reordered wrongly)',
    backend: sabotage((b) => ({
      gatherRows: (x, width, index) => {
        const seen = new Set<number>();
        const rows = x.length / width;
        const moved = Int32Array.from(index, (i) => {
          if (seen.has(i)) return (i + 1) % rows;
          seen.add(i);
          return i;
        });
        return b.gatherRows(x, width, moved);
      },
    })),
    caseName: 'cross-backend:Seq2Seq: logits and every gradient of the training pass, greedy and beam-search tokens and scores',
  },
];

describe('the DelayRNN, softmax and Seq2Seq cases detect known bugs', () => {
  const cases = conformanceCases();
  const find = (key: string) => {
    const [group, name] = key.split(/:(.*)/s);
    const c = cases.find((x) => x.group === group && x.name === name);
    if (!c) throw new Error(`no case '${key}'`);
    return c;
  };
  for (const { bug, backend, caseName } of bugs) {
    it(`${bug} → fails '${caseName}'`, async () => {
      const c = find(caseName);
      const context = { create: async () => createJsBackend() };
      await expect(c.run(honest, reference, context)).resolves.toBeUndefined();
      await expect(c.run(backend(), reference, context)).rejects.toThrow();
    });
  }
});
