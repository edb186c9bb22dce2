/**
 * Fused sequences (`supports('fusedSequence')`): a whole single-direction layer per call, all of
 * it recorded into the open command buffer with no read-back inside.
 *
 * Forward: one GEMM for the input projection of every step (bias fused in), then per step either
 * one GEMM `h·W_hhᵀ + b_hh` and one gate kernel ('split'), or one kernel doing both ('fused',
 * kernels/sequence-fused.ts); then one kernel writing the masked output.
 * Backward: per step either one gate-backward kernel (which also carries dh/dc of finished rows)
 * and one accumulating GEMM `dh += dG_h·W_hh` ('split'), or one kernel that folds the previous
 * step's `dG_h·W_hh` in and then runs the gate backward ('fused'); after the loop single GEMMs
 * for `dx`, `dW_ih` and `dW_hh`, and column sums for the biases.
 */
import type { SequenceBackwardArgs, SequenceBackwardResult, SequenceForwardArgs, SequenceForwardResult } from '@recur/core/backend';
import { GATE_COUNT } from '@recur/core/backend';
import { columnSumKernel } from '../kernels/reductions.js';
import { sequenceLayout, sequenceOutputKernel, sequenceStepBackwardKernel, sequenceStepForwardKernel } from '../kernels/sequence.js';
import {
  fusedBackwardLayout,
  fusedStepBackwardKernel,
  fusedStepForwardKernel,
  STEP_BATCH_TILE,
  STEP_UNIT_TILE,
} from '../kernels/sequence-fused.js';
import { COPY_SRC, gpuOf } from '../memory.js';
import { Params } from '../params.js';
import type { CommandQueue } from '../queue.js';
import { encodeGemm, type GemmVariant } from './gemm.js';

/** How a time step runs: a GEMM then a gate kernel, or one kernel for both (see `WebGpuBackendOptions.stepKernel`). */
export type StepKernel = 'split' | 'fused';

const stepGrid = (B: number, H: number): [number, number] => [Math.ceil(H / STEP_UNIT_TILE), Math.ceil(B / STEP_BATCH_TILE)];

export function sequenceForward(
  queue: CommandQueue,
  variant: GemmVariant,
  step: StepKernel,
  args: SequenceForwardArgs,
): SequenceForwardResult {
  const { kind, steps: T, batch: B, inputSize: I, hidden: H } = args;
  const GH = GATE_COUNT[kind] * H;
  const BH = B * H;
  const lstm = kind === 'lstm';
  const layout = sequenceLayout(kind, T, B, H);
  const saved = queue.alloc(layout.total);
  const sv = gpuOf(saved);
  queue.copy(gpuOf(args.h0), 0, sv, layout.hs, BH);
  if (lstm) {
    if (args.c0) queue.copy(gpuOf(args.c0), 0, sv, layout.cs, BH);
    else queue.clear(sv, layout.cs, BH);
  }
  const hasLengths = args.lengths !== undefined;
  if (args.lengths) queue.copy(queue.temporary(Float32Array.from(args.lengths), COPY_SRC), 0, sv, layout.lengths, B);
  const wHh = gpuOf(args.wHh);
  const bHh = args.bHh ? gpuOf(args.bHh) : undefined;
  const gxAll = queue.alloc(T * B * GH);
  const gx = gpuOf(gxAll);
  encodeGemm(
    queue,
    variant,
    gpuOf(args.x),
    0,
    gpuOf(args.wIh),
    0,
    gx,
    0,
    { m: T * B, n: GH, k: I, transB: true },
    args.bIh ? gpuOf(args.bIh) : undefined,
  );
  if (step === 'fused') {
    for (let t = 0; t < T; t++) {
      const params = new Params().u(B, H, t).bool(hasLengths).u(layout.hs, layout.cs, layout.lengths).bool(!!bHh);
      // Without b_hh any buffer fills the binding; the kernel does not read it.
      const storage = [gx, wHh, bHh ?? wHh, sv];
      queue.run(`seq-fused-fwd:${kind}`, () => fusedStepForwardKernel(kind), storage, params, stepGrid(B, H));
    }
  } else {
    const ghBuffer = queue.alloc(B * GH);
    const gh = gpuOf(ghBuffer);
    for (let t = 0; t < T; t++) {
      encodeGemm(queue, variant, sv, layout.hs + t * BH, wHh, 0, gh, 0, { m: B, n: GH, k: H, transB: true }, bHh);
      const params = new Params().u(B, H, t).bool(hasLengths).u(layout.hs, layout.cs, layout.lengths);
      queue.run(`seq-fwd:${kind}`, () => sequenceStepForwardKernel(kind), [gx, gh, sv], params, BH);
    }
    queue.dispose(ghBuffer);
  }
  queue.dispose(gxAll);
  const output = queue.alloc(T * BH);
  const outParams = new Params()
    .u(T * BH, B, H)
    .bool(hasLengths)
    .u(layout.hs, layout.lengths);
  queue.run('seq-out', sequenceOutputKernel, [sv, gpuOf(output)], outParams, T * BH);
  const result: SequenceForwardResult = { output, hN: queue.extract(sv, layout.hs + T * BH, BH), saved };
  if (lstm) result.cN = queue.extract(sv, layout.cs + T * BH, BH);
  return result;
}

