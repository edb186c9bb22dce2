import {
  Adam,
  AdamW,
  add,
  type Backend,
  clipGradNorm,
  clipGradValue,
  crossEntropy,
  disposeAll,
  GRU,
  LSTM,
  mse,
  mul,
  type Optimizer,
  Parameter,
  RMSprop,
  RNN,
  SGD,
  sum,
  type Tensor,
  tensor,
} from '@recur/core';
import { expectClose, referenceTolerance } from './compare.js';
import { type FixtureTensor, fixtures, type LossFixture, type OptimizerFixture, type RnnFixture } from './fixtures.js';
import type { SuiteCase } from './suite-types.js';

const upload = (backend: Backend, t: FixtureTensor, requiresGrad = false) => tensor(t.data, t.shape, { backend, requiresGrad });

async function expectTensor(what: string, actual: Tensor | null | undefined, expected: FixtureTensor, backend: Backend): Promise<void> {
  if (!actual) throw new Error(`${what}: missing (expected shape [${expected.shape.join(', ')}])`);
  if (actual.shape.join() !== expected.shape.join()) {
    throw new Error(`${what}: shape [${actual.shape.join(', ')}] but PyTorch gives [${expected.shape.join(', ')}]`);
  }
  expectClose(what, await actual.toArray(), expected.data, referenceTolerance(backend.dtype));
}

async function runRnnFixture(backend: Backend, fx: RnnFixture): Promise<void> {
  const Layer = fx.module === 'LSTM' ? LSTM : fx.module === 'GRU' ? GRU : RNN;
  const model = new Layer({ ...fx.options, backend, seed: 0 });
  const names = [...model.namedParameters()].map(([n]) => n);
  if (names.join() !== fx.paramOrder.join()) {
    throw new Error(`parameter names/order [${names.join(', ')}] differ from PyTorch's [${fx.paramOrder.join(', ')}]`);
  }
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
  const inputs: Record<string, Tensor | undefined> = { input: x, h0, c0 };
  for (const [name, expected] of Object.entries(fx.expected.grads)) {
    const owner = inputs[name] ?? [...model.namedParameters()].find(([n]) => n === name)?.[1];
    await expectTensor(`grad of ${name}`, owner?.grad, expected, backend);
  }
  disposeAll([x, h0, c0, out, loss]);
  model.dispose();
}

async function runLossFixture(backend: Backend, fx: LossFixture): Promise<void> {
  if (fx.kind === 'crossEntropy') {
    const logits = upload(backend, fx.logits, true);
    const loss = crossEntropy(logits, fx.targets, { ignoreIndex: fx.ignoreIndex ?? -100 });
    loss.backward();
    expectClose('loss', [await loss.item()], [fx.expected.loss], referenceTolerance(backend.dtype, 10));
    await expectTensor('grad of logits', logits.grad, fx.expected.gradLogits, backend);
    disposeAll([logits, loss]);
    return;
  }
  const input = upload(backend, fx.input, true);
  const loss = mse(input, upload(backend, fx.target));
  loss.backward();
  expectClose('loss', [await loss.item()], [fx.expected.loss], referenceTolerance(backend.dtype, 10));
  await expectTensor('grad of input', input.grad, fx.expected.gradInput, backend);
  disposeAll([input, loss]);
}

/** Parameters whose `.grad` holds the given gradients. */
function parametersWithGrads(backend: Backend, grads: FixtureTensor[]): Parameter[] {
  return grads.map((g) => {
    const p = new Parameter(backend, new Float64Array(g.data.length), g.shape);
    p.grad = upload(backend, g);
    return p;
  });
}

function makeOptimizer(params: Parameter[], fx: OptimizerFixture): Optimizer {
  const o = fx.options;
  switch (fx.optimizer) {
    case 'SGD':
      return new SGD(params, { lr: o.lr, momentum: o.momentum, dampening: o.dampening, nesterov: o.nesterov, weightDecay: o.weightDecay });
    case 'Adam':
      return new Adam(params, { lr: o.lr, betas: o.betas, eps: o.eps, weightDecay: o.weightDecay, amsgrad: o.amsgrad });
    case 'AdamW':
      return new AdamW(params, { lr: o.lr, betas: o.betas, eps: o.eps, weightDecay: o.weightDecay, amsgrad: o.amsgrad });
    case 'RMSprop':
      return new RMSprop(params, {
        lr: o.lr,
        alpha: o.alpha,
        eps: o.eps,
        weightDecay: o.weightDecay,
        momentum: o.momentum,
        centered: o.centered,
      });
  }
}

async function runOptimizerFixture(backend: Backend, fx: OptimizerFixture): Promise<void> {
  const params = fx.initialParams.map((t) => new Parameter(backend, t.data, t.shape));
  const optimizer = makeOptimizer(params, fx);
  for (const [step, grads] of fx.gradsPerStep.entries()) {
    params.forEach((p, i) => {
      p.zeroGrad();
      p.grad = upload(backend, grads[i]);
    });
    optimizer.step();
    for (const [i, p] of params.entries())
      await expectTensor(`param ${i} after step ${step + 1}`, p, fx.expected.paramsPerStep[step][i], backend);
  }
  optimizer.dispose();
  disposeAll(params);
}

async function runClipFixture(backend: Backend, fx: (typeof fixtures.clip)[number]): Promise<void> {
  const params = parametersWithGrads(backend, fx.grads);
  if (fx.kind === 'norm') {
    const total = await clipGradNorm(params, fx.maxNorm);
    expectClose('total norm', [total], [fx.expected.totalNorm], referenceTolerance(backend.dtype));
  } else {
    clipGradValue(params, fx.clipValue);
  }
  for (const [i, p] of params.entries()) await expectTensor(`clipped grad ${i}`, p.grad, fx.expected.clippedGrads[i], backend);
  disposeAll(params);
}

/** Every PyTorch golden case, as suite cases. */
export function goldenCases(): SuiteCase[] {
  const group = 'pytorch' as const;
  return [
    ...fixtures.rnn.map((fx) => ({ group, name: `${fx.module} ${fx.name}`, run: (b: Backend) => runRnnFixture(b, fx) })),
    ...fixtures.losses.map((fx) => ({ group, name: `loss ${fx.name}`, run: (b: Backend) => runLossFixture(b, fx) })),
    ...fixtures.clip.map((fx) => ({ group, name: `clip ${fx.name}`, run: (b: Backend) => runClipFixture(b, fx) })),
    ...fixtures.optimizers.map((fx) => ({ group, name: `optimizer ${fx.name}`, run: (b: Backend) => runOptimizerFixture(b, fx) })),
  ];
}
