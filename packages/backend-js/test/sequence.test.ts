/**
 * The fused sequence kernels against (1) a manual loop of per-step gemm + cellForward /
 * cellBackward, with per-step weight-gradient accumulation, and (2) finite differences.
 */
import { type CellKind, GATE_COUNT, type SequenceForwardArgs } from '@recur/core/backend';
import { describe, expect, it } from 'vitest';
import { createJsBackend } from '../src/index.js';
import { dot, expectClose, f64, random, randomArray, sequenceKernels, stackKernels, values } from './helpers.js';

const KINDS: CellKind[] = ['tanh', 'relu', 'lstm', 'gru', 'ugrnn'];
const T = 4;
const B = 3;
const I = 2;
const H = 3;

interface Problem {
  kind: CellKind;
  host: Record<string, number[]>;
  lengths?: Int32Array;
  bias: boolean;
}

function makeProblem(kind: CellKind, seed: number, lengths?: number[], bias = true): Problem {
  const rng = random(seed);
  const G = GATE_COUNT[kind];
  const host: Record<string, number[]> = {
    x: randomArray(rng, T * B * I),
    wIh: randomArray(rng, G * H * I, -0.8, 0.8),
    wHh: randomArray(rng, G * H * H, -0.8, 0.8),
    h0: randomArray(rng, B * H),
  };
  if (bias) {
    host.bIh = randomArray(rng, G * H, -0.5, 0.5);
    host.bHh = randomArray(rng, G * H, -0.5, 0.5);
  }
  if (kind === 'lstm') host.c0 = randomArray(rng, B * H);
  return { kind, host, lengths: lengths && Int32Array.from(lengths), bias };
}

function argsOf(p: Problem, host = p.host): SequenceForwardArgs {
  const up = (name: string) => (host[name] ? f64.upload(host[name]) : undefined);
  return {
    kind: p.kind,
    steps: T,
    batch: B,
    inputSize: I,
    hidden: H,
    x: f64.upload(host.x),
    wIh: f64.upload(host.wIh),
    wHh: f64.upload(host.wHh),
    bIh: up('bIh'),
    bHh: up('bHh'),
    h0: f64.upload(host.h0),
    c0: up('c0'),
    lengths: p.lengths,
  };
}

const isActive = (p: Problem, t: number, b: number) => !p.lengths || t < p.lengths[b];
/** Row-wise select on host arrays: active rows from `a`, the others from `b`. */
const pick = (p: Problem, t: number, a: number[], b: number[]) => a.map((v, i) => (isActive(p, t, Math.floor(i / H)) ? v : b[i]));

/** `x·Wᵀ + bias` through the backend's gemm and binary. */
function linear(x: ReturnType<typeof f64.upload>, w: number[], bias: number[] | undefined, rows: number, inner: number) {
  const cols = w.length / inner;
  const y = f64.gemm(x, f64.upload(w), { m: rows, n: cols, k: inner, transB: true });
  return bias ? f64.binary('add', y, [cols, 1], f64.upload(bias), [0, 1], [rows, cols]) : y;
}