export function sequenceBackward(
  queue: CommandQueue,
  variant: GemmVariant,
  step: StepKernel,
  args: SequenceBackwardArgs,
): SequenceBackwardResult {
  if (step === 'fused') return fusedSequenceBackward(queue, variant, args);
  const { kind, steps: T, batch: B, hidden: H } = args;
  const GH = GATE_COUNT[kind] * H;
  const BH = B * H;
  const TBGH = T * B * GH;
  const lstm = kind === 'lstm';
  const layout = sequenceLayout(kind, T, B, H);
  const sv = gpuOf(args.saved);
  const dStateBuffer = queue.alloc((lstm ? 2 : 1) * BH);
  const dState = gpuOf(dStateBuffer);
  queue.copy(gpuOf(args.dhN), 0, dState, 0, BH);
  if (lstm) {
    if (args.dcN) queue.copy(gpuOf(args.dcN), 0, dState, BH, BH);
    else queue.clear(dState, BH, BH);
  }
  const dGBuffer = queue.alloc(2 * TBGH);
  const dG = gpuOf(dGBuffer);
  const dOutput = gpuOf(args.dOutput);
  const wHh = gpuOf(args.wHh);
  const hasLengths = args.lengths !== undefined;
  for (let t = T - 1; t >= 0; t--) {
    const params = new Params().u(B, H, t).bool(hasLengths).u(layout.hs, layout.cs, layout.lengths, T);
    queue.run(`seq-bwd:${kind}`, () => sequenceStepBackwardKernel(kind), [sv, dOutput, dState, dG], params, BH);
    // dh_prev += dGh_t · W_hh (rows of finished sequences have dGh_t = 0).
    encodeGemm(queue, variant, dG, TBGH + t * B * GH, wHh, 0, dState, 0, { m: B, n: H, k: GH, beta: 1 });
  }
  const result = weightGradients(queue, variant, args, dG, { buffer: dState, dh: 0, dc: BH });
  queue.dispose(dGBuffer);
  queue.dispose(dStateBuffer);
  return result;
}

/**
 * Fused backward: the workspace holds the gate gradients, dOutput and the state gradient, so
 * each step is one dispatch of three bindings; a last dispatch folds dG_h[0]·W_hh into dh0.
 */
function fusedSequenceBackward(queue: CommandQueue, variant: GemmVariant, args: SequenceBackwardArgs): SequenceBackwardResult {
  const { kind, steps: T, batch: B, hidden: H } = args;
  const BH = B * H;
  const lstm = kind === 'lstm';
  const layout = sequenceLayout(kind, T, B, H);
  const ws = fusedBackwardLayout(kind, T, B, H);
  const workspace = queue.alloc(ws.total);
  const w = gpuOf(workspace);
  queue.copy(gpuOf(args.dOutput), 0, w, ws.dOutput, T * BH);
  queue.copy(gpuOf(args.dhN), 0, w, ws.dState, BH);
  if (lstm) {
    if (args.dcN) queue.copy(gpuOf(args.dcN), 0, w, ws.dState + BH, BH);
    else queue.clear(w, ws.dState + BH, BH);
  }
  const storage = [gpuOf(args.saved), gpuOf(args.wHh), w];
  const dispatch = (t: number, next: number | null, cellStep: boolean) => {
    const params = new Params()
      .u(B, H, t)
      .bool(args.lengths !== undefined)
      .u(layout.hs, layout.cs, layout.lengths, T, next ?? 0)
      .bool(next !== null)
      .bool(cellStep)
      .u(ws.dOutput, ws.dState);
    queue.run(`seq-fused-bwd:${kind}`, () => fusedStepBackwardKernel(kind), storage, params, stepGrid(B, H));
  };
  for (let t = T - 1; t >= 0; t--) dispatch(t, t + 1 < T ? t + 1 : null, true);
  dispatch(0, 0, false);
  const result = weightGradients(queue, variant, args, w, { buffer: w, dh: ws.dState, dc: ws.dState + BH });
  queue.dispose(workspace);
  return result;
}

/**
 * What both backward paths end with, from the gate gradients `dG` = [dGx T·B·G·H | dGh T·B·G·H]
 * (at offset 0 of their buffer) and the finished state gradient: `dx`, `dW_ih`, `dW_hh`, the
 * bias gradients (column sums) and copies of dh0/dc0.
 */
function weightGradients(
  queue: CommandQueue,
  variant: GemmVariant,
  args: SequenceBackwardArgs,
  dG: GPUBuffer,
  state: { buffer: GPUBuffer; dh: number; dc: number },
): SequenceBackwardResult {
  const { kind, steps: T, batch: B, inputSize: I, hidden: H } = args;
  const GH = GATE_COUNT[kind] * H;
  const TBGH = T * B * GH;
  const layout = sequenceLayout(kind, T, B, H);
  const sv = gpuOf(args.saved);
  const dx = queue.alloc(T * B * I);
  encodeGemm(queue, variant, dG, 0, gpuOf(args.wIh), 0, gpuOf(dx), 0, { m: T * B, n: I, k: GH });
  const dWIh = queue.alloc(GH * I);
  encodeGemm(queue, variant, dG, 0, gpuOf(args.x), 0, gpuOf(dWIh), 0, { m: GH, n: I, k: T * B, transA: true });
  const dWHh = queue.alloc(GH * H);
  encodeGemm(queue, variant, dG, TBGH, sv, layout.hs, gpuOf(dWHh), 0, { m: GH, n: H, k: T * B, transA: true });
  const columnSums = (offset: number) => {
    const out = queue.alloc(GH);
    queue.run('column-sum', columnSumKernel, [dG, gpuOf(out)], new Params().u(T * B, GH, offset), GH);
    return out;
  };
  const result: SequenceBackwardResult = { dx, dWIh, dWHh, dh0: queue.extract(state.buffer, state.dh, B * H) };
  if (args.bIh) result.dBIh = columnSums(0);
  if (args.bHh) result.dBHh = columnSums(TBGH);
  if (kind === 'lstm') result.dc0 = queue.extract(state.buffer, state.dc, B * H);
  return result;
}
