/**
 * `WebGpuBackend`: core's `Backend` interface on WGSL compute kernels.
 *
 * Queue model: every compute method encodes its dispatches (and buffer copies) into one open
 * command encoder and returns its result buffers at once. The encoder is submitted when
 * `read`/`sync` is called or when the uniform arena of the current command buffer is full
 * (`maxDispatchesPerSubmit`), so submission order is call order. Nothing in a compute method
 * waits for the GPU.
 *
 * Memory: result buffers come from a pool keyed by size class (powers of two up to 1 MiB, then
 * MiB multiples); `dispose` returns them to it. Because all work goes through the one queue in
 * call order, a buffer can be reused by later work as soon as it is disposed. Host data never
 * goes through `queue.writeBuffer` (which would run before the still-unsubmitted encoder and
 * break call order): `upload` and the per-call integer buffers (indices, targets) are new
 * buffers filled with `mappedAtCreation`, and per-dispatch parameters are slots of a uniform
 * buffer that is mapped while the encoder is recorded and unmapped just before submit.
 *
 * Errors: pipeline creation is wrapped in a validation error scope, buffer creation in an
 * out-of-memory scope, and `uncapturederror`/`device.lost` are recorded; all of them become a
 * `WebGpuError` naming the adapter, thrown by the next `read`/`sync` (device loss on every later
 * one). `read`/`sync` race the device's `lost` promise, so a lost device never hangs them.
 */
import type {
  Backend,
  BackendBuffer,
  BackendFeature,
  BinaryOp,
  CellBackwardArgs,
  CellBackwardResult,
  CellForwardArgs,
  CellForwardResult,
  CellKind,
  CrossEntropyArgs,
  FloatArray,
  GemmOptions,
  OptimizerUpdate,
  SequenceBackwardArgs,
  SequenceBackwardResult,
  SequenceForwardArgs,
  SequenceForwardResult,
  UnaryOp,
} from '@recur/core';
import { GATE_COUNT, RecurError } from '@recur/core';
import { type Acquired, WebGpuError } from './device.js';
import * as K from './kernels.js';

/** GPUBufferUsage / GPUMapMode / GPUShaderStage values (the globals are absent in Node). */
const MAP_READ = 1;
const COPY_SRC = 4;
const COPY_DST = 8;
const UNIFORM = 64;
const STORAGE = 128;
const COMPUTE = 4;

const SLOT_BYTES = 256;
const PARAM_WORDS = SLOT_BYTES / 4;

/** A buffer of this backend: `length` float32 elements in a (possibly larger, pooled) GPUBuffer. */
export class WebGpuBuffer implements BackendBuffer {
  readonly length: number;
  gpu: GPUBuffer | null;
  constructor(length: number, gpu: GPUBuffer) {
    this.length = length;
    this.gpu = gpu;
  }
}

/** Per-dispatch parameters, written in slot order (see kernels.ts). */
class Params {
  readonly words = new Uint32Array(PARAM_WORDS);
  private readonly floats = new Float32Array(this.words.buffer);
  private readonly ints = new Int32Array(this.words.buffer);
  private at = 0;
  u(...values: number[]): this {
    for (const v of values) this.words[this.at++] = v >>> 0;
    return this;
  }
  f(...values: number[]): this {
    for (const v of values) this.floats[this.at++] = v;
    return this;
  }
  i(value: number): this {
    this.ints[this.at++] = value;
    return this;
  }
  bool(value: boolean): this {
    return this.u(value ? 1 : 0);
  }
  /** Continues at slot `index` (arrays start at fixed slots). */
  seek(index: number): this {
    this.at = index;
    return this;
  }
  array(values: readonly number[], at: number): this {
    for (let i = 0; i < values.length; i++) this.words[at + i] = values[i] >>> 0;
    return this;
  }
}

interface Pipeline {
  pipeline: GPUComputePipeline;
  layout: GPUBindGroupLayout;
}

const sizeOf = (shape: readonly number[]) => shape.reduce((p, d) => p * d, 1);

function contiguousStrides(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    strides[d] = s;
    s *= shape[d];
  }
  return strides;
}

/** Bytes actually allocated for `bytes`: pooled size classes. */
function sizeClass(bytes: number): number {
  const b = Math.max(16, bytes);
  if (b <= 1 << 20) return 2 ** Math.ceil(Math.log2(b));
  return Math.ceil(b / (1 << 20)) * (1 << 20);
}

export class WebGpuBackend implements Backend {
  readonly name = 'webgpu';
  readonly dtype = 'float32' as const;
  readonly description: string;
  readonly adapterName: string;
  readonly device: GPUDevice;