/** The reference: a host-side loop over steps calling gemm and the single-step cell kernels. */
async function manual(p: Problem, dOutput: number[], dhN: number[], dcN: number[]) {
  const { kind, host } = p;
  const GH = GATE_COUNT[kind] * H;
  const xs = Array.from({ length: T }, (_, t) => host.x.slice(t * B * I, (t + 1) * B * I));
  const hs = [host.h0];
  const cs = [host.c0 ?? []];
  const saves = [];
  const output: number[] = [];
  for (let t = 0; t < T; t++) {
    const gx = linear(f64.upload(xs[t]), host.wIh, host.bIh, B, I);
    const gh = linear(f64.upload(hs[t]), host.wHh, host.bHh, B, H);
    const r = f64.cellForward(kind, {
      batch: B,
      hidden: H,
      gx,
      gh,
      h: f64.upload(hs[t]),
      c: kind === 'lstm' ? f64.upload(cs[t]) : undefined,
    });
    saves.push(r.saved);
    const h = await values(r.h);
    hs.push(pick(p, t, h, hs[t]));
    cs.push(r.c ? pick(p, t, await values(r.c), cs[t]) : []);
    output.push(...pick(p, t, h, new Array(B * H).fill(0)));
  }
  // Backward, accumulating weight gradients step by step.
  const zeros = (n: number) => new Array<number>(n).fill(0);
  const grads = { dx: zeros(T * B * I), dWIh: zeros(GH * I), dWHh: zeros(GH * H), dBIh: zeros(GH), dBHh: zeros(GH) };
  const add = (into: number[], more: number[], at = 0) => {
    for (let i = 0; i < more.length; i++) into[at + i] += more[i];
  };
  let dh = dhN;
  let dc = dcN;
  for (let t = T - 1; t >= 0; t--) {
    const dOut = dOutput.slice(t * B * H, (t + 1) * B * H);
    const zero = zeros(B * H);
    // Finished rows get no gradient into the cell; their state gradient passes through.
    const r = f64.cellBackward(kind, {
      batch: B,
      hidden: H,
      saved: saves[t],
      h: f64.upload(hs[t]),
      c: kind === 'lstm' ? f64.upload(cs[t]) : undefined,
      dh: f64.upload(
        pick(
          p,
          t,
          dh.map((v, i) => v + dOut[i]),
          zero,
        ),
      ),
      dc: kind === 'lstm' ? f64.upload(pick(p, t, dc, zero)) : undefined,
    });
    add(grads.dx, await values(f64.gemm(r.dgx, f64.upload(host.wIh), { m: B, n: I, k: GH })), t * B * I);
    add(grads.dWIh, await values(f64.gemm(r.dgx, f64.upload(xs[t]), { m: GH, n: I, k: B, transA: true })));
    add(grads.dWHh, await values(f64.gemm(r.dgh, f64.upload(hs[t]), { m: GH, n: H, k: B, transA: true })));
    add(grads.dBIh, await values(f64.sumTo(r.dgx, [B, GH], [1, GH])));
    add(grads.dBHh, await values(f64.sumTo(r.dgh, [B, GH], [1, GH])));
    const throughW = await values(f64.gemm(r.dgh, f64.upload(host.wHh), { m: B, n: H, k: GH }));
    const direct = await values(r.dhPrev);
    dh = pick(
      p,
      t,
      direct.map((v, i) => v + throughW[i]),
      dh,
    );
    if (r.dcPrev) dc = pick(p, t, await values(r.dcPrev), dc);
  }
  return { output, hN: hs[T], cN: cs[T], grads: { ...grads, dh0: dh, dc0: dc } };
}

function upstream(kind: CellKind, seed: number) {
  const rng = random(seed);
  return { dOutput: randomArray(rng, T * B * H), dhN: randomArray(rng, B * H), dcN: kind === 'lstm' ? randomArray(rng, B * H) : [] };
}

const variants: [string, number[] | undefined, boolean][] = [
  ['full length', undefined, true],
  ['variable lengths', [4, 2, 0], true],
  ['no biases, variable lengths', [1, 4, 3], false],
];

