/**
 * Buffers. Result buffers are float32 storage buffers pooled by size class (powers of two up to
 * 1 MiB, then MiB multiples): because all work goes through one queue in call order, a buffer
 * can be reused by later work as soon as it is disposed. Every GPU buffer is created here, with
 * the device limit checked up front and the allocation inside an out-of-memory error scope.
 */

import { RecurError } from '@recur/core';
import type { BackendBuffer } from '@recur/core/backend';
import { WebGpuError } from './device.js';
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
  if (!(buffer instanceof WebGpuBuffer)) throw new RecurError('WebGpuBackend: received a buffer that was not made by a WebGpuBackend');
  if (!buffer.gpu) throw new RecurError(`WebGpuBackend: use of a disposed buffer (${buffer.length} elements)`);
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

  constructor(device: GPUDevice, errors: DeviceErrors) {
    this.device = device;
    this.errors = errors;
  }

  create(bytes: number, usage: number, mapped = false): GPUBuffer {
    const limit = Math.min(this.device.limits.maxBufferSize, this.device.limits.maxStorageBufferBindingSize);
    if (bytes > limit && usage & STORAGE) {
      throw new WebGpuError(
        this.errors.adapterName,
        `out of memory: a buffer of ${bytes} bytes exceeds the device limit of ${limit} bytes`,
      );
    }
    this.device.pushErrorScope('out-of-memory');
    let buffer: GPUBuffer;
    try {
      buffer = this.device.createBuffer({ size: bytes, usage, mappedAtCreation: mapped });
    } catch (error) {
      void this.device.popErrorScope().catch(() => {});
      throw new WebGpuError(this.errors.adapterName, `out of memory: createBuffer(${bytes} bytes) failed: ${(error as Error).message}`);
    }
    this.errors.track(this.device.popErrorScope(), () => `out of memory: createBuffer(${bytes} bytes)`);
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
    const free = this.free.get(gpu.size) ?? [];
    this.free.set(gpu.size, free);
    free.push(gpu);
  }

  destroy(): void {
    for (const list of this.free.values()) for (const b of list) b.destroy();
    this.free.clear();
  }
}