  private readonly pipelines = new Map<string, Pipeline>();
  private readonly pool = new Map<number, GPUBuffer[]>();
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private arena: GPUBuffer | null = null;
  private arenaWords: Uint32Array | null = null;
  private arenaSlot = 0;
  private readonly slots: number;
  /** Buffers to destroy once the command buffer that uses them is submitted. */
  private temporaries: GPUBuffer[] = [];
  private scopes: Promise<void>[] = [];
  private error: WebGpuError | null = null;
  /** Kernels whose pipeline failed to compile, with the error (reported before any other). */
  private readonly broken = new Map<string, WebGpuError>();
  private compileError: WebGpuError | null = null;
  private lost: WebGpuError | null = null;
  private readonly lostPromise: Promise<WebGpuError>;
  private destroyed = false;
  /** Dispatches encoded so far (for tests and the benchmark). */
  dispatchCount = 0;
  submitCount = 0;
  /** Which GEMM kernel runs (see `WebGpuBackendOptions.gemm`). */
  readonly gemmVariant: 'tiled' | 'register';

  constructor(acquired: Acquired, options: { maxDispatchesPerSubmit?: number; gemm?: 'tiled' | 'register' | 'auto' } = {}) {
    this.device = acquired.device;
    this.adapterName = acquired.adapterName;
    const cpu = /llvmpipe|lavapipe|swiftshader|softpipe/i.test(acquired.adapterName);
    this.gemmVariant = options.gemm && options.gemm !== 'auto' ? options.gemm : cpu ? 'register' : 'tiled';
    this.description = `WebGPU on ${this.adapterName}, float32, ${this.gemmVariant} GEMM`;
    this.slots = Math.max(1, options.maxDispatchesPerSubmit ?? 256);
    const onError = (event: Event) => {
      const error = (event as GPUUncapturedErrorEvent).error;
      const message = error?.message ?? String(error);
      // Uses of a pipeline that failed to compile repeat that failure; it is reported once, by its scope.
      if (this.broken.size > 0 && /due to a previous error/.test(message)) return;
      this.fail(`${error?.constructor?.name ?? 'GPUError'}: ${message}`);
    };
    const device = this.device as GPUDevice & { addEventListener?: GPUDevice['addEventListener'] };
    if (typeof device.addEventListener === 'function') device.addEventListener('uncapturederror', onError);
    else (device as { onuncapturederror: unknown }).onuncapturederror = onError;
    this.lostPromise = this.device.lost.then((info) => {
      const error = new WebGpuError(this.adapterName, `device lost (${info.reason ?? 'unknown'}): ${info.message}`);
      if (!this.destroyed) this.lost = error;
      return error;
    });
  }

  supports(feature: BackendFeature): boolean {
    return feature === 'fusedSequence';
  }

  // --- errors -------------------------------------------------------------------------------

  private fail(message: string): void {
    if (!this.error) this.error = new WebGpuError(this.adapterName, message);
  }

  private track(scope: Promise<GPUError | null>, what: () => string): void {
    this.scopes.push(
      scope.then(
        (error) => {
          if (error) this.fail(`${what()}: ${error.message}`);
        },
        () => {},
      ),
    );
  }

  /** Waits for the error scopes opened so far and throws the first recorded error. */
  private async settle(): Promise<void> {
    const scopes = this.scopes;
    this.scopes = [];
    await Promise.all(scopes);
    if (this.lost) throw this.lost;
    if (this.compileError) {
      const error = this.compileError;
      this.compileError = null;
      this.error = null;
      throw error;
    }
    if (this.error) {
      const error = this.error;
      this.error = null;
      throw error;
    }
  }

  /** `promise`, unless the device is lost first (then the loss is thrown): never hangs. */
  private async orLost<T>(promise: Promise<T>): Promise<T> {
    const outcome = await Promise.race([
      promise.then(
        (value) => ({ value }),
        (failure: unknown) => ({ failure }),
      ),
      this.lostPromise,
    ]);
    if (outcome instanceof WebGpuError) throw outcome;
    if ('failure' in outcome) {
      await this.settle();
      throw new WebGpuError(this.adapterName, `${(outcome.failure as Error)?.message ?? String(outcome.failure)}`);
    }
    return outcome.value;
  }

  private checkAlive(): void {
    if (this.destroyed) throw new RecurError('WebGpuBackend: used after destroy()');
  }

  // --- buffers ------------------------------------------------------------------------------

  private createGpuBuffer(bytes: number, usage: number, mapped = false): GPUBuffer {
    const limit = Math.min(this.device.limits.maxBufferSize, this.device.limits.maxStorageBufferBindingSize);
    if (bytes > limit && usage & STORAGE) {
      throw new WebGpuError(this.adapterName, `out of memory: a buffer of ${bytes} bytes exceeds the device limit of ${limit} bytes`);
    }
    this.device.pushErrorScope('out-of-memory');
    let buffer: GPUBuffer;
    try {
      buffer = this.device.createBuffer({ size: bytes, usage, mappedAtCreation: mapped });
    } catch (error) {
      void this.device.popErrorScope().catch(() => {});
      throw new WebGpuError(this.adapterName, `out of memory: createBuffer(${bytes} bytes) failed: ${(error as Error).message}`);
    }
    this.track(this.device.popErrorScope(), () => `out of memory: createBuffer(${bytes} bytes)`);
    return buffer;
  }