describe.each(KINDS)('sequenceForward/Backward(%s) equal the manual step loop', (kind) => {
  it.each(variants)('%s', async (_, lengths, bias) => {
    const p = makeProblem(kind, 200 + KINDS.indexOf(kind), lengths, bias);
    const up = upstream(kind, 300 + KINDS.indexOf(kind));
    const ref = await manual(p, up.dOutput, up.dhN, up.dcN);
    const args = argsOf(p);
    const fwd = sequenceKernels(f64).forward(args);
    expectClose(await values(fwd.output), ref.output, 1e-12, 1e-14);
    expectClose(await values(fwd.hN), ref.hN, 1e-12, 1e-14);
    expect(fwd.cN !== undefined).toBe(kind === 'lstm');
    if (fwd.cN) expectClose(await values(fwd.cN), ref.cN, 1e-12, 1e-14);
    if (lengths?.includes(0)) expect((await values(fwd.hN)).slice(2 * H)).toEqual(p.host.h0.slice(2 * H));

    const bwd = sequenceKernels(f64).backward({
      ...args,
      saved: fwd.saved,
      dOutput: f64.upload(up.dOutput),
      dhN: f64.upload(up.dhN),
      dcN: kind === 'lstm' ? f64.upload(up.dcN) : undefined,
    });
    for (const name of ['dx', 'dWIh', 'dWHh', 'dh0'] as const) expectClose(await values(bwd[name]), ref.grads[name], 1e-11, 1e-13);
    expect(bwd.dBIh !== undefined).toBe(bias);
    expect(bwd.dBHh !== undefined).toBe(bias);
    if (bwd.dBIh && bwd.dBHh) {
      expectClose(await values(bwd.dBIh), ref.grads.dBIh, 1e-11, 1e-13);
      expectClose(await values(bwd.dBHh), ref.grads.dBHh, 1e-11, 1e-13);
    }
    expect(bwd.dc0 !== undefined).toBe(kind === 'lstm');
    if (bwd.dc0) expectClose(await values(bwd.dc0), ref.grads.dc0, 1e-11, 1e-13);
  });
});

describe.each(KINDS)('sequenceBackward(%s) matches central differences', (kind) => {
  it('wrt every input, weight, bias and initial state, with variable lengths', async () => {
    const p = makeProblem(kind, 400 + KINDS.indexOf(kind), [3, 4, 0]);
    const up = upstream(kind, 500 + KINDS.indexOf(kind));
    // L = ⟨dOutput, output⟩ + ⟨dhN, hN⟩ + ⟨dcN, cN⟩.
    const loss = async (host: Record<string, number[]>) => {
      const r = sequenceKernels(f64).forward(argsOf(p, host));
      const cN = r.cN ? dot(up.dcN, await values(r.cN)) : 0;
      return dot(up.dOutput, await values(r.output)) + dot(up.dhN, await values(r.hN)) + cN;
    };
    const args = argsOf(p);
    const fwd = sequenceKernels(f64).forward(args);
    const bwd = sequenceKernels(f64).backward({
      ...args,
      saved: fwd.saved,
      dOutput: f64.upload(up.dOutput),
      dhN: f64.upload(up.dhN),
      dcN: kind === 'lstm' ? f64.upload(up.dcN) : undefined,
    });
    const analytic: Record<string, typeof bwd.dx | undefined> = {
      x: bwd.dx,
      wIh: bwd.dWIh,
      wHh: bwd.dWHh,
      bIh: bwd.dBIh,
      bHh: bwd.dBHh,
      h0: bwd.dh0,
      c0: bwd.dc0,
    };
    const eps = 1e-6;
    for (const name of Object.keys(p.host)) {
      const numeric: number[] = [];
      for (let i = 0; i < p.host[name].length; i++) {
        const shifted = (delta: number) => ({ ...p.host, [name]: p.host[name].map((v, j) => (j === i ? v + delta : v)) });
        numeric.push(((await loss(shifted(eps))) - (await loss(shifted(-eps)))) / (2 * eps));
      }
      const buffer = analytic[name];
      expect(buffer, name).toBeDefined();
      expectClose(await values(buffer as NonNullable<typeof buffer>), numeric, 1e-6, 1e-8);
    }
    // Inputs past a sequence's length have no effect.
    const dx = await values(bwd.dx);
    expect(dx.slice(2 * B * I + 2 * I, 2 * B * I + 3 * I)).toEqual([0, 0]);
  });
});

describe('float32', () => {
  it('the float32 sequence kernels agree with float64 to float32 accuracy', async () => {
    const f32 = createJsBackend();
    const p = makeProblem('lstm', 600, [4, 1, 3]);
    const on = (backend: typeof f64) => {
      const args = { ...argsOf(p), x: backend.upload(p.host.x), wIh: backend.upload(p.host.wIh), wHh: backend.upload(p.host.wHh) };
      Object.assign(args, {
        bIh: backend.upload(p.host.bIh),
        bHh: backend.upload(p.host.bHh),
        h0: backend.upload(p.host.h0),
        c0: backend.upload(p.host.c0),
      });
      const fwd = sequenceKernels(backend).forward(args);
      const ones = (n: number) => backend.fill(n, 1);
      const bwd = sequenceKernels(backend).backward({
        ...args,
        saved: fwd.saved,
        dOutput: ones(T * B * H),
        dhN: ones(B * H),
        dcN: ones(B * H),
      });
      return Promise.all([fwd.output, fwd.hN, bwd.dx, bwd.dWHh].map((b) => values(b, backend)));
    };
    const [single, double] = [await on(f32), await on(f64)];
    for (let i = 0; i < single.length; i++) expectClose(single[i], double[i], 1e-4, 1e-5);
  });
});

