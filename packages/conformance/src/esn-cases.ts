import { add, type Backend, disposeAll, ESN, fitRidge, type Linear, mul, slice, sum, type Tensor, tensor, tidy } from '@recur/core';
import esnFile from '../fixtures/esn.json' with { type: 'json' };
import { expectClose, referenceTolerance } from './compare.js';
import { data, tolerance } from './cross-backend.js';
import type { FixtureTensor } from './fixtures.js';
import type { SuiteCase } from './suite-types.js';

/** The echo state network's reference values (fixtures/generate_esn.py; README there). */
export interface EsnLayerFixture {
  name: string;
  kind: 'layer';
  options: {
    inputSize: number;
    hiddenSize: number;
    numLayers: number;
    spectralRadius: number;
    leakRate: number;
    inputScaling: number;
    biasScaling: number;
    density: number;
    batchFirst: boolean;
  };
  input: FixtureTensor;
  lengths: number[] | null;
  h0: FixtureTensor | null;
  params: Record<string, FixtureTensor>;
  lossWeights: { output: FixtureTensor; hN: FixtureTensor };
  expected: { output: FixtureTensor; hN: FixtureTensor; loss: number; grads: Record<string, FixtureTensor> };
}

export interface SpectralRadiusFixture {
  name: string;
  kind: 'spectralRadius';
  size: number;
  /** Row-major `size × size`. */
  matrix: number[];
  /** `max |numpy.linalg.eigvals(matrix)|`. */
  expected: number;
}

export interface RidgeFixture {
  name: string;
  kind: 'ridge';
  states: FixtureTensor;
  targets: FixtureTensor;
  options: { alpha: number; fitIntercept: boolean; washout: number; lengths: number[] | null };
  /** `numpy.linalg.solve` on the centred rows. */
  expected: { weight: FixtureTensor; bias: FixtureTensor | null };
}

type EsnFixture = EsnLayerFixture | SpectralRadiusFixture | RidgeFixture;

const cases = esnFile.cases as unknown as EsnFixture[];

export const esnFixtures = {
  torchVersion: esnFile.torchVersion,
  numpyVersion: esnFile.numpyVersion,
  layers: cases.filter((c): c is EsnLayerFixture => c.kind === 'layer'),
  spectralRadius: cases.filter((c): c is SpectralRadiusFixture => c.kind === 'spectralRadius'),
  ridge: cases.filter((c): c is RidgeFixture => c.kind === 'ridge'),
};

const upload = (backend: Backend, t: FixtureTensor, requiresGrad = false) => tensor(t.data, t.shape, { backend, requiresGrad });

async function expectTensor(what: string, actual: Tensor | null | undefined, expected: FixtureTensor, backend: Backend): Promise<void> {
  if (!actual) throw new Error(`${what}: missing (expected shape [${expected.shape.join(', ')}])`);
  if (actual.shape.join() !== expected.shape.join()) {
    throw new Error(`${what}: shape [${actual.shape.join(', ')}] but the reference is [${expected.shape.join(', ')}]`);
  }
  expectClose(what, await actual.toArray(), expected.data, referenceTolerance(backend.dtype));
}

/** Every parameter of an ESN is frozen: no `requiresGrad`, and no gradient after backward. */
function expectFrozen(model: ESN): void {
  for (const [name, p] of model.namedParameters()) {
    if (p.requiresGrad || p.grad) throw new Error(`${name} must be frozen (requiresGrad ${p.requiresGrad}, grad ${p.grad})`);
  }
}

async function runLayerFixture(backend: Backend, fx: EsnLayerFixture): Promise<void> {
  const model = new ESN({ ...fx.options, backend, seed: 1 });
  const names = [...model.namedParameters()].map(([n]) => n);
  if (names.join() !== Object.keys(fx.params).join()) {
    throw new Error(`parameter names/order [${names.join(', ')}] differ from the spec's [${Object.keys(fx.params).join(', ')}]`);
  }
  await model.loadStateDict(fx.params);
  const x = upload(backend, fx.input, true);
  const h0 = fx.h0 ? upload(backend, fx.h0, true) : undefined;
  const out = model.forward(x, { h0, lengths: fx.lengths ?? undefined });
  const loss = add(sum(mul(out.output, upload(backend, fx.lossWeights.output))), sum(mul(out.hN, upload(backend, fx.lossWeights.hN))));
  loss.backward();
  await expectTensor('output', out.output, fx.expected.output, backend);
  await expectTensor('hN', out.hN, fx.expected.hN, backend);
  expectClose('loss', [await loss.item()], [fx.expected.loss], referenceTolerance(backend.dtype, 10));
  const inputs: Record<string, Tensor | undefined> = { input: x, h0 };
  for (const [name, expected] of Object.entries(fx.expected.grads))
    await expectTensor(`grad of ${name}`, inputs[name]?.grad, expected, backend);
  expectFrozen(model);
  disposeAll([x, h0, out, loss]);
  model.dispose();
}

