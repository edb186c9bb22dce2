import { type CellKind, GATE_COUNT } from '@recur/core/backend';
import { describe, expect, it } from 'vitest';
import { dot, expectClose, f64, random, randomArray, values } from './helpers.js';

const KINDS: CellKind[] = ['tanh', 'relu', 'lstm', 'gru', 'ugrnn'];

/** Forward of one cell step on host arrays; returns [h', c'] (c' empty unless LSTM). */
async function forward(kind: CellKind, batch: number, hidden: number, gx: number[], gh: number[], h: number[], c?: number[]) {
  const r = f64.cellForward(kind, { batch, hidden, gx: f64.upload(gx), gh: f64.upload(gh), h: f64.upload(h), c: c && f64.upload(c) });
  return { h: await values(r.h), c: r.c ? await values(r.c) : [] };
}

describe('cellForward: hand-computed single units', () => {
  it('tanh and relu', async () => {
    expect((await forward('tanh', 1, 1, [0.3], [0.2], [9])).h[0]).toBeCloseTo(Math.tanh(0.5), 15);
    expect((await forward('relu', 1, 2, [0.3, -0.3], [0.2, 0.1], [9, 9])).h).toEqual([0.5, 0]);
  });
  it('lstm: zero pre-activations give i = f = o = ½, g = 0', async () => {
    // c' = ½·1 + ½·0 = ½, h' = ½·tanh(½)
    const r = await forward('lstm', 1, 1, [0, 0, 0, 0], [0, 0, 0, 0], [7], [1]);
    expect(r.c).toEqual([0.5]);
    expect(r.h[0]).toBeCloseTo(0.5 * Math.tanh(0.5), 15);
  });
  it('lstm: gate blocks are i, f, g, o', async () => {
    // Saturate: i = 1, f = 0, g = tanh(0.5), o = 1 → c' = tanh(0.5), h' = tanh(tanh(0.5)).
    const r = await forward('lstm', 1, 1, [40, -40, 0.5, 40], [0, 0, 0, 0], [0], [3]);
    expect(r.c[0]).toBeCloseTo(Math.tanh(0.5), 15);
    expect(r.h[0]).toBeCloseTo(Math.tanh(Math.tanh(0.5)), 15);
  });
  it('gru: reset multiplies the hidden-side n block after the matmul', async () => {
    // r = z = ½, n = tanh(0.5 + ½·1) = tanh(1), h' = ½·tanh(1) + ½·2
    const r = await forward('gru', 1, 1, [0, 0, 0.5], [0, 0, 1], [2]);
    expect(r.h[0]).toBeCloseTo(0.5 * Math.tanh(1) + 1, 15);
    // z saturated to 1 keeps h; to 0 gives n.
    expect((await forward('gru', 1, 1, [0, 40, 0.5], [0, 0, 1], [2])).h[0]).toBeCloseTo(2, 12);
    expect((await forward('gru', 1, 1, [0, -40, 0.5], [0, 0, 1], [2])).h[0]).toBeCloseTo(Math.tanh(1), 12);
  });
  it("ugrnn: blocks g, c with h' = g⊙h + (1 − g)⊙c", async () => {
    const r = await forward('ugrnn', 1, 1, [0, 0.5], [0, 0], [2]);
    expect(r.h[0]).toBeCloseTo(0.5 * 2 + 0.5 * Math.tanh(0.5), 15);
    expect((await forward('ugrnn', 1, 1, [40, 0.5], [0, 0], [2])).h[0]).toBeCloseTo(2, 12);
  });
});

/**
 * Finite differences in float64. The scalar is L = ⟨wh, h'⟩ + ⟨wc, c'⟩ for random wh, wc, so
 * its gradient wrt the new state is (wh, wc), which is what cellBackward receives.
 */
