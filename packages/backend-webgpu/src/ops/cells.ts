/**
 * Standalone fused cell steps. The kernels bind at most 4 storage buffers, so LSTM's `[h | c]`
 * and `[dh | dc]` are packed into one buffer first, and each kernel writes one workspace that is
 * split into the result buffers.
 */
import type { CellBackwardArgs, CellBackwardResult, CellForwardArgs, CellForwardResult, CellKind } from '@recur/core/backend';
import { GATE_COUNT, SAVED_BLOCKS } from '@recur/core/backend';
import { cellBackwardKernel, cellForwardKernel } from '../kernels/cells.js';
import { gpuOf, type WebGpuBuffer } from '../memory.js';
import { Params } from '../params.js';
import type { CommandQueue } from '../queue.js';

export function cellForward(queue: CommandQueue, kind: CellKind, args: CellForwardArgs): CellForwardResult {
  const { batch: B, hidden: H } = args;
  const BH = B * H;
  const S = SAVED_BLOCKS[kind];
  const lstm = kind === 'lstm';
  let state = gpuOf(args.h);
  let packed: WebGpuBuffer | null = null;
  if (lstm) {
    packed = queue.alloc(2 * BH);
    state = gpuOf(packed);
    queue.copy(gpuOf(args.h), 0, state, 0, BH);
    if (args.c) queue.copy(gpuOf(args.c), 0, state, BH, BH);
    else queue.clear(state, BH, BH);
  }
  const saved = queue.alloc(S * BH + (lstm ? 4 : 2) * BH);
  const sv = gpuOf(saved);
  queue.run(`cell-fwd:${kind}`, () => cellForwardKernel(kind), [gpuOf(args.gx), gpuOf(args.gh), state, sv], new Params().u(B, H), BH);
  if (packed) queue.dispose(packed);
  const h = queue.extract(sv, S * BH, BH);
  return lstm ? { h, c: queue.extract(sv, (S + 1) * BH, BH), saved } : { h, saved };
}

/** `args.h`/`args.c` are not read: `saved` already holds them. */
export function cellBackward(queue: CommandQueue, kind: CellKind, args: CellBackwardArgs): CellBackwardResult {
  const { batch: B, hidden: H } = args;
  const BH = B * H;
  const GBH = GATE_COUNT[kind] * BH;
  const lstm = kind === 'lstm';
  let grads = gpuOf(args.dh);
  let packed: WebGpuBuffer | null = null;
  if (lstm) {
    packed = queue.alloc(2 * BH);
    grads = gpuOf(packed);
    queue.copy(gpuOf(args.dh), 0, grads, 0, BH);
    if (args.dc) queue.copy(gpuOf(args.dc), 0, grads, BH, BH);
    else queue.clear(grads, BH, BH);
  }
  const ws = queue.alloc(2 * GBH + (lstm ? 2 : 1) * BH);
  const w = gpuOf(ws);
  queue.run(`cell-bwd:${kind}`, () => cellBackwardKernel(kind), [gpuOf(args.saved), grads, w], new Params().u(B, H), BH);
  if (packed) queue.dispose(packed);
  const result: CellBackwardResult = {
    dgx: queue.extract(w, 0, GBH),
    dgh: queue.extract(w, GBH, GBH),
    dhPrev: queue.extract(w, 2 * GBH, BH),
  };
  if (lstm) result.dcPrev = queue.extract(w, 2 * GBH + BH, BH);
  queue.dispose(ws);
  return result;
}