  /** A pooled storage buffer for `length` floats (contents undefined). */
  private alloc(length: number): WebGpuBuffer {
    this.checkAlive();
    const bytes = sizeClass(length * 4);
    const free = this.pool.get(bytes);
    const gpu = free?.pop() ?? this.createGpuBuffer(bytes, STORAGE | COPY_SRC | COPY_DST);
    return new WebGpuBuffer(length, gpu);
  }

  private gpuOf(buffer: BackendBuffer): GPUBuffer {
    if (!(buffer instanceof WebGpuBuffer)) throw new RecurError('WebGpuBackend: received a buffer that was not made by a WebGpuBackend');
    if (!buffer.gpu) throw new RecurError(`WebGpuBackend: use of a disposed buffer (${buffer.length} elements)`);
    return buffer.gpu;
  }

  /** A one-off storage buffer holding host integers (indices, targets), freed after submit. */
  private intBuffer(data: Int32Array): GPUBuffer {
    const gpu = this.createGpuBuffer(Math.max(16, Math.ceil((data.length * 4) / 4) * 4), STORAGE, true);
    new Int32Array(gpu.getMappedRange()).set(data);
    gpu.unmap();
    this.temporaries.push(gpu);
    return gpu;
  }

  upload(data: ArrayLike<number>): BackendBuffer {
    this.checkAlive();
    const gpu = this.createGpuBuffer(sizeClass(data.length * 4), STORAGE | COPY_SRC | COPY_DST, true);
    new Float32Array(gpu.getMappedRange(), 0, data.length).set(data);
    gpu.unmap();
    return new WebGpuBuffer(data.length, gpu);
  }

  fill(length: number, value: number): BackendBuffer {
    const out = this.alloc(length);
    if (length === 0) return out;
    if (value === 0 && !Object.is(value, -0)) {
      this.commands().clearBuffer(this.gpuOf(out), 0, length * 4);
    } else {
      this.run('fill', K.fillKernel, [this.gpuOf(out)], new Params().u(length).f(value), length);
    }
    return out;
  }

  async read(buffer: BackendBuffer): Promise<FloatArray> {
    this.checkAlive();
    const source = this.gpuOf(buffer);
    const n = buffer.length;
    if (n === 0) {
      await this.sync();
      return new Float32Array(0);
    }
    const staging = this.createGpuBuffer(n * 4, MAP_READ | COPY_DST);
    this.commands().copyBufferToBuffer(source, 0, staging, 0, n * 4);
    this.flush();
    try {
      await this.orLost(staging.mapAsync(1));
      await this.settle();
      return new Float32Array(staging.getMappedRange().slice(0));
    } finally {
      staging.destroy();
    }
  }

  dispose(buffer: BackendBuffer): void {
    if (!(buffer instanceof WebGpuBuffer) || !buffer.gpu) return;
    const gpu = buffer.gpu;
    buffer.gpu = null;
    if (this.destroyed) return;
    const free = this.pool.get(gpu.size) ?? [];
    this.pool.set(gpu.size, free);
    free.push(gpu);
  }

  async sync(): Promise<void> {
    this.checkAlive();
    this.flush();
    await this.orLost(this.device.queue.onSubmittedWorkDone());
    await this.settle();
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    try {
      this.pass?.end();
      this.arena?.unmap();
    } catch {
      // the device may already be lost
    }
    for (const list of this.pool.values()) for (const b of list) b.destroy();
    this.pool.clear();
    for (const b of this.temporaries) b.destroy();
    this.temporaries = [];
    this.device.destroy();
  }

  // --- encoding -----------------------------------------------------------------------------

  private ensureEncoder(): GPUCommandEncoder {
    if (!this.encoder) this.encoder = this.device.createCommandEncoder();
    return this.encoder;
  }

  /** The encoder, outside any compute pass (for copies and clears). */
  private commands(): GPUCommandEncoder {
    this.checkAlive();
    if (this.pass) {
      this.pass.end();
      this.pass = null;
    }
    return this.ensureEncoder();
  }

  private computePass(): GPUComputePassEncoder {
    if (!this.pass) this.pass = this.ensureEncoder().beginComputePass();
    return this.pass;
  }

  /** Submits everything encoded so far. */
  private flush(): void {
    if (this.pass) {
      this.pass.end();
      this.pass = null;
    }
    if (this.arena) {
      this.arena.unmap();
      this.temporaries.push(this.arena);
      this.arena = null;
      this.arenaWords = null;
    }
    if (this.encoder) {
      this.device.queue.submit([this.encoder.finish()]);
      this.encoder = null;
      this.submitCount++;
    }
    // Destroying after submit is safe: the memory is freed once the submitted work completes.
    for (const b of this.temporaries) b.destroy();
    this.temporaries = [];
  }

