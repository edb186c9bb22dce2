import { add, type Backend, disposeAll, mul, Random, sum, tensor, tidy } from '@recur/core';
import { type BackendBuffer, type CellKind, GATE_COUNT, OPTIMIZER_STATE_COUNT, type OptimizerUpdate } from '@recur/core/backend';
import { expectClose, type Tolerance } from './compare.js';
import { buildModel, CELL_TYPES } from './models.js';
import type { SuiteCase } from './suite-types.js';

/** Host data exactly representable in float32, so both backends start from identical inputs. */
export function data(seed: number, n: number, low = -1, high = 1): Float64Array {
  const random = new Random(seed);
  return Float64Array.from({ length: n }, () => Math.fround(random.uniform(low, high)));
}

export function tolerance(subject: Backend, terms: number, reason: string): Tolerance {
  if (subject.dtype === 'float64') return { maxError: 1e-12 * Math.max(1, terms), reason: `float64 on both sides; ${reason}` };
  // float32 rounding: about ε per operation, growing with the number of terms summed.
  return { maxError: 1.2e-7 * 8 * Math.max(1, terms), reason: `float32 vs float64 reference; ${reason}` };
}

/**
 * Runs the same kernel on both backends from the same host inputs and compares every output
 * buffer by normalized error, failing on NaN/Inf where the reference is finite.
 */
async function compareKernel(
  subject: Backend,
  reference: Backend,
  tol: Tolerance,
  kernel: (backend: Backend) => BackendBuffer[],
): Promise<void> {
  const actual = kernel(subject);
  const expected = kernel(reference);
  for (let i = 0; i < expected.length; i++) {
    expectClose(`output ${i}`, await subject.read(actual[i]), await reference.read(expected[i]), tol);
  }
  for (const b of actual) subject.dispose(b);
  for (const b of expected) reference.dispose(b);
}

type KernelCase = [name: string, terms: number, reason: string, kernel: (b: Backend) => BackendBuffer[]];

function gemmCases(): KernelCase[] {
  const cases: KernelCase[] = [];
  for (const [m, n, k] of [
    [7, 5, 9],
    [33, 65, 17],
  ]) {
    for (const transA of [false, true]) {
      for (const transB of [false, true]) {
        for (const accumulate of [false, true]) {
          const name = `gemm ${m}×${n}×${k}${transA ? ' Aᵀ' : ''}${transB ? ' Bᵀ' : ''}${accumulate ? ' accumulate α=0.5 β=2' : ''}`;
          cases.push([
            name,
            k,
            `dot products of ${k} terms`,
            (b) => {
              const a = b.upload(data(1, m * k));
              const bb = b.upload(data(2, k * n));
              const options = { m, n, k, transA, transB };
              const out = accumulate
                ? b.gemm(a, bb, { ...options, alpha: 0.5, beta: 2 }, b.upload(data(3, m * n)))
                : b.gemm(a, bb, options);
              b.dispose(a);
              b.dispose(bb);
              return [out];
            },
          ]);
        }
      }
    }
  }
  return cases;
}