describe.each(KINDS)('inference paths (%s)', (kind) => {
  it('saveForBackward: false gives the same outputs and an empty saved', async () => {
    const p = makeProblem(kind, 700 + KINDS.indexOf(kind), [4, 2, 3]);
    const saved = sequenceKernels(f64).forward(argsOf(p));
    const unsaved = sequenceKernels(f64).forward({ ...argsOf(p), saveForBackward: false });
    expect(unsaved.saved.length).toBe(0);
    expect(saved.saved.length).toBeGreaterThan(0);
    for (const name of ['output', 'hN', 'cN'] as const) {
      const a = saved[name];
      const b = unsaved[name];
      if (a && b) expect(await values(b)).toEqual(await values(a));
    }
  });

  it('sequenceStackForward equals sequenceForward layer after layer', async () => {
    const L = 3;
    const G = GATE_COUNT[kind];
    const rng = random(800 + KINDS.indexOf(kind));
    const lengths = Int32Array.from([4, 1, 3]);
    const x = randomArray(rng, T * B * I);
    const layers = Array.from({ length: L }, (_, l) => ({
      wIh: randomArray(rng, G * H * (l === 0 ? I : H), -0.8, 0.8),
      wHh: randomArray(rng, G * H * H, -0.8, 0.8),
      bIh: l === 1 ? undefined : randomArray(rng, G * H, -0.5, 0.5),
      bHh: l === 1 ? undefined : randomArray(rng, G * H, -0.5, 0.5),
    }));
    const h0 = randomArray(rng, L * B * H);
    const c0 = randomArray(rng, L * B * H);
    const up = (a: number[] | undefined) => (a ? f64.upload(a) : undefined);
    const state = (a: number[] | undefined, l: number) => (a ? f64.upload(a.slice(l * B * H, (l + 1) * B * H)) : f64.fill(B * H, 0));
    for (const withState of [true, false]) {
      const stacked = stackKernels(f64).forward({
        kind,
        steps: T,
        batch: B,
        inputSize: I,
        hidden: H,
        x: f64.upload(x),
        layers: layers.map((w) => ({ wIh: f64.upload(w.wIh), wHh: f64.upload(w.wHh), bIh: up(w.bIh), bHh: up(w.bHh) })),
        h0: withState ? f64.upload(h0) : undefined,
        c0: withState && kind === 'lstm' ? f64.upload(c0) : undefined,
        lengths,
      });
      let input = f64.upload(x);
      const hN: number[] = [];
      const cN: number[] = [];
      for (let l = 0; l < L; l++) {
        const w = layers[l];
        const r = sequenceKernels(f64).forward({
          kind,
          steps: T,
          batch: B,
          inputSize: l === 0 ? I : H,
          hidden: H,
          x: input,
          wIh: f64.upload(w.wIh),
          wHh: f64.upload(w.wHh),
          bIh: up(w.bIh),
          bHh: up(w.bHh),
          h0: state(withState ? h0 : undefined, l),
          c0: kind === 'lstm' ? state(withState ? c0 : undefined, l) : undefined,
          lengths,
        });
        hN.push(...(await values(r.hN)));
        if (r.cN) cN.push(...(await values(r.cN)));
        input = r.output;
      }
      expect(await values(stacked.output)).toEqual(await values(input));
      expect(await values(stacked.hN)).toEqual(hN);
      expect(stacked.cN !== undefined).toBe(kind === 'lstm');
      if (stacked.cN) expect(await values(stacked.cN)).toEqual(cN);
    }
  });
});