  private pipeline(key: string, source: () => K.KernelSource): Pipeline {
    let cached = this.pipelines.get(key);
    if (cached) return cached;
    const kernel = source();
    this.device.pushErrorScope('validation');
    const module = this.device.createShaderModule({ code: kernel.code, label: key });
    const layout = this.device.createBindGroupLayout({
      entries: [
        { binding: 0, visibility: COMPUTE, buffer: { type: 'uniform' } },
        ...kernel.storage.map((access, i) => ({
          binding: i + 1,
          visibility: COMPUTE,
          buffer: { type: access === 'rw' ? ('storage' as const) : ('read-only-storage' as const) },
        })),
      ],
    });
    const pipeline = this.device.createComputePipeline({
      label: key,
      layout: this.device.createPipelineLayout({ bindGroupLayouts: [layout] }),
      compute: { module, entryPoint: 'main' },
    });
    this.scopes.push(
      this.device.popErrorScope().then(
        async (error) => {
          if (!error) return;
          let detail = error.message;
          try {
            const info = await module.getCompilationInfo();
            const messages = info.messages.filter((m) => m.type === 'error').map((m) => `${m.lineNum}:${m.linePos} ${m.message}`);
            if (messages.length) detail += ` (${messages.join('; ')})`;
          } catch {
            // compilation info is optional
          }
          const failure = new WebGpuError(this.adapterName, `kernel '${key}' failed to compile or link: ${detail}`);
          this.broken.set(key, failure);
          this.compileError ??= failure;
        },
        () => {},
      ),
    );
    cached = { pipeline, layout };
    this.pipelines.set(key, cached);
    return cached;
  }

  /**
   * Encodes one dispatch of kernel `key`: `storage` bound at 1.., `params` in a uniform slot,
   * `count` invocations of 64 (or an explicit workgroup grid).
   */
  private run(key: string, source: () => K.KernelSource, storage: GPUBuffer[], params: Params, count: number | [number, number]): void {
    this.checkAlive();
    let gx: number;
    let gy: number;
    if (typeof count === 'number') {
      const groups = Math.ceil(count / K.WG);
      if (groups === 0) return;
      gx = Math.min(groups, 65535);
      gy = Math.ceil(groups / gx);
    } else {
      [gx, gy] = count;
      if (gx === 0 || gy === 0) return;
    }
    const known = this.broken.get(key);
    if (known) throw known;
    const { pipeline, layout } = this.pipeline(key, source);
    if (this.arena && this.arenaSlot >= this.slots) this.flush();
    if (!this.arena) {
      this.arena = this.createGpuBuffer(this.slots * SLOT_BYTES, UNIFORM, true);
      this.arenaWords = new Uint32Array(this.arena.getMappedRange());
      this.arenaSlot = 0;
    }
    const slot = this.arenaSlot++;
    (this.arenaWords as Uint32Array).set(params.words, slot * PARAM_WORDS);
    const bindGroup = this.device.createBindGroup({
      layout,
      entries: [
        { binding: 0, resource: { buffer: this.arena, offset: slot * SLOT_BYTES, size: SLOT_BYTES } },
        ...storage.map((buffer, i) => ({ binding: i + 1, resource: { buffer } })),
      ],
    });
    const pass = this.computePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(gx, gy);
    this.dispatchCount++;
  }

  /** Copies `length` floats between (parts of) buffers, in call order. */
  private copy(from: GPUBuffer, fromOffset: number, to: GPUBuffer, toOffset: number, length: number): void {
    if (length > 0) this.commands().copyBufferToBuffer(from, fromOffset * 4, to, toOffset * 4, length * 4);
  }

  private clear(buffer: GPUBuffer, offset: number, length: number): void {
    if (length > 0) this.commands().clearBuffer(buffer, offset * 4, length * 4);
  }

  /** A new buffer holding `length` floats of `from` starting at `offset`. */
  private extract(from: GPUBuffer, offset: number, length: number): WebGpuBuffer {
    const out = this.alloc(length);
    this.copy(from, offset, this.gpuOf(out), 0, length);
    return out;
  }

  // --- dense math ---------------------------------------------------------------------------

  private gemmInto(
    a: GPUBuffer,
    aOff: number,
    b: GPUBuffer,
    bOff: number,
    c: GPUBuffer,
    cOff: number,
    o: { m: number; n: number; k: number; transA?: boolean; transB?: boolean; alpha?: number; beta?: number },
    bias?: GPUBuffer,
  ): void {
    const { m, n, k } = o;
    const params = new Params()
      .u(m, n, k)
      .bool(!!o.transA)
      .bool(!!o.transB)
      .f(o.alpha ?? 1, o.beta ?? 0)
      .u(aOff, bOff, cOff);
    const storage = bias ? [a, b, bias, c] : [a, b, c];
    if (this.gemmVariant === 'register') {
      const R = K.GEMM_REG_BLOCK;
      this.run(`gemm-reg:${!!bias}`, () => K.gemmRegisterKernel(!!bias), storage, params, [Math.ceil(n / R), Math.ceil(m / R)]);
      return;
    }
    const T = K.GEMM_TILE;
    const checked = m % T !== 0 || n % T !== 0 || k % T !== 0;
    const key = `gemm:${checked}:${!!bias}`;
    this.run(key, () => K.gemmKernel(checked, !!bias), storage, params, [Math.ceil(n / T), Math.ceil(m / T)]);
  }