function elementwiseCases(): KernelCase[] {
  const general = data(4, 40, -3, 3);
  const positive = data(5, 40, 0.1, 3);
  const awayFromZero = data(6, 40, 0.5, 3).map((v, i) => (i % 2 ? -v : v));
  const extremes = Float64Array.from([-1000, -100, -30, -1e-3, 0, 1e-3, 30, 100, 1000]);
  const unary = (op: Parameters<Backend['unary']>[0], input: Float64Array, p?: number, p2?: number): KernelCase => [
    `unary ${op}${p !== undefined || p2 !== undefined ? `(${p}, ${p2})` : ''}${input === extremes ? ' at extreme inputs (no overflow to NaN)' : ''}`,
    1,
    'one rounding per element',
    (b) => {
      const x = b.upload(input);
      const y = b.unary(op, x, p, p2);
      b.dispose(x);
      return [y];
    },
  ];
  const binary = (
    op: Parameters<Backend['binary']>[0],
    aShape: number[],
    bShape: number[],
    outShape: number[],
    aStrides: number[],
    bStrides: number[],
  ): KernelCase => [
    `binary ${op} [${aShape}] with [${bShape}]`,
    1,
    'one rounding per element',
    (b) => {
      const x = b.upload(
        data(
          7,
          aShape.reduce((p, d) => p * d, 1),
        ),
      );
      const y = b.upload(
        op === 'div'
          ? data(
              8,
              bShape.reduce((p, d) => p * d, 1),
              0.5,
              2,
            )
          : data(
              8,
              bShape.reduce((p, d) => p * d, 1),
            ),
      );
      const out = b.binary(op, x, aStrides, y, bStrides, outShape);
      b.dispose(x);
      b.dispose(y);
      return [out];
    },
  ];
  return [
    ...(['copy', 'neg', 'exp', 'tanh', 'sigmoid', 'relu', 'step', 'square', 'abs'] as const).map((op) => unary(op, general)),
    unary('log', positive),
    unary('sqrt', positive),
    unary('reciprocal', awayFromZero),
    unary('scale', general, 0.37),
    unary('clamp', general, -0.5, 0.8),
    unary('clamp', general, undefined, 0.8),
    unary('clamp', general, -0.5, undefined),
    ...(['tanh', 'sigmoid', 'relu', 'step'] as const).map((op) => unary(op, extremes)),
    ...(['add', 'sub', 'mul', 'div'] as const).map((op) => binary(op, [3, 4], [4], [3, 4], [4, 1], [0, 1])),
    binary('mul', [2, 1, 5], [3, 1], [2, 3, 5], [5, 0, 1], [0, 1, 0]),
  ];
}

function reductionAndMovementCases(): KernelCase[] {
  const shape = [3, 4, 5];
  const x = data(9, 60);
  const one = (name: string, terms: number, kernel: (b: Backend, input: BackendBuffer) => BackendBuffer): KernelCase => [
    name,
    terms,
    terms > 1 ? `sums of ${terms} terms` : 'exact data movement',
    (b) => {
      const input = b.upload(x);
      const out = kernel(b, input);
      b.dispose(input);
      return [out];
    },
  ];
  const index = Int32Array.from([2, 0, 2, 1, 2]);
  return [
    one('sumTo [3,4,5] → [1,4,1]', 15, (b, i) => b.sumTo(i, shape, [1, 4, 1])),
    one('sumTo [3,4,5] → [3,1,5]', 4, (b, i) => b.sumTo(i, shape, [3, 1, 5])),
    one('sumTo [3,4,5] → [1,1,1]', 60, (b, i) => b.sumTo(i, shape, [1, 1, 1])),
    one('sumOfSquares of two buffers', 120, (b, i) => b.sumOfSquares([i, i])),
    one('permute [3,4,5] by [2,0,1]', 1, (b, i) => b.permute(i, shape, [2, 0, 1])),
    one('permute [3,4,5] by [1,0,2]', 1, (b, i) => b.permute(i, shape, [1, 0, 2])),
    ...[0, 1, 2].map((axis) => one(`concat on axis ${axis}`, 1, (b, i) => b.concat([i, i], [shape, shape], axis))),
    one('slice axis 1 [1, 3)', 1, (b, i) => b.slice(i, shape, 1, 1, 2)),
    one('gatherRows with repeats', 1, (b, i) => b.gatherRows(i, 20, index)),
    one('scatterAddRows with repeats', 3, (b, i) => b.scatterAddRows(b.slice(i, shape, 0, 0, 3), 20, Int32Array.from([1, 1, 0]), 3)),
  ];
}

