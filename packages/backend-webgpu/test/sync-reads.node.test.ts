/**
 * WebGPU cannot block its thread on the device, so it offers no blocking reads: the
 * synchronous tensor reads throw a typed error that names the backend and the call to use.
 */

import { tensor } from '@recur/core';
import { BackendCapabilityError, checkedBackend } from '@recur/core/backend';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWebGpuImplementation, type WebGpuBackend } from '../src/index.js';
import { nodeOptions, probe } from './adapter.js';

const { adapter, reason } = await probe();
const describeGpu = adapter ? describe : describe.skip;

describeGpu(`synchronous reads on WebGPU${adapter ? '' : ` — skipped: ${reason}`}`, () => {
  let gpu: WebGpuBackend;
  beforeAll(async () => {
    gpu = await createWebGpuImplementation(nodeOptions());
  });
  afterAll(() => gpu?.destroy());

  it('itemSync and toArraySync throw BackendCapabilityError; the awaited forms work', async () => {
    const backend = checkedBackend(gpu);
    expect(backend.blocking).toBeUndefined();
    const x = tensor([2, 3], [2], { backend });
    const s = x.sum();
    expect(() => s.itemSync()).toThrow(BackendCapabilityError);
    expect(() => s.itemSync()).toThrow(/^itemSync\(\): the webgpu backend cannot read synchronously .*`await item\(\)`$/);
    expect(() => x.toArraySync()).toThrow(/`await toArray\(\)`/);
    expect(await s.item()).toBe(5);
  });
});