  gemm(a: BackendBuffer, b: BackendBuffer, options: GemmOptions, out?: BackendBuffer): BackendBuffer {
    const { m, n } = options;
    const beta = out ? (options.beta ?? 0) : 0;
    const o = { ...options, beta };
    if (out && (out === a || out === b)) {
      // A written operand may not be bound twice: compute into a copy, then copy back.
      const tmp = this.alloc(m * n);
      if (beta !== 0) this.copy(this.gpuOf(out), 0, this.gpuOf(tmp), 0, m * n);
      this.gemmInto(this.gpuOf(a), 0, this.gpuOf(b), 0, this.gpuOf(tmp), 0, o);
      this.copy(this.gpuOf(tmp), 0, this.gpuOf(out), 0, m * n);
      this.dispose(tmp);
      return out;
    }
    const target = out ?? this.alloc(m * n);
    this.gemmInto(this.gpuOf(a), 0, this.gpuOf(b), 0, this.gpuOf(target), 0, o);
    return target;
  }

  unary(op: UnaryOp, x: BackendBuffer, param?: number, param2?: number, out?: BackendBuffer): BackendBuffer {
    const n = x.length;
    const params = new Params().u(n);
    if (op === 'clamp')
      params
        .f(param ?? 0)
        .bool(param !== undefined)
        .bool(param2 !== undefined)
        .f(param2 ?? 0);
    else params.f(param ?? 1);
    if (out === x) {
      this.run(`unary:${op}:true`, () => K.unaryKernel(op, true), [this.gpuOf(x)], params, n);
      return x;
    }
    const target = out ?? this.alloc(n);
    this.run(`unary:${op}:false`, () => K.unaryKernel(op, false), [this.gpuOf(x), this.gpuOf(target)], params, n);
    return target;
  }

  private checkRank(what: string, rank: number): void {
    if (rank > K.MAX_RANK) throw new RecurError(`WebGpuBackend.${what}: rank ${rank} exceeds the supported ${K.MAX_RANK}`);
  }

  binary(
    op: BinaryOp,
    a: BackendBuffer,
    aStrides: readonly number[],
    b: BackendBuffer,
    bStrides: readonly number[],
    outShape: readonly number[],
  ): BackendBuffer {
    this.checkRank('binary', outShape.length);
    const n = sizeOf(outShape);
    const out = this.alloc(n);
    const params = new Params().u(n, outShape.length).array(outShape, 4).array(aStrides, 12).array(bStrides, 20);
    this.run(`binary:${op}`, () => K.binaryKernel(op), [this.gpuOf(a), this.gpuOf(b), this.gpuOf(out)], params, n);
    return out;
  }

  sumTo(x: BackendBuffer, inShape: readonly number[], outShape: readonly number[]): BackendBuffer {
    this.checkRank('sumTo', inShape.length);
    const nOut = sizeOf(outShape);
    const nIn = sizeOf(inShape);
    const out = this.alloc(nOut);
    if (nIn === 0) {
      this.clear(this.gpuOf(out), 0, nOut);
      return out;
    }
    const params = new Params()
      .u(nOut, inShape.length, nIn / nOut)
      .array(inShape, 4)
      .array(outShape, 12)
      .array(contiguousStrides(inShape), 20);
    this.run('sumTo', K.sumToKernel, [this.gpuOf(x), this.gpuOf(out)], params, nOut);
    return out;
  }

  sumOfSquares(buffers: readonly BackendBuffer[]): BackendBuffer {
    const out = this.alloc(1);
    if (buffers.length === 0) {
      this.clear(this.gpuOf(out), 0, 1);
      return out;
    }
    const partials = this.alloc(buffers.length);
    buffers.forEach((b, i) => {
      this.run('sumsq-partial', K.sumSquaresPartialKernel, [this.gpuOf(b), this.gpuOf(partials)], new Params().u(b.length, i), [1, 1]);
    });
    this.run('sum-all', K.sumAllKernel, [this.gpuOf(partials), this.gpuOf(out)], new Params().u(buffers.length, 0).f(1), [1, 1]);
    this.dispose(partials);
    return out;
  }

  // --- data movement ------------------------------------------------------------------------