function cellCases(): KernelCase[] {
  const batch = 3;
  const hidden = 5;
  return (['tanh', 'relu', 'lstm', 'gru', 'ugrnn'] as CellKind[]).flatMap((kind): KernelCase[] => {
    const width = GATE_COUNT[kind] * hidden;
    // Pre-activations up to ±40 exercise saturated gates (where naive formulas overflow).
    const gx = data(10, batch * width, -3, 3).map((v, i) => (i % 7 === 0 ? v * 13 : v));
    const gh = data(11, batch * width, -3, 3);
    const h = data(12, batch * hidden);
    const c = data(13, batch * hidden);
    const forward = (b: Backend) => {
      const inputs = { batch, hidden, gx: b.upload(gx), gh: b.upload(gh), h: b.upload(h), c: kind === 'lstm' ? b.upload(c) : undefined };
      return { inputs, result: b.cellForward(kind, inputs) };
    };
    return [
      [
        `cellForward ${kind}`,
        4,
        'a few roundings per gate',
        (b) => {
          const { inputs, result } = forward(b);
          for (const buf of [inputs.gx, inputs.gh, inputs.h, inputs.c, result.saved]) if (buf) b.dispose(buf);
          return result.c ? [result.h, result.c] : [result.h];
        },
      ],
      [
        `cellBackward ${kind}`,
        8,
        'a few roundings per gate, forward and backward',
        (b) => {
          const { inputs, result } = forward(b);
          const dh = b.upload(data(14, batch * hidden));
          const dc = kind === 'lstm' ? b.upload(data(15, batch * hidden)) : undefined;
          const g = b.cellBackward(kind, { batch, hidden, saved: result.saved, h: inputs.h, c: inputs.c, dh, dc });
          for (const buf of [inputs.gx, inputs.gh, inputs.h, inputs.c, result.saved, result.h, result.c, dh, dc]) if (buf) b.dispose(buf);
          return [g.dgx, g.dgh, g.dhPrev, ...(g.dcPrev ? [g.dcPrev] : [])];
        },
      ],
    ];
  });
}

function lossAndOptimizerCases(): KernelCase[] {
  const rows = 4;
  const classes = 6;
  const logits = data(16, rows * classes, -5, 5).map((v, i) => (i < classes ? v * 200 : v));
  const updates: OptimizerUpdate[] = [
    { kind: 'sgd', lr: 0.1, momentum: 0.9, dampening: 0, nesterov: true, weightDecay: 0.01, firstStep: true },
    { kind: 'adam', lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.1, decoupled: false, amsgrad: true, step: 1 },
    { kind: 'adam', lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, decoupled: true, amsgrad: false, step: 1 },
    { kind: 'rmsprop', lr: 0.01, alpha: 0.99, eps: 1e-8, weightDecay: 0.01, momentum: 0.9, centered: true },
  ];
  return [
    [
      'softmaxCrossEntropy with an ignored row and logits near ±1000',
      classes,
      'log-sum-exp over the classes',
      (b) => {
        const l = b.upload(logits);
        const { loss, dLogits } = b.softmaxCrossEntropy({
          rows,
          classes,
          logits: l,
          targets: Int32Array.from([2, -100, 5, 0]),
          ignoreIndex: -100,
          count: 3,
        });
        b.dispose(l);
        return [loss, dLogits];
      },
    ],
    ...updates.map(
      (update): KernelCase => [
        `optimizerStep ${update.kind}${update.kind === 'adam' && update.decoupled ? ' (AdamW)' : ''}, three steps`,
        10,
        'a few roundings per step',
        (b) => {
          const param = b.upload(data(17, 12));
          const state = Array.from({ length: OPTIMIZER_STATE_COUNT[update.kind] }, () => b.fill(12, 0));
          for (let step = 1; step <= 3; step++) {
            const grad = b.upload(data(18 + step, 12));
            const u = update.kind === 'adam' ? { ...update, step } : update.kind === 'sgd' ? { ...update, firstStep: step === 1 } : update;
            b.optimizerStep(u, param, grad, state);
            b.dispose(grad);
          }
          return [param, ...state];
        },
      ],
    ),
  ];
}

function kernelSuiteCase([name, terms, reason, kernel]: KernelCase): SuiteCase {
  return { group: 'cross-backend', name: `kernel: ${name}`, run: (s, r) => compareKernel(s, r, tolerance(s, terms, reason), kernel) };
}

