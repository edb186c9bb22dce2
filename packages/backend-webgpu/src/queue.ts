/**
 * The one command stream of a device. Every compute method encodes its dispatches (and buffer
 * copies) into one open command encoder, consecutive dispatches sharing one compute pass, and
 * returns its result buffers at once. The encoder is submitted when `read`/`sync` is called or
 * when the uniform arena of the current command buffer is full (`maxDispatchesPerSubmit`), so
 * submission order is call order and nothing but `read`/`sync` waits for the GPU.
 *
 * Host data never goes through `queue.writeBuffer` (which would run before the still-unsubmitted
 * encoder and break call order): uploads and the per-call host buffers (indices, targets,
 * lengths) are new buffers filled with `mappedAtCreation`, and per-dispatch parameters are slots
 * of a uniform buffer that is mapped while the encoder is recorded and unmapped just before submit.
 */
import { BackendDestroyedError } from '@recur/core';
import type { BackendBuffer, FloatArray } from '@recur/core/backend';
import { DeviceErrors } from './errors.js';
import { type KernelSource, WG } from './kernels/prelude.js';
import { BufferPool, COPY_DST, gpuOf, MAP_READ, UNIFORM, WebGpuBuffer } from './memory.js';
import { PARAM_WORDS, type Params, SLOT_BYTES } from './params.js';
import { PipelineCache } from './pipelines.js';

export class CommandQueue {
  readonly pipelines: PipelineCache;
  /** Dispatches encoded and command buffers submitted so far (for tests and the benchmark). */
  dispatchCount = 0;
  submitCount = 0;

  private readonly device: GPUDevice;
  private readonly errors: DeviceErrors;
  private readonly pool: BufferPool;
  private readonly slots: number;
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private arena: GPUBuffer | null = null;
  private arenaWords: Uint32Array | null = null;
  private arenaSlot = 0;
  /** Buffers to destroy once the command buffer that uses them is submitted. */
  private temporaries: GPUBuffer[] = [];
  private destroyed = false;

  constructor(device: GPUDevice, adapterName: string, maxDispatchesPerSubmit: number) {
    this.device = device;
    this.slots = Math.max(1, maxDispatchesPerSubmit);
    this.errors = new DeviceErrors(device, adapterName);
    this.pool = new BufferPool(device, this.errors);
    this.pipelines = new PipelineCache(device, this.errors);
  }

  // --- buffers ------------------------------------------------------------------------------

  /** A pooled storage buffer for `length` floats (contents undefined). */
  alloc(length: number): WebGpuBuffer {
    this.checkAlive();
    return this.pool.take(length);
  }

  upload(data: ArrayLike<number>): WebGpuBuffer {
    this.checkAlive();
    return this.pool.upload(data);
  }

  /** A one-off buffer holding host data (indices, targets, lengths), destroyed after submit. */
  temporary(data: Int32Array | Float32Array, usage: number): GPUBuffer {
    const gpu = this.pool.create(Math.max(16, data.byteLength), usage, true);
    new Uint8Array(gpu.getMappedRange()).set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    gpu.unmap();
    this.temporaries.push(gpu);
    return gpu;
  }

  /** A new buffer holding `length` floats of `from` starting at `offset`. */
  extract(from: GPUBuffer, offset: number, length: number): WebGpuBuffer {
    const out = this.alloc(length);
    this.copy(from, offset, gpuOf(out), 0, length);
    return out;
  }

  dispose(buffer: BackendBuffer): void {
    if (!(buffer instanceof WebGpuBuffer) || !buffer.gpu) return;
    const gpu = buffer.gpu;
    buffer.gpu = null;
    if (this.destroyed) return;
    this.pool.recycle(gpu);
  }

  async read(buffer: BackendBuffer): Promise<FloatArray> {
    this.checkAlive();
    const source = gpuOf(buffer);
    const n = buffer.length;
    if (n === 0) {
      await this.sync();
      return new Float32Array(0);
    }
    const staging = this.pool.create(n * 4, MAP_READ | COPY_DST);
    this.commands().copyBufferToBuffer(source, 0, staging, 0, n * 4);
    this.flush();
    try {
      await this.errors.orLost(staging.mapAsync(1));
      await this.errors.settle();
      return new Float32Array(staging.getMappedRange().slice(0));
    } finally {
      staging.destroy();
    }
  }

  async sync(): Promise<void> {
    this.checkAlive();
    this.flush();
    await this.errors.orLost(this.device.queue.onSubmittedWorkDone());
    await this.errors.settle();
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.errors.deviceDestroyed();
    try {
      this.pass?.end();
      this.arena?.unmap();
    } catch {
      // the device may already be lost
    }
    this.pool.destroy();
    for (const b of this.temporaries) b.destroy();
    this.temporaries = [];
    this.device.destroy();
  }

  // --- encoding -----------------------------------------------------------------------------

  /**
   * Encodes one dispatch of kernel `key`: `storage` bound at 1.., `params` in a uniform slot,
   * `count` invocations of 64 (or an explicit workgroup grid).
   */
  run(key: string, source: () => KernelSource, storage: GPUBuffer[], params: Params, count: number | [number, number]): void {
    this.checkAlive();
    let gx: number;
    let gy: number;
    if (typeof count === 'number') {
      const groups = Math.ceil(count / WG);
      if (groups === 0) return;
      gx = Math.min(groups, 65535);
      gy = Math.ceil(groups / gx);
    } else {
      [gx, gy] = count;
      if (gx === 0 || gy === 0) return;
    }
    const known = this.errors.kernelFailure(key);
    if (known) throw known;
    const { pipeline, layout } = this.pipelines.get(key, source);
    // A temporary made for this very dispatch (an index buffer) must survive the flush.
    if (this.arena && this.arenaSlot >= this.slots) this.flush(storage);
    if (!this.arena) {
      this.arena = this.pool.create(this.slots * SLOT_BYTES, UNIFORM, true);
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
  copy(from: GPUBuffer, fromOffset: number, to: GPUBuffer, toOffset: number, length: number): void {
    if (length > 0) this.commands().copyBufferToBuffer(from, fromOffset * 4, to, toOffset * 4, length * 4);
  }

  clear(buffer: GPUBuffer, offset: number, length: number): void {
    if (length > 0) this.commands().clearBuffer(buffer, offset * 4, length * 4);
  }

  private checkAlive(): void {
    if (this.destroyed) throw new BackendDestroyedError('WebGpuBackend: used after destroy()');
  }

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

  /**
   * Submits everything encoded so far and destroys the temporaries it used: all but `pending`,
   * those of a dispatch about to be encoded (destroying one before its dispatch is submitted
   * fails that submit: "used in submit while destroyed").
   */
  private flush(pending: readonly GPUBuffer[] = []): void {
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
    const kept: GPUBuffer[] = [];
    for (const b of this.temporaries) {
      if (pending.includes(b)) kept.push(b);
      else b.destroy();
    }
    this.temporaries = kept;
  }
}