  permute(x: BackendBuffer, shape: readonly number[], perm: readonly number[]): BackendBuffer {
    this.checkRank('permute', shape.length);
    const n = x.length;
    const out = this.alloc(n);
    const inStrides = contiguousStrides(shape);
    const params = new Params()
      .u(n, shape.length)
      .array(
        perm.map((axis) => shape[axis]),
        4,
      )
      .array(
        perm.map((axis) => inStrides[axis]),
        12,
      );
    this.run('permute', K.permuteKernel, [this.gpuOf(x), this.gpuOf(out)], params, n);
    return out;
  }

  private copy2d(
    src: GPUBuffer,
    dst: GPUBuffer,
    outer: number,
    block: number,
    srcOff: number,
    srcStride: number,
    dstOff: number,
    dstStride: number,
  ): void {
    if (outer * block === 0) return;
    if (outer === 1 || (srcStride === block && dstStride === block)) {
      this.copy(src, srcOff, dst, dstOff, outer * block);
      return;
    }
    const params = new Params().u(outer * block, block, srcOff, srcStride, dstOff, dstStride);
    this.run('copy2d', K.copy2dKernel, [src, dst], params, outer * block);
  }

  concat(xs: readonly BackendBuffer[], shapes: readonly (readonly number[])[], axis: number): BackendBuffer {
    const out = this.alloc(xs.reduce((total, x) => total + x.length, 0));
    const outer = sizeOf(shapes[0].slice(0, axis));
    const inner = sizeOf(shapes[0].slice(axis + 1));
    const outRow = shapes.reduce((total, shape) => total + shape[axis], 0) * inner;
    let start = 0;
    xs.forEach((x, i) => {
      const block = shapes[i][axis] * inner;
      this.copy2d(this.gpuOf(x), this.gpuOf(out), outer, block, 0, block, start, outRow);
      start += block;
    });
    return out;
  }

  slice(x: BackendBuffer, shape: readonly number[], axis: number, start: number, length: number): BackendBuffer {
    const outer = sizeOf(shape.slice(0, axis));
    const inner = sizeOf(shape.slice(axis + 1));
    const block = length * inner;
    const out = this.alloc(outer * block);
    this.copy2d(this.gpuOf(x), this.gpuOf(out), outer, block, start * inner, shape[axis] * inner, 0, block);
    return out;
  }

  gatherRows(x: BackendBuffer, width: number, index: Int32Array): BackendBuffer {
    const n = index.length * width;
    const out = this.alloc(n);
    if (n === 0) return out;
    this.run('gather', K.gatherKernel, [this.gpuOf(x), this.intBuffer(index), this.gpuOf(out)], new Params().u(n, width), n);
    return out;
  }

  scatterAddRows(g: BackendBuffer, width: number, index: Int32Array, rows: number): BackendBuffer {
    const n = rows * width;
    const out = this.alloc(n);
    if (n === 0) return out;
    // Group the sources by target row on the host (stable: index order within a row).
    const csr = new Int32Array(rows + 1 + index.length);
    for (let i = 0; i < index.length; i++) csr[index[i] + 1]++;
    for (let r = 0; r < rows; r++) csr[r + 1] += csr[r];
    const next = csr.slice(0, rows);
    for (let i = 0; i < index.length; i++) csr[rows + 1 + next[index[i]]++] = i;
    this.run('scatter', K.scatterKernel, [this.gpuOf(g), this.intBuffer(csr), this.gpuOf(out)], new Params().u(rows, width), n);
    return out;
  }

  // --- fused cells --------------------------------------------------------------------------

  cellForward(kind: CellKind, args: CellForwardArgs): CellForwardResult {
    const { batch: B, hidden: H } = args;
    const BH = B * H;
    const S = K.SAVED_BLOCKS[kind];
    const lstm = kind === 'lstm';
    let state = this.gpuOf(args.h);
    let packed: WebGpuBuffer | null = null;
    if (lstm) {
      packed = this.alloc(2 * BH);
      state = this.gpuOf(packed);
      this.copy(this.gpuOf(args.h), 0, state, 0, BH);
      if (args.c) this.copy(this.gpuOf(args.c), 0, state, BH, BH);
      else this.clear(state, BH, BH);
    }
    const saved = this.alloc(S * BH + (lstm ? 4 : 2) * BH);
    const sv = this.gpuOf(saved);
    this.run(
      `cell-fwd:${kind}`,
      () => K.cellForwardKernel(kind),
      [this.gpuOf(args.gx), this.gpuOf(args.gh), state, sv],
      new Params().u(B, H),
      BH,
    );
    if (packed) this.dispose(packed);
    const h = this.extract(sv, S * BH, BH);
    return lstm ? { h, c: this.extract(sv, (S + 1) * BH, BH), saved } : { h, saved };
  }