function sequenceCases(): SuiteCase[] {
  const [steps, batch, inputSize, hidden] = [6, 3, 4, 5];
  return (['tanh', 'relu', 'lstm', 'gru', 'ugrnn'] as CellKind[]).map((kind) => {
    const rows = GATE_COUNT[kind] * hidden;
    const kernel = (b: Backend) => {
      const args = {
        kind,
        steps,
        batch,
        inputSize,
        hidden,
        x: b.upload(data(30, steps * batch * inputSize)),
        wIh: b.upload(data(31, rows * inputSize, -0.5, 0.5)),
        wHh: b.upload(data(32, rows * hidden, -0.5, 0.5)),
        bIh: b.upload(data(33, rows)),
        bHh: b.upload(data(34, rows)),
        h0: b.upload(data(35, batch * hidden)),
        c0: kind === 'lstm' ? b.upload(data(36, batch * hidden)) : undefined,
        lengths: Int32Array.from([6, 2, 4]),
      };
      const kernels = b.fused.sequence;
      if (!kernels) throw new Error(`${b.name} has no fused sequence kernels`);
      const fwd = kernels.forward(args);
      const dOutput = b.upload(data(37, steps * batch * hidden));
      const dhN = b.upload(data(38, batch * hidden));
      const dcN = kind === 'lstm' ? b.upload(data(39, batch * hidden)) : undefined;
      const bwd = kernels.backward({ ...args, saved: fwd.saved, dOutput, dhN, dcN });
      const outputs = [
        fwd.output,
        fwd.hN,
        ...(fwd.cN ? [fwd.cN] : []),
        bwd.dx,
        bwd.dWIh,
        bwd.dWHh,
        bwd.dBIh,
        bwd.dBHh,
        bwd.dh0,
        ...(bwd.dc0 ? [bwd.dc0] : []),
      ];
      for (const buf of [args.x, args.wIh, args.wHh, args.bIh, args.bHh, args.h0, args.c0, fwd.saved, dOutput, dhN, dcN])
        if (buf) b.dispose(buf);
      return outputs.filter((o): o is BackendBuffer => o !== undefined);
    };
    return {
      group: 'cross-backend' as const,
      name: `kernel: sequenceForward + sequenceBackward ${kind}, variable lengths`,
      skipReason: (s: Backend) =>
        s.fused.sequence ? null : "the backend has no fused.sequence kernels (core's per-step fallback is used)",
      run: (s: Backend, r: Backend) => compareKernel(s, r, tolerance(s, steps * 20, `${steps} steps of BPTT`), kernel),
    };
  });
}

/** Whole models at a larger size than the finite-difference cases: outputs and every gradient. */
function modelCases(hidden: number): SuiteCase[] {
  const dims = { inputSize: 5, steps: 9, batch: 4 };
  return CELL_TYPES.map((type) => ({
    group: 'cross-backend' as const,
    name: `model: ${type}, 2 layers, bidirectional, hidden ${hidden}, T ${dims.steps}, variable lengths`,
    run: async (subject: Backend, reference: Backend) => {
      const shape = { inputSize: dims.inputSize, hiddenSize: hidden, numLayers: 2, bidirectional: true, residual: false };
      const run = async (backend: Backend) => {
        const model = buildModel(type, shape, backend, 42);
        const result = tidy(() => {
          const x = tensor(data(50, dims.steps * dims.batch * dims.inputSize), [dims.steps, dims.batch, dims.inputSize], {
            backend,
            requiresGrad: true,
          });
          const out = model.forward(x, { lengths: [9, 3, 7, 1] });
          const w = tensor(data(51, out.output.size), out.output.shape, { backend });
          const loss = add(sum(mul(out.output, w)), sum(out.hN));
          loss.backward();
          return { x, out };
        });
        const arrays = [
          await result.out.output.toArray(),
          await result.out.hN.toArray(),
          await (result.x.grad as NonNullable<typeof result.x.grad>).toArray(),
        ];
        for (const [, p] of model.namedParameters()) arrays.push(await (p.grad as NonNullable<typeof p.grad>).toArray());
        disposeAll(result);
        model.dispose();
        return arrays;
      };
      const actual = await run(subject);
      const expected = await run(reference);
      const tol = tolerance(subject, dims.steps * hidden * 2, `sums over ${hidden} units through ${dims.steps} steps and 2 layers`);
      const names = ['output', 'hN', 'grad of input', ...expected.slice(3).map((_, i) => `grad of parameter ${i}`)];
      for (const [i, e] of expected.entries()) expectClose(names[i], actual[i], e, tol);
    },
  }));
}

export interface CrossBackendOptions {
  /** Hidden size of the whole-model comparisons (default 16). */
  modelHidden?: number;
}

/** Every kernel and whole-model comparison against the float64 JS reference. */
export function crossBackendCases(options: CrossBackendOptions = {}): SuiteCase[] {
  return [
    ...[...gemmCases(), ...elementwiseCases(), ...reductionAndMovementCases(), ...cellCases(), ...lossAndOptimizerCases()].map(
      kernelSuiteCase,
    ),
    ...sequenceCases(),
    ...modelCases(options.modelHidden ?? 16),
  ];
}
