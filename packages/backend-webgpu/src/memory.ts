/**
 * Buffers. Result buffers are float32 storage buffers pooled by size class (powers of two up to
 * 1 MiB, then MiB multiples): because all work goes through one queue in call order, a buffer
 * can be reused by later work as soon as it is disposed. Every GPU buffer is created here, with
 * the device limit checked up front and the allocation inside an out-of-memory error scope.
 *
 * Out-of-memory is an `OutOfMemoryError` with the byte size: thrown by the call itself where it
 * is known at once (over the device limit; a buffer created mapped, which Dawn refuses by
 * throwing), otherwise by the next `read`/`sync`, once the error scope has reported it.
 */
import { BackendMismatchError, DisposedTensorError } from '@recur/core';
import type { BackendBuffer } from '@recur/core/backend';
import type { DeviceErrors } from './errors.js';

/** GPUBufferUsage values (the global is absent in Node). */
export const MAP_READ = 1;
export const COPY_SRC = 4;
export const COPY_DST = 8;
export const UNIFORM = 64;
export const STORAGE = 128;

/** A buffer of this backend: `length` float32 elements in a (possibly larger, pooled) GPUBuffer. */
export class WebGpuBuffer implements BackendBuffer {
  readonly length: number;
  gpu: GPUBuffer | null;
  constructor(length: number, gpu: GPUBuffer) {
    this.length = length;
    this.gpu = gpu;
  }
}

/** The GPUBuffer behind a live buffer of this backend. */
export function gpuOf(buffer: BackendBuffer): GPUBuffer {
  if (!(buffer instanceof WebGpuBuffer))
    throw new BackendMismatchError('WebGpuBackend: received a buffer that was not made by a WebGpuBackend');
  if (!buffer.gpu) throw new DisposedTensorError(`WebGpuBackend: use of a disposed buffer (${buffer.length} elements)`);
  return buffer.gpu;
}

/** Bytes actually allocated for `bytes`: pooled size classes. */
export function sizeClass(bytes: number): number {
  const b = Math.max(16, bytes);
  if (b <= 1 << 20) return 2 ** Math.ceil(Math.log2(b));
  return Math.ceil(b / (1 << 20)) * (1 << 20);
}

export class BufferPool {
  private readonly device: GPUDevice;
  private readonly errors: DeviceErrors;
  private readonly free = new Map<number, GPUBuffer[]>();
  /** Buffers whose allocation failed (invalid objects): never pooled, so never handed out again. */
  private readonly failed = new WeakSet<GPUBuffer>();

  constructor(device: GPUDevice, errors: DeviceErrors) {
    this.device = device;
    this.errors = errors;
  }

  create(bytes: number, usage: number, mapped = false): GPUBuffer {
    // Storage buffers are bound whole, so the binding limit applies to them too.
    const limit =
      usage & STORAGE
        ? Math.min(this.device.limits.maxBufferSize, this.device.limits.maxStorageBufferBindingSize)
        : this.device.limits.maxBufferSize;
    if (bytes > limit) {
      throw this.errors.outOfMemoryError(`over the device's limit of ${limit.toLocaleString('en-US')} bytes per buffer`, bytes);
    }
    this.device.pushErrorScope('out-of-memory');
    let buffer: GPUBuffer;
    try {
      buffer = this.device.createBuffer({ size: bytes, usage, mappedAtCreation: mapped });
    } catch (error) {
      void this.device.popErrorScope().catch(() => {});
      // createBuffer throws only a RangeError, when it cannot allocate the mapping of a buffer
      // created mapped (WebGPU spec); anything else is not the caller's doing.
      const what = `createBuffer failed: ${(error as Error)?.message ?? String(error)}`;
      if ((error as Error)?.name === 'RangeError') throw this.errors.outOfMemoryError(what, bytes, error);
      throw this.errors.backendError(`${what} (${bytes} bytes)`, error);
    }
    this.errors.trackAllocation(this.device.popErrorScope(), bytes, () => this.discard(buffer));
    return buffer;
  }

  /** A pooled storage buffer for `length` floats (contents undefined). */
  take(length: number): WebGpuBuffer {
    const bytes = sizeClass(length * 4);
    const gpu = this.free.get(bytes)?.pop() ?? this.create(bytes, STORAGE | COPY_SRC | COPY_DST);
    return new WebGpuBuffer(length, gpu);
  }

  /** A new storage buffer holding `data` (never `queue.writeBuffer`, which would overtake unsubmitted work). */
  upload(data: ArrayLike<number>): WebGpuBuffer {
    const gpu = this.create(sizeClass(data.length * 4), STORAGE | COPY_SRC | COPY_DST, true);
    new Float32Array(gpu.getMappedRange(), 0, data.length).set(data);
    gpu.unmap();
    return new WebGpuBuffer(data.length, gpu);
  }

  recycle(gpu: GPUBuffer): void {
    if (this.failed.has(gpu)) {
      gpu.destroy();
      return;
    }
    const free = this.free.get(gpu.size) ?? [];
    this.free.set(gpu.size, free);
    free.push(gpu);
  }

  /** Marks a buffer whose allocation failed, and takes it out of the pool if it was disposed already. */
  private discard(gpu: GPUBuffer): void {
    this.failed.add(gpu);
    const free = this.free.get(gpu.size);
    const at = free?.indexOf(gpu) ?? -1;
    if (free && at >= 0) free.splice(at, 1);
  }

  destroy(): void {
    for (const list of this.free.values()) for (const b of list) b.destroy();
    this.free.clear();
  }
}