  cellBackward(kind: CellKind, args: CellBackwardArgs): CellBackwardResult {
    const { batch: B, hidden: H } = args;
    const BH = B * H;
    const GBH = GATE_COUNT[kind] * BH;
    const lstm = kind === 'lstm';
    let grads = this.gpuOf(args.dh);
    let packed: WebGpuBuffer | null = null;
    if (lstm) {
      packed = this.alloc(2 * BH);
      grads = this.gpuOf(packed);
      this.copy(this.gpuOf(args.dh), 0, grads, 0, BH);
      if (args.dc) this.copy(this.gpuOf(args.dc), 0, grads, BH, BH);
      else this.clear(grads, BH, BH);
    }
    const ws = this.alloc(2 * GBH + (lstm ? 2 : 1) * BH);
    const w = this.gpuOf(ws);
    this.run(`cell-bwd:${kind}`, () => K.cellBackwardKernel(kind), [this.gpuOf(args.saved), grads, w], new Params().u(B, H), BH);
    if (packed) this.dispose(packed);
    const result: CellBackwardResult = {
      dgx: this.extract(w, 0, GBH),
      dgh: this.extract(w, GBH, GBH),
      dhPrev: this.extract(w, 2 * GBH, BH),
    };
    if (lstm) result.dcPrev = this.extract(w, 2 * GBH + BH, BH);
    this.dispose(ws);
    return result;
  }

  // --- loss and optimizers ------------------------------------------------------------------

  softmaxCrossEntropy(args: CrossEntropyArgs): { loss: BackendBuffer; dLogits: BackendBuffer } {
    const { rows, classes } = args;
    const dLogits = this.alloc(rows * classes);
    const rowLoss = this.alloc(rows);
    const loss = this.alloc(1);
    const params = new Params()
      .u(rows, classes)
      .i(args.ignoreIndex)
      .f(1 / args.count);
    this.run(
      'xent',
      K.crossEntropyKernel,
      [this.gpuOf(args.logits), this.intBuffer(args.targets), this.gpuOf(dLogits), this.gpuOf(rowLoss)],
      params,
      rows,
    );
    this.run('sum-all', K.sumAllKernel, [this.gpuOf(rowLoss), this.gpuOf(loss)], new Params().u(rows, 0).f(1 / args.count), [1, 1]);
    this.dispose(rowLoss);
    return { loss, dLogits };
  }

  optimizerStep(update: OptimizerUpdate, param: BackendBuffer, grad: BackendBuffer, state: readonly BackendBuffer[]): void {
    const n = param.length;
    const p = this.gpuOf(param);
    const g = this.gpuOf(grad);
    switch (update.kind) {
      case 'sgd': {
        const params = new Params()
          .u(n)
          .f(update.lr, update.momentum, update.dampening)
          .bool(update.nesterov)
          .f(update.weightDecay)
          .bool(update.firstStep);
        this.run('sgd', K.sgdKernel, [p, g, this.gpuOf(state[0])], params, n);
        return;
      }
      case 'adam': {
        const params = new Params()
          .u(n)
          .f(update.lr, update.beta1, update.beta2, 1 - update.beta1, 1 - update.beta2, update.eps, update.weightDecay)
          .bool(update.decoupled)
          .bool(update.amsgrad)
          .f(update.lr / (1 - update.beta1 ** update.step), Math.sqrt(1 - update.beta2 ** update.step));
        const [m, v, vMax] = state.map((s) => this.gpuOf(s));
        this.run('adam', K.adamKernel, [p, g, m, v], params, n);
        if (update.amsgrad) this.run('amsgrad', K.amsgradKernel, [p, m, v, vMax], params, n);
        return;
      }
      case 'rmsprop': {
        const params = new Params()
          .u(n)
          .f(update.lr, update.alpha, 1 - update.alpha, update.eps, update.weightDecay, update.momentum)
          .bool(update.centered);
        const [squareAvg, momentum, gradAvg] = state.map((s) => this.gpuOf(s));
        const tmp = this.alloc(n);
        const t = this.gpuOf(tmp);
        const [k1, k2, k3] = K.rmspropKernels();
        this.run(k1.key, () => k1, [p, g, squareAvg, t], params, n);
        this.run(k2.key, () => k2, [squareAvg, gradAvg, t], params, n);
        this.run(k3.key, () => k3, [p, momentum, t], params, n);
        this.dispose(tmp);
        return;
      }
    }
  }

  // --- fused sequences ----------------------------------------------------------------------

