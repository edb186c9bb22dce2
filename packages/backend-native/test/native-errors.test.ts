/**
 * The addon's errors arrive as @recur/core's typed errors (src/errors.ts), whichever way they
 * leave C++: thrown by the call, thrown by the constructor, or rejecting a Promise. The
 * allocation failures themselves need a memory limit and run in child processes
 * (out-of-memory.test.ts); these run in-process, under the sanitizer build too.
 */
import { BackendDestroyedError, BackendError } from '@recur/core';
import { afterAll, expect, it } from 'vitest';
import { loadAddon } from '../src/addon.js';
import { createNativeBackend } from '../src/index.js';
import { describeNative, nativeOf } from './helpers.js';

type Engine = Record<string, (...args: unknown[]) => unknown>;

describeNative('native errors reach JS typed', () => {
  const b = createNativeBackend({ threads: 2 });
  afterAll(() => b.destroy());
  const engine = (nativeOf(b) as unknown as { engine: Engine }).engine;

  it('a bad argument that reaches C++ is a BackendError with the C++ message', () => {
    const x = b.upload(new Float32Array(4));
    const handle = (x as unknown as { handle: object }).handle;
    let error: unknown;
    try {
      engine.gatherRows(handle, 2, Int32Array.from([5]));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(BackendError);
    expect((error as Error).message).toMatch(/^recur native: .*out of range/);
    expect((error as { code?: string }).code).toBe('RECUR_INVALID_ARGUMENT');
    expect(() => engine.unary(99, handle, null, 0, 0)).toThrow(BackendError);
  });

  it('the constructor maps too', () => {
    const loaded = loadAddon();
    if (!('addon' in loaded)) throw new Error(loaded.error);
    // 5000 threads: past the C++ check's 1024 (TypeScript would have refused it first).
    let error: unknown;
    try {
      new loaded.addon.NativeBackend(5000);
    } catch (e) {
      error = e;
    }
    // Constructed in C++ as core's class (src/errors.ts registers them when the addon loads).
    expect(error).toBeInstanceOf(BackendError);
    expect((error as Error).name).toBe('BackendError');
    expect((error as { code?: string }).code).toBe('RECUR_INVALID_ARGUMENT');
  });

  it('calls after destroy: BackendDestroyedError, thrown or rejected', async () => {
    const other = createNativeBackend({ threads: 1 });
    const raw = (nativeOf(other) as unknown as { engine: Engine }).engine;
    const x = other.upload([1, 2]);
    const handle = (x as unknown as { handle: object }).handle;
    other.destroy();
    expect(() => raw.unary(0, handle, null, 0, 0)).toThrow(BackendDestroyedError);
    await expect(Promise.resolve().then(() => raw.sync())).rejects.toBeInstanceOf(BackendDestroyedError);
  });

  it('still computes after those errors', async () => {
    const x = b.upload([1, 2, 3]);
    expect(Array.from(await b.read(b.unary('scale', x, 2)))).toEqual([2, 4, 6]);
  });
});
