/**
 * The addon's errors arrive as @recur/core's typed errors (src/errors.ts), whichever way they
 * leave C++: thrown by the call, thrown by the constructor, or rejecting a Promise. The
 * allocation failures themselves need a memory limit and run in child processes
 * (out-of-memory.test.ts); these run in-process, under the sanitizer build too.
 */
import { BackendDestroyedError, BackendError, OutOfMemoryError } from '@recur/core';
import { afterAll, describe, expect, it } from 'vitest';
import { loadAddon } from '../src/addon.js';
import { fromNative, guardEngine } from '../src/errors.js';
import { createNativeBackend } from '../src/index.js';
import { describeNative, nativeOf } from './helpers.js';

type Engine = Record<string, (...args: unknown[]) => unknown>;

function coded(message: string, code: string, extra: Record<string, unknown> = {}): Error {
  return Object.assign(new Error(message), { code, ...extra });
}

describe('fromNative: codes to typed errors', () => {
  it('maps each code, keeping the message and the native error as cause', () => {
    const oom = coded('recur native: out of memory: could not allocate 2,000 bytes', 'RECUR_OUT_OF_MEMORY', { bytes: 2000 });
    const mapped = fromNative(oom) as OutOfMemoryError;
    expect(mapped).toBeInstanceOf(OutOfMemoryError);
    expect(mapped.name).toBe('OutOfMemoryError');
    expect(mapped.bytes).toBe(2000);
    expect(mapped.message).toBe(oom.message);
    expect(mapped.cause).toBe(oom);
    expect((fromNative(coded('x', 'RECUR_OUT_OF_MEMORY')) as OutOfMemoryError).bytes).toBeUndefined();
    expect(fromNative(coded('x', 'RECUR_BACKEND_DESTROYED'))).toBeInstanceOf(BackendDestroyedError);
    expect(fromNative(coded('x', 'RECUR_NATIVE_ERROR'))).toBeInstanceOf(BackendError);
    expect(fromNative(coded('x', 'RECUR_INVALID_ARGUMENT'))).toBeInstanceOf(BackendError);
  });

  it('leaves other errors and thrown values alone', () => {
    const plain = new TypeError('not ours');
    expect(fromNative(plain)).toBe(plain);
    expect(fromNative(coded('x', 'ENOENT'))).toBeInstanceOf(Error);
    expect(fromNative('a string')).toBe('a string');
  });

  it('guardEngine maps synchronous throws and Promise rejections, and passes results through', async () => {
    class Fake {
      get threads() {
        return 3;
      }
      fail(): never {
        throw coded('boom', 'RECUR_NATIVE_ERROR');
      }
      later() {
        return Promise.reject(coded('late', 'RECUR_OUT_OF_MEMORY', { bytes: 64 }));
      }
      echo(a: unknown, b: unknown) {
        return [a, b];
      }
    }
    const engine = guardEngine(new Fake() as never) as unknown as Engine & { threads: number };
    expect(engine.threads).toBe(3);
    expect(engine.echo(1, 'two')).toEqual([1, 'two']);
    expect(() => engine.fail()).toThrow(BackendError);
    await expect(engine.later()).rejects.toBeInstanceOf(OutOfMemoryError);
  });
});

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
    expect(((error as Error).cause as { code: string }).code).toBe('RECUR_INVALID_ARGUMENT');
    expect(() => engine.unary(99, handle, null, 0, 0)).toThrow(BackendError);
  });

  it('the constructor maps too', () => {
    const loaded = loadAddon();
    if (!('addon' in loaded)) throw new Error(loaded.error);
    // 5000 threads: past the C++ check's 1024 (TypeScript would have refused it first).
    expect(() => new loaded.addon.NativeBackend(5000)).toThrow(BackendError);
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