  sequenceForward(args: SequenceForwardArgs): SequenceForwardResult {
    const { kind, steps: T, batch: B, inputSize: I, hidden: H } = args;
    const GH = GATE_COUNT[kind] * H;
    const BH = B * H;
    const lstm = kind === 'lstm';
    const layout = K.sequenceLayout(kind, T, B, H);
    const saved = this.alloc(layout.total);
    const sv = this.gpuOf(saved);
    this.copy(this.gpuOf(args.h0), 0, sv, layout.hs, BH);
    if (lstm) {
      if (args.c0) this.copy(this.gpuOf(args.c0), 0, sv, layout.cs, BH);
      else this.clear(sv, layout.cs, BH);
    }
    const hasLengths = args.lengths !== undefined;
    if (args.lengths) {
      const lengths = this.createGpuBuffer(Math.max(16, B * 4), COPY_SRC, true);
      new Float32Array(lengths.getMappedRange(), 0, B).set(args.lengths);
      lengths.unmap();
      this.temporaries.push(lengths);
      this.copy(lengths, 0, sv, layout.lengths, B);
    }
    const wHh = this.gpuOf(args.wHh);
    const bHh = args.bHh ? this.gpuOf(args.bHh) : undefined;
    const gxAll = this.alloc(T * B * GH);
    const gx = this.gpuOf(gxAll);
    this.gemmInto(
      this.gpuOf(args.x),
      0,
      this.gpuOf(args.wIh),
      0,
      gx,
      0,
      { m: T * B, n: GH, k: I, transB: true },
      args.bIh ? this.gpuOf(args.bIh) : undefined,
    );
    const ghBuffer = this.alloc(B * GH);
    const gh = this.gpuOf(ghBuffer);
    for (let t = 0; t < T; t++) {
      this.gemmInto(sv, layout.hs + t * BH, wHh, 0, gh, 0, { m: B, n: GH, k: H, transB: true }, bHh);
      const params = new Params().u(B, H, t).bool(hasLengths).u(layout.hs, layout.cs, layout.lengths);
      this.run(`seq-fwd:${kind}`, () => K.sequenceStepForwardKernel(kind), [gx, gh, sv], params, BH);
    }
    this.dispose(gxAll);
    this.dispose(ghBuffer);
    const output = this.alloc(T * BH);
    const outParams = new Params()
      .u(T * BH, B, H)
      .bool(hasLengths)
      .u(layout.hs, layout.lengths);
    this.run('seq-out', K.sequenceOutputKernel, [sv, this.gpuOf(output)], outParams, T * BH);
    const result: SequenceForwardResult = { output, hN: this.extract(sv, layout.hs + T * BH, BH), saved };
    if (lstm) result.cN = this.extract(sv, layout.cs + T * BH, BH);
    return result;
  }

  sequenceBackward(args: SequenceBackwardArgs): SequenceBackwardResult {
    const { kind, steps: T, batch: B, inputSize: I, hidden: H } = args;
    const GH = GATE_COUNT[kind] * H;
    const BH = B * H;
    const TBGH = T * B * GH;
    const lstm = kind === 'lstm';
    const layout = K.sequenceLayout(kind, T, B, H);
    const sv = this.gpuOf(args.saved);
    const dStateBuffer = this.alloc((lstm ? 2 : 1) * BH);
    const dState = this.gpuOf(dStateBuffer);
    this.copy(this.gpuOf(args.dhN), 0, dState, 0, BH);
    if (lstm) {
      if (args.dcN) this.copy(this.gpuOf(args.dcN), 0, dState, BH, BH);
      else this.clear(dState, BH, BH);
    }
    const dGBuffer = this.alloc(2 * TBGH);
    const dG = this.gpuOf(dGBuffer);
    const dOutput = this.gpuOf(args.dOutput);
    const wHh = this.gpuOf(args.wHh);
    const hasLengths = args.lengths !== undefined;
    for (let t = T - 1; t >= 0; t--) {
      const params = new Params().u(B, H, t).bool(hasLengths).u(layout.hs, layout.cs, layout.lengths, T);
      this.run(`seq-bwd:${kind}`, () => K.sequenceStepBackwardKernel(kind), [sv, dOutput, dState, dG], params, BH);
      // dh_prev += dGh_t · W_hh (rows of finished sequences have dGh_t = 0).
      this.gemmInto(dG, TBGH + t * B * GH, wHh, 0, dState, 0, { m: B, n: H, k: GH, beta: 1 });
    }
    const dx = this.alloc(T * B * I);
    this.gemmInto(dG, 0, this.gpuOf(args.wIh), 0, this.gpuOf(dx), 0, { m: T * B, n: I, k: GH });
    const dWIh = this.alloc(GH * I);
    this.gemmInto(dG, 0, this.gpuOf(args.x), 0, this.gpuOf(dWIh), 0, { m: GH, n: I, k: T * B, transA: true });
    const dWHh = this.alloc(GH * H);
    this.gemmInto(dG, TBGH, sv, layout.hs, this.gpuOf(dWHh), 0, { m: GH, n: H, k: T * B, transA: true });
    const columnSums = (offset: number) => {
      const out = this.alloc(GH);
      this.run('column-sum', K.columnSumKernel, [dG, this.gpuOf(out)], new Params().u(T * B, GH, offset), GH);
      return out;
    };
    const result: SequenceBackwardResult = { dx, dWIh, dWHh, dh0: this.extract(dState, 0, BH) };
    if (args.bIh) result.dBIh = columnSums(0);
    if (args.bHh) result.dBHh = columnSums(TBGH);
    if (lstm) result.dc0 = this.extract(dState, BH, BH);
    this.dispose(dGBuffer);
    this.dispose(dStateBuffer);
    return result;
  }
}
