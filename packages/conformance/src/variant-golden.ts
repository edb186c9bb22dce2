/**
 * PyTorch golden cases of the cell variants (fixtures/variants.json, made by
 * fixtures/generate_variants.py): layers (sigmoid Elman, reset-before GRU, LSTM projSize,
 * learned initial states, unbatched input) and the single-step cells, each checked for its
 * outputs, final states, loss and every gradient.
 */
import {
  add,
  type Backend,
  disposeAll,
  GRU,
  GRUCell,
  LSTM,
  LSTMCell,
  mul,
  RNN,
  RNNCell,
  stack,
  sum,
  type Tensor,
  tensor,
  unstack,
} from '@recur/core';
import variantsFile from '../fixtures/variants.json' with { type: 'json' };
import { expectClose, referenceTolerance } from './compare.js';
import type { FixtureTensor } from './fixtures.js';
import type { SuiteCase } from './suite-types.js';

interface Common {
  name: string;
  snippet: string;
  h0: FixtureTensor | null;
  c0: FixtureTensor | null;
  paramOrder: string[];
  params: Record<string, FixtureTensor>;
}

/** A layer run: the fields of rnn.json's cases, with the variant options. */
export interface VariantLayerFixture extends Common {
  kind: 'layer';
  module: 'RNN' | 'GRU' | 'LSTM';
  options: {
    inputSize: number;
    hiddenSize: number;
    numLayers: number;
    bias: boolean;
    batchFirst: boolean;
    bidirectional: boolean;
    nonlinearity?: 'tanh' | 'relu' | 'sigmoid';
    resetAfter?: boolean;
    projSize?: number;
    learnInitialState?: boolean;
  };
  /** `[T, B, I]` (`[B, T, I]` with batchFirst) or unbatched `[T, I]`. */
  input: FixtureTensor;
  lengths: number[] | null;
  lossWeights: { output: FixtureTensor; hN: FixtureTensor; cN: FixtureTensor | null };
  expected: { output: FixtureTensor; hN: FixtureTensor; cN: FixtureTensor | null; loss: number; grads: Record<string, FixtureTensor> };
}

/** A few steps of a single-step cell, its state fed back: `inputs` `[S, B, I]` or `[S, I]`. */
export interface VariantCellFixture extends Common {
  kind: 'cell';
  module: 'RNNCell' | 'GRUCell' | 'LSTMCell';
  options: { inputSize: number; hiddenSize: number; bias: boolean; nonlinearity?: 'tanh' | 'relu' | 'sigmoid'; resetAfter?: boolean };
  inputs: FixtureTensor;
  lossWeights: { h: FixtureTensor; c: FixtureTensor | null };
  expected: { h: FixtureTensor; c: FixtureTensor | null; loss: number; grads: Record<string, FixtureTensor> };
}

export type VariantFixture = VariantLayerFixture | VariantCellFixture;

export const variantFixtures = variantsFile.cases as unknown as VariantFixture[];

/** Options merged over the fixture's (a test passes the wrong variant here to see a case fail). */
export type OptionOverride = Record<string, unknown>;

const upload = (backend: Backend, t: FixtureTensor, requiresGrad = false) => tensor(t.data, t.shape, { backend, requiresGrad });

async function expectTensor(what: string, actual: Tensor | null | undefined, expected: FixtureTensor, backend: Backend): Promise<void> {
  if (!actual) throw new Error(`${what}: missing (expected shape [${expected.shape.join(', ')}])`);
  if (actual.shape.join() !== expected.shape.join()) {
    throw new Error(`${what}: shape [${actual.shape.join(', ')}] but PyTorch gives [${expected.shape.join(', ')}]`);
  }
  expectClose(what, await actual.toArray(), expected.data, referenceTolerance(backend.dtype));
}

function checkNames(names: string[], fx: VariantFixture): void {
  if (names.join() !== fx.paramOrder.join()) {
    throw new Error(`parameter names/order [${names.join(', ')}] differ from the fixture's [${fx.paramOrder.join(', ')}]`);
  }
}

async function expectGrads(fx: VariantFixture, inputs: Record<string, Tensor | undefined>, named: [string, Tensor][], backend: Backend) {
  for (const [name, expected] of Object.entries(fx.expected.grads)) {
    const owner = inputs[name] ?? named.find(([n]) => n === name)?.[1];
    await expectTensor(`grad of ${name}`, owner?.grad, expected, backend);
  }
}