describe.each(KINDS)('cellBackward(%s) matches central differences', (kind) => {
  const batch = 2;
  const hidden = 3;
  const width = GATE_COUNT[kind] * hidden;
  const rng = random(100 + KINDS.indexOf(kind));
  const inputs: Record<string, number[]> = {
    gx: randomArray(rng, batch * width, -1.5, 1.5),
    gh: randomArray(rng, batch * width, -1.5, 1.5),
    h: randomArray(rng, batch * hidden),
  };
  if (kind === 'lstm') inputs.c = randomArray(rng, batch * hidden);
  const wh = randomArray(rng, batch * hidden);
  const wc = randomArray(rng, batch * hidden);

  const loss = async (x: Record<string, number[]>) => {
    const r = await forward(kind, batch, hidden, x.gx, x.gh, x.h, x.c);
    return dot(wh, r.h) + (kind === 'lstm' ? dot(wc, r.c) : 0);
  };
  const numeric = async (name: string) => {
    const eps = 1e-6;
    const grad: number[] = [];
    for (let i = 0; i < inputs[name].length; i++) {
      const shifted = (delta: number) => ({ ...inputs, [name]: inputs[name].map((v, j) => (j === i ? v + delta : v)) });
      grad.push(((await loss(shifted(eps))) - (await loss(shifted(-eps)))) / (2 * eps));
    }
    return grad;
  };
  const analytic = async () => {
    const saved = f64.cellForward(kind, {
      batch,
      hidden,
      gx: f64.upload(inputs.gx),
      gh: f64.upload(inputs.gh),
      h: f64.upload(inputs.h),
      c: inputs.c && f64.upload(inputs.c),
    }).saved;
    const r = f64.cellBackward(kind, {
      batch,
      hidden,
      saved,
      h: f64.upload(inputs.h),
      c: inputs.c && f64.upload(inputs.c),
      dh: f64.upload(wh),
      dc: kind === 'lstm' ? f64.upload(wc) : undefined,
    });
    expect(r.dgx).not.toBe(r.dgh);
    expect(r.dcPrev !== undefined).toBe(kind === 'lstm');
    return {
      gx: await values(r.dgx),
      gh: await values(r.dgh),
      h: await values(r.dhPrev),
      c: r.dcPrev ? await values(r.dcPrev) : undefined,
    };
  };

  it('wrt gx, gh, h (direct path) and c', async () => {
    const grads = await analytic();
    for (const name of Object.keys(inputs)) {
      expectClose(grads[name as keyof typeof grads] as number[], await numeric(name), 1e-6, 1e-8);
    }
    // The direct path is 0 for Elman and LSTM.
    if (kind !== 'gru' && kind !== 'ugrnn') expect(grads.h.every((v) => v === 0)).toBe(true);
  });

  it('through gh = h·Wᵀ the total gradient on h is dh + dgh·W', async () => {
    const w = randomArray(rng, width * hidden); // [G·H, H]
    const ghOf = (h: number[]) => {
      const out: number[] = [];
      for (let b = 0; b < batch; b++) {
        for (let r = 0; r < width; r++)
          out.push(inputs.gh[b * width + r] + dot(h.slice(b * hidden, (b + 1) * hidden), w.slice(r * hidden, (r + 1) * hidden)));
      }
      return out;
    };
    const base: Record<string, number[]> = { ...inputs, gh: ghOf(inputs.h) };
    const eps = 1e-6;
    const numericTotal: number[] = [];
    for (let i = 0; i < base.h.length; i++) {
      const at = (delta: number) => {
        const h = base.h.map((v, j) => (j === i ? v + delta : v));
        return loss({ ...base, h, gh: ghOf(h) });
      };
      numericTotal.push(((await at(eps)) - (await at(-eps))) / (2 * eps));
    }
    const saved = f64.cellForward(kind, {
      batch,
      hidden,
      gx: f64.upload(base.gx),
      gh: f64.upload(base.gh),
      h: f64.upload(base.h),
      c: base.c && f64.upload(base.c),
    }).saved;
    const r = f64.cellBackward(kind, {
      batch,
      hidden,
      saved,
      h: f64.upload(base.h),
      c: base.c && f64.upload(base.c),
      dh: f64.upload(wh),
      dc: kind === 'lstm' ? f64.upload(wc) : undefined,
    });
    const throughW = await values(f64.gemm(r.dgh, f64.upload(w), { m: batch, n: hidden, k: width }));
    const direct = await values(r.dhPrev);
    expectClose(
      direct.map((v, i) => v + throughW[i]),
      numericTotal,
      1e-6,
      1e-8,
    );
  });
});

describe("cellBackward: relu uses derivative 1 only where h' > 0", () => {
  it('passes dh where positive and blocks it elsewhere', async () => {
    const saved = f64.cellForward('relu', {
      batch: 1,
      hidden: 2,
      gx: f64.upload([1, -1]),
      gh: f64.upload([0, 0]),
      h: f64.upload([0, 0]),
    }).saved;
    const r = f64.cellBackward('relu', { batch: 1, hidden: 2, saved, h: f64.upload([0, 0]), dh: f64.upload([3, 3]) });
    expect(await values(r.dgx)).toEqual([3, 0]);
    expect(await values(r.dgh)).toEqual([3, 0]);
  });
});
