import { createJsBackend, JsBackend } from '@recur/backend-js';
import type { Backend, CellBackwardArgs, CellForwardArgs, CellKind } from '@recur/core/backend';
import { describe, expect, it } from 'vitest';
import { conformanceCases } from '../src/index.js';

/**
 * The suite must be able to fail: each sabotaged backend below carries one plausible bug, and
 * the named cases must reject it while passing the unmodified backend.
 */
function sabotage(patch: Partial<Backend>): Backend {
  const base = new JsBackend();
  return Object.assign(Object.create(base) as Backend, patch);
}

const reference = createJsBackend({ dtype: 'float64' });
const honest = createJsBackend();

function scaled(backend: Backend, buffer: Parameters<Backend['unary']>[1], factor: number) {
  return backend.unary('scale', buffer, factor, undefined, buffer);
}

const bugs: { bug: string; backend: () => Backend; caseName: string }[] = [
  {
    bug: 'LSTM backward loses 1% of the input-gate gradient',
    backend: () => {
      const b = new JsBackend();
      return sabotage({
        cellBackward: (kind: CellKind, args: CellBackwardArgs) => {
          const r = b.cellBackward.call(b, kind, args);
          if (kind === 'lstm') scaled(b, r.dgx, 0.99);
          return r;
        },
        fused: {},
      });
    },
    caseName: 'finite-differences:lstm 1 layer unidirectional equal lengths',
  },
  {
    bug: 'GRU reads its gate blocks in ONNX order (z, r, n) instead of PyTorch order (r, z, n)',
    backend: () => {
      const b = new JsBackend();
      return sabotage({
        cellForward: (kind: CellKind, args: CellForwardArgs) => {
          if (kind !== 'gru') return b.cellForward.call(b, kind, args);
          const swap = (buffer: typeof args.gx) => {
            const rows = b.permute(buffer, [args.batch, 3, args.hidden], [0, 1, 2]);
            const parts = [1, 0, 2].map((block) => b.slice(rows, [args.batch, 3, args.hidden], 1, block, 1));
            return b.concat(
              parts,
              parts.map(() => [args.batch, 1, args.hidden]),
              1,
            );
          };
          return b.cellForward.call(b, kind, { ...args, gx: swap(args.gx), gh: swap(args.gh) });
        },
        fused: {},
      });
    },
    caseName: 'pytorch:GRU gru_1layer',
  },
  {
    bug: 'gemm ignores beta when accumulating',
    backend: () => {
      const b = new JsBackend();
      return sabotage({ gemm: (x, y, o, out) => b.gemm.call(b, x, y, { ...o, beta: 1 }, out) });
    },
    caseName: 'cross-backend:kernel: gemm 7×5×9 accumulate α=0.5 β=2',
  },
  {
    bug: 'sigmoid overflows to NaN at large negative inputs',
    backend: () => {
      const b = new JsBackend();
      return sabotage({
        unary: (op, x, p, p2, out) => {
          const y = b.unary.call(b, op, x, p, p2, out);
          if (op !== 'sigmoid') return y;
          const values = (y as unknown as { data: Float32Array }).data;
          for (let i = 0; i < values.length; i++) if (values[i] === 0) values[i] = Number.NaN;
          return y;
        },
      });
    },
    caseName: 'cross-backend:kernel: unary sigmoid at extreme inputs (no overflow to NaN)',
  },
  {
    bug: 'Adam without bias correction',
    backend: () => {
      const b = new JsBackend();
      return sabotage({ optimizerStep: (u, p, g, s) => b.optimizerStep.call(b, u.kind === 'adam' ? { ...u, step: 1e6 } : u, p, g, s) });
    },
    caseName: 'pytorch:optimizer adam_default',
  },
  {
    bug: 'read hands out the buffer itself instead of a snapshot',
    backend: () => sabotage({ read: async (x) => (x as unknown as { data: Float32Array }).data }),
    caseName: 'contract:semantics: read resolves with a snapshot that later work and the caller cannot change',
  },
  {
    bug: 'unary ignores out and returns a new buffer',
    backend: () => {
      const b = new JsBackend();
      return sabotage({ unary: (op, x, p, p2) => b.unary.call(b, op, x, p, p2) });
    },
    caseName: 'contract:semantics: unary writes in place into out = x; gemm with beta 0 never reads out',
  },
  {
    bug: 'gemm multiplies out by beta even when beta is 0 (0 · NaN leaks)',
    backend: () => {
      const b = new JsBackend();
      return sabotage({
        gemm: (x, y, o, out) => {
          if (!out || o.beta) return b.gemm.call(b, x, y, o, out);
          const product = b.gemm.call(b, x, y, o);
          b.gemm.call(b, x, y, { ...o, alpha: 0, beta: 1 }, out);
          return b.binary.call(b, 'add', out, [1], product, [1], [out.length]) && out;
        },
      });
    },
    caseName: 'contract:semantics: unary writes in place into out = x; gemm with beta 0 never reads out',
  },
];

describe('the conformance suite detects known bugs', () => {
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