/** Consecutive chunks of `steps` steps, as an async generator that frees each chunk once read. */
async function* chunksOf(t: Tensor, steps: number): AsyncGenerator<Tensor> {
  for (let start = 0; start < t.shape[0]; start += steps) {
    const chunk = slice(t, 0, start, Math.min(steps, t.shape[0] - start));
    yield chunk;
    // fitRidge has read the chunk in full before asking for the next one.
    chunk.dispose();
  }
}

async function runRidgeFixture(backend: Backend, fx: RidgeFixture, streamed: boolean): Promise<void> {
  const states = upload(backend, fx.states);
  const targets = upload(backend, fx.targets);
  const { alpha, fitIntercept, washout, lengths } = fx.options;
  const options = { alpha, fitIntercept, washout, lengths: lengths ?? undefined };
  // Chunks of 7 steps: the washout and the lengths then fall inside and across chunks.
  const readout: Linear = streamed
    ? await fitRidge(chunksOf(states, 7), chunksOf(targets, 7), options)
    : await fitRidge(states, targets, options);
  if (readout.backend !== states.backend) throw new Error(`the readout lives on ${readout.backend.name}, not on the states' backend`);
  await expectTensor('weight', readout.weight, fx.expected.weight, backend);
  if (fx.expected.bias) await expectTensor('bias', readout.bias, fx.expected.bias, backend);
  else if (readout.bias) throw new Error('fitIntercept false must give a Linear without bias');
  disposeAll([states, targets]);
  readout.dispose();
}

/** The ESN through the generic per-step path, larger than the fixtures, against float64 JS. */
function crossBackendCase(hidden: number): SuiteCase {
  const [steps, batch, inputSize] = [9, 4, 5];
  return {
    group: 'cross-backend',
    name: `model: esn, 2 layers, hidden ${hidden}, leak rate 0.4, T ${steps}, variable lengths`,
    run: async (subject, reference) => {
      const run = async (backend: Backend) => {
        const options = { inputSize, hiddenSize: hidden, numLayers: 2, leakRate: 0.4, density: 0.5, biasScaling: 0.2 };
        const model = new ESN({ ...options, spectralRadius: 0.95, backend, seed: 42 });
        const result = tidy(() => {
          const x = tensor(data(60, steps * batch * inputSize), [steps, batch, inputSize], { backend, requiresGrad: true });
          const out = model.forward(x, { lengths: [9, 3, 7, 1] });
          const loss = add(sum(mul(out.output, tensor(data(61, out.output.size), out.output.shape, { backend }))), sum(out.hN));
          loss.backward();
          return { x, out };
        });
        expectFrozen(model);
        const arrays = [await result.out.output.toArray(), await result.out.hN.toArray(), await (result.x.grad as Tensor).toArray()];
        disposeAll(result);
        model.dispose();
        return arrays;
      };
      const actual = await run(subject);
      const expected = await run(reference);
      const tol = tolerance(subject, steps * hidden * 2, `sums over ${hidden} units through ${steps} steps and 2 layers`);
      for (const [i, name] of ['output', 'hN', 'grad of input'].entries()) expectClose(name, actual[i], expected[i], tol);
    },
  };
}

/** The ESN's golden cases (a plain-torch reference and numpy's ridge solution) and its cross-backend case. */
export function esnCases(options: { modelHidden?: number } = {}): SuiteCase[] {
  const group = 'pytorch' as const;
  return [
    ...esnFixtures.layers.map((fx) => ({ group, name: `ESN ${fx.name}`, run: (b: Backend) => runLayerFixture(b, fx) })),
    ...esnFixtures.ridge.flatMap((fx) => [
      { group, name: `ESN fitRidge ${fx.name} vs numpy.linalg.solve`, run: (b: Backend) => runRidgeFixture(b, fx, false) },
      { group, name: `ESN fitRidge ${fx.name}, streamed in chunks`, run: (b: Backend) => runRidgeFixture(b, fx, true) },
    ]),
    crossBackendCase(options.modelHidden ?? 16),
  ];
}
