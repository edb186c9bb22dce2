/**
 * `WebGpuBackend`: core's `Backend` interface on WGSL compute kernels.
 *
 * The class holds the device's configuration and delegates:
 * - `queue.ts`: the one command stream. Compute methods only record dispatches and copies, in
 *   call order, and return their result buffers at once; `read`/`sync` submit and wait.
 * - `memory.ts`: pooled buffers; `errors.ts`: GPU failures surfacing at the next `read`/`sync`;
 *   `pipelines.ts`: compiled kernels.
 * - `ops/*.ts`: the methods by family, each encoding the kernels of `kernels/*.ts`.
 */
import type {
  Backend,
  BackendBuffer,
  BinaryOp,
  CellBackwardArgs,
  CellBackwardResult,
  CellForwardArgs,
  CellForwardResult,
  CellKind,
  CrossEntropyArgs,
  FloatArray,
  FusedKernels,
  GemmOptions,
  OptimizerUpdate,
  UnaryOp,
} from '@recur/core/backend';
import type { Acquired, WebGpuBackendOptions } from './device.js';
import * as cells from './ops/cells.js';
import * as elementwise from './ops/elementwise.js';
import * as gemm from './ops/gemm.js';
import * as lossOptimizers from './ops/loss-optimizers.js';
import * as movement from './ops/movement.js';
import * as reductions from './ops/reductions.js';
import * as sequence from './ops/sequence.js';
import { CommandQueue } from './queue.js';

export class WebGpuBackend implements Backend {
  readonly name = 'webgpu';
  readonly dtype = 'float32' as const;
  readonly description: string;
  readonly adapterName: string;
  readonly device: GPUDevice;
  /** Which GEMM kernel runs (see `WebGpuBackendOptions.gemm`). */
  readonly gemmVariant: gemm.GemmVariant;
  /** How a fused sequence runs a time step (see `WebGpuBackendOptions.stepKernel`). */
  readonly stepKernel: sequence.StepKernel;
  /** The largest storage buffer the device binds, in float32 elements. */
  readonly maxBufferLength: number;
  /** Whole-layer sequences only: there is no stacked inference kernel yet. */
  readonly fused: FusedKernels;
  private readonly queue: CommandQueue;

  constructor(acquired: Acquired, options: Pick<WebGpuBackendOptions, 'maxDispatchesPerSubmit' | 'gemm' | 'stepKernel'> = {}) {
    this.device = acquired.device;
    this.adapterName = acquired.adapterName;
    const cpu = /llvmpipe|lavapipe|swiftshader|softpipe/i.test(acquired.adapterName);
    this.gemmVariant = options.gemm && options.gemm !== 'auto' ? options.gemm : cpu ? 'register' : 'tiled';
    this.stepKernel = options.stepKernel && options.stepKernel !== 'auto' ? options.stepKernel : cpu ? 'split' : 'fused';
    this.description = `WebGPU on ${this.adapterName}, float32, ${this.gemmVariant} GEMM, ${this.stepKernel} time steps`;
    this.queue = new CommandQueue(this.device, this.adapterName, options.maxDispatchesPerSubmit ?? 256);
    const limits = this.device.limits;
    this.maxBufferLength = Math.floor(Math.min(limits.maxBufferSize, limits.maxStorageBufferBindingSize) / 4);
    this.fused = {
      sequence: {
        forward: (args) => sequence.sequenceForward(this.queue, this.gemmVariant, this.stepKernel, args),
        backward: (args) => sequence.sequenceBackward(this.queue, this.gemmVariant, this.stepKernel, args),
      },
    };
  }

  /** Dispatches encoded so far (for tests and the benchmark). */
  get dispatchCount(): number {
    return this.queue.dispatchCount;
  }

  /** Command buffers submitted so far (for tests and the benchmark). */
  get submitCount(): number {
    return this.queue.submitCount;
  }

  // --- buffers and synchronisation ----------------------------------------------------------

  upload(data: ArrayLike<number>): BackendBuffer {
    return this.queue.upload(data);
  }

  fill(length: number, value: number): BackendBuffer {
    return elementwise.fill(this.queue, length, value);
  }

  read(buffer: BackendBuffer): Promise<FloatArray> {
    return this.queue.read(buffer);
  }

  dispose(buffer: BackendBuffer): void {
    this.queue.dispose(buffer);
  }

  sync(): Promise<void> {
    return this.queue.sync();
  }

  destroy(): void {
    this.queue.destroy();
  }

  // --- dense math ---------------------------------------------------------------------------

  gemm(a: BackendBuffer, b: BackendBuffer, options: GemmOptions, out?: BackendBuffer): BackendBuffer {
    return gemm.gemm(this.queue, this.gemmVariant, a, b, options, out);
  }

  unary(op: UnaryOp, x: BackendBuffer, param?: number, param2?: number, out?: BackendBuffer): BackendBuffer {
    return elementwise.unary(this.queue, op, x, param, param2, out);
  }

  binary(
    op: BinaryOp,
    a: BackendBuffer,
    aStrides: readonly number[],
    b: BackendBuffer,
    bStrides: readonly number[],
    outShape: readonly number[],
  ): BackendBuffer {
    return elementwise.binary(this.queue, op, a, aStrides, b, bStrides, outShape);
  }

  sumTo(x: BackendBuffer, inShape: readonly number[], outShape: readonly number[]): BackendBuffer {
    return reductions.sumTo(this.queue, x, inShape, outShape);
  }

  sumOfSquares(buffers: readonly BackendBuffer[]): BackendBuffer {
    return reductions.sumOfSquares(this.queue, buffers);
  }

  // --- data movement ------------------------------------------------------------------------

  permute(x: BackendBuffer, shape: readonly number[], perm: readonly number[]): BackendBuffer {
    return movement.permute(this.queue, x, shape, perm);
  }

  concat(xs: readonly BackendBuffer[], shapes: readonly (readonly number[])[], axis: number): BackendBuffer {
    return movement.concat(this.queue, xs, shapes, axis);
  }

  slice(x: BackendBuffer, shape: readonly number[], axis: number, start: number, length: number): BackendBuffer {
    return movement.slice(this.queue, x, shape, axis, start, length);
  }

  gatherRows(x: BackendBuffer, width: number, index: Int32Array): BackendBuffer {
    return movement.gatherRows(this.queue, x, width, index);
  }

  scatterAddRows(g: BackendBuffer, width: number, index: Int32Array, rows: number): BackendBuffer {
    return movement.scatterAddRows(this.queue, g, width, index, rows);
  }

  // --- fused cells and sequences ------------------------------------------------------------

  cellForward(kind: CellKind, args: CellForwardArgs): CellForwardResult {
    return cells.cellForward(this.queue, kind, args);
  }

  cellBackward(kind: CellKind, args: CellBackwardArgs): CellBackwardResult {
    return cells.cellBackward(this.queue, kind, args);
  }

  // --- loss and optimizers ------------------------------------------------------------------

  softmaxCrossEntropy(args: CrossEntropyArgs): { loss: BackendBuffer; dLogits: BackendBuffer } {
    return lossOptimizers.softmaxCrossEntropy(this.queue, args);
  }

  optimizerStep(update: OptimizerUpdate, param: BackendBuffer, grad: BackendBuffer, state: readonly BackendBuffer[]): void {
    lossOptimizers.optimizerStep(this.queue, update, param, grad, state);
  }
}