async function runLayer(backend: Backend, fx: VariantLayerFixture, override: OptionOverride): Promise<void> {
  const options = { ...fx.options, ...override, backend, seed: 0 };
  const model = fx.module === 'LSTM' ? new LSTM(options) : fx.module === 'GRU' ? new GRU(options) : new RNN(options);
  const named = [...model.namedParameters()];
  checkNames(
    named.map(([n]) => n),
    fx,
  );
  await model.loadStateDict(fx.params);
  const x = upload(backend, fx.input, true);
  const h0 = fx.h0 ? upload(backend, fx.h0, true) : undefined;
  const c0 = fx.c0 ? upload(backend, fx.c0, true) : undefined;
  const out = model.forward(x, { h0, c0, lengths: fx.lengths ?? undefined });
  let loss = add(sum(mul(out.output, upload(backend, fx.lossWeights.output))), sum(mul(out.hN, upload(backend, fx.lossWeights.hN))));
  if (fx.lossWeights.cN && out.cN) loss = add(loss, sum(mul(out.cN, upload(backend, fx.lossWeights.cN))));
  loss.backward();
  await expectTensor('output', out.output, fx.expected.output, backend);
  await expectTensor('hN', out.hN, fx.expected.hN, backend);
  if (fx.expected.cN) await expectTensor('cN', out.cN, fx.expected.cN, backend);
  expectClose('loss', [await loss.item()], [fx.expected.loss], referenceTolerance(backend.dtype, 10));
  await expectGrads(fx, { input: x, h0, c0 }, named, backend);
  disposeAll([x, h0, c0, out, loss]);
  model.dispose();
}

async function runCell(backend: Backend, fx: VariantCellFixture, override: OptionOverride): Promise<void> {
  const options = { ...fx.options, ...override, backend, seed: 0 };
  const cell = fx.module === 'LSTMCell' ? new LSTMCell(options) : fx.module === 'GRUCell' ? new GRUCell(options) : new RNNCell(options);
  const named = [...cell.namedParameters()];
  checkNames(
    named.map(([n]) => n),
    fx,
  );
  await cell.loadStateDict(fx.params);
  const inputs = upload(backend, fx.inputs, true);
  const h0 = fx.h0 ? upload(backend, fx.h0, true) : undefined;
  const c0 = fx.c0 ? upload(backend, fx.c0, true) : undefined;
  const hs: Tensor[] = [];
  const cs: Tensor[] = [];
  let h = h0;
  let c = c0;
  for (const x of unstack(inputs)) {
    if (cell instanceof LSTMCell) {
      [h, c] = cell.forward(x, h && c ? [h, c] : undefined);
      cs.push(c);
    } else {
      h = cell.forward(x, h);
    }
    hs.push(h);
  }
  const hAll = stack(hs);
  const cAll = cs.length > 0 ? stack(cs) : undefined;
  let loss = sum(mul(hAll, upload(backend, fx.lossWeights.h)));
  if (cAll && fx.lossWeights.c) loss = add(loss, sum(mul(cAll, upload(backend, fx.lossWeights.c))));
  loss.backward();
  await expectTensor('h per step', hAll, fx.expected.h, backend);
  if (fx.expected.c) await expectTensor('c per step', cAll, fx.expected.c, backend);
  expectClose('loss', [await loss.item()], [fx.expected.loss], referenceTolerance(backend.dtype, 10));
  await expectGrads(fx, { input: inputs, h0, c0 }, named, backend);
  disposeAll([inputs, h0, c0, hAll, cAll, loss]);
  cell.dispose();
}

/** One fixture on `backend`; `override` replaces options (to show a wrong variant fails). */
export function runVariantFixture(backend: Backend, fx: VariantFixture, override: OptionOverride = {}): Promise<void> {
  return fx.kind === 'layer' ? runLayer(backend, fx, override) : runCell(backend, fx, override);
}

/** Every variant golden case, as suite cases. */
export function variantGoldenCases(): SuiteCase[] {
  return variantFixtures.map((fx) => ({
    group: 'pytorch' as const,
    name: `variant ${fx.module} ${fx.name}`,
    run: (backend: Backend) => runVariantFixture(backend, fx),
  }));
}
