/**
 * The fused sequence kernels against PyTorch itself: every single-layer, single-direction case
 * of packages/conformance/fixtures/rnn.json (multi-layer and bidirectional stacking is core's
 * job, tested there). The fixture's loss is ⟨W_out, output⟩ + ⟨W_hN, hN⟩ (+ ⟨W_cN, cN⟩), so
 * its loss weights are exactly the upstream gradients sequenceBackward takes.
 */
import type { CellKind } from '@recur/core/backend';
import { describe, expect, it } from 'vitest';
import { expectClose, type FixtureTensor, f64, loadFixture, sequenceKernels, values } from './helpers.js';

interface RnnCase {
  name: string;
  module: 'RNN' | 'LSTM' | 'GRU';
  options: {
    inputSize: number;
    hiddenSize: number;
    numLayers: number;
    nonlinearity?: 'tanh' | 'relu';
    bias: boolean;
    batchFirst: boolean;
    bidirectional: boolean;
  };
  input: FixtureTensor;
  lengths: number[] | null;
  h0: FixtureTensor | null;
  c0: FixtureTensor | null;
  params: Record<string, FixtureTensor>;
  lossWeights: { output: FixtureTensor; hN: FixtureTensor; cN: FixtureTensor | null };
  expected: { output: FixtureTensor; hN: FixtureTensor; cN: FixtureTensor | null; grads: Record<string, FixtureTensor> };
}

const cases = loadFixture<RnnCase>('rnn.json').cases.filter((c) => c.options.numLayers === 1 && !c.options.bidirectional);

/** Swaps the first two axes of a `[P, Q, X]` array (batch-first ↔ time-first). */
function swap01(t: FixtureTensor): number[] {
  const [P, Q, X] = t.shape;
  const out: number[] = [];
  for (let q = 0; q < Q; q++) for (let p = 0; p < P; p++) out.push(...t.data.slice((p * Q + q) * X, (p * Q + q + 1) * X));
  return out;
}

describe('sequenceForward/Backward against PyTorch (rnn.json)', () => {
  it('has single-layer cases of every module, with variable lengths', () => {
    expect(new Set(cases.map((c) => c.module))).toEqual(new Set(['RNN', 'LSTM', 'GRU']));
    expect(cases.some((c) => c.lengths)).toBe(true);
  });

  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_, c) => {
    const kind: CellKind = c.module === 'LSTM' ? 'lstm' : c.module === 'GRU' ? 'gru' : (c.options.nonlinearity ?? 'tanh');
    const timeFirst = (t: FixtureTensor) => (c.options.batchFirst ? swap01(t) : t.data);
    const steps = c.options.batchFirst ? c.input.shape[1] : c.input.shape[0];
    const batch = c.options.batchFirst ? c.input.shape[0] : c.input.shape[1];
    const hidden = c.options.hiddenSize;
    const zeros = () => new Array<number>(batch * hidden).fill(0);
    const p = c.params;
    const args = {
      kind,
      steps,
      batch,
      inputSize: c.options.inputSize,
      hidden,
      x: f64.upload(timeFirst(c.input)),
      wIh: f64.upload(p.weight_ih_l0.data),
      wHh: f64.upload(p.weight_hh_l0.data),
      bIh: p.bias_ih_l0 && f64.upload(p.bias_ih_l0.data),
      bHh: p.bias_hh_l0 && f64.upload(p.bias_hh_l0.data),
      h0: f64.upload(c.h0?.data ?? zeros()),
      c0: kind === 'lstm' ? f64.upload(c.c0?.data ?? zeros()) : undefined,
      lengths: c.lengths ? Int32Array.from(c.lengths) : undefined,
    };
    const fwd = sequenceKernels(f64).forward(args);
    expectClose(await values(fwd.output), timeFirst(c.expected.output), 1e-10, 1e-13);
    expectClose(await values(fwd.hN), c.expected.hN.data, 1e-10, 1e-13);
    if (c.expected.cN) expectClose(await values(fwd.cN as NonNullable<typeof fwd.cN>), c.expected.cN.data, 1e-10, 1e-13);

    const bwd = sequenceKernels(f64).backward({
      ...args,
      saved: fwd.saved,
      dOutput: f64.upload(timeFirst(c.lossWeights.output)),
      dhN: f64.upload(c.lossWeights.hN.data),
      dcN: c.lossWeights.cN ? f64.upload(c.lossWeights.cN.data) : undefined,
    });
    const g = c.expected.grads;
    const check = async (buffer: typeof bwd.dx | undefined, expected: number[]) => {
      expect(buffer).toBeDefined();
      expectClose(await values(buffer as typeof bwd.dx), expected, 1e-9, 1e-12);
    };
    await check(bwd.dx, timeFirst(g.input));
    await check(bwd.dWIh, g.weight_ih_l0.data);
    await check(bwd.dWHh, g.weight_hh_l0.data);
    if (c.options.bias) {
      await check(bwd.dBIh, g.bias_ih_l0.data);
      await check(bwd.dBHh, g.bias_hh_l0.data);
    } else {
      expect(bwd.dBIh).toBeUndefined();
    }
    if (g.h0) await check(bwd.dh0, g.h0.data);
    if (g.c0) await check(bwd.dc0, g.c0.data);
  });
});
