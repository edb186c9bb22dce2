/**
 * Synchronous reads: `Tensor.toArraySync()` / `itemSync()` through a backend's optional
 * `blocking` capability, the checked wrapper's checks on it, and the typed error where a
 * backend has none.
 */
import { createJsBackend, JsBackend } from '@recur/backend-js';
import {
  type Backend,
  BackendDestroyedError,
  BackendMismatchError,
  DisposedTensorError,
  RecurError,
  ShapeError,
  tensor,
} from '@recur/core';
import { checkedBackend } from '@recur/core/backend';
import { describe, expect, it } from 'vitest';
// Not re-exported from @recur/core's index yet.
import { BackendCapabilityError } from '../src/errors.js';

/** A JS backend that declares no blocking reads, as WebGPU does. */
function asyncOnly(): Backend {
  const inner = new JsBackend();
  Object.defineProperty(inner, 'name', { value: 'async-only' });
  Object.defineProperty(inner, 'blocking', { value: undefined });
  return checkedBackend(inner);
}

describe('synchronous reads', () => {
  it('toArraySync and itemSync return what toArray and item resolve with', async () => {
    const backend = createJsBackend({ dtype: 'float64' });
    const x = tensor([1, -2, 3.5], [3], { backend });
    const y = x.mul(2).add(1);
    expect(Array.from(y.toArraySync())).toEqual([3, -3, 8]);
    expect(Array.from(y.toArraySync())).toEqual(Array.from(await y.toArray()));
    const s = y.sum();
    expect(s.itemSync()).toBe(8);
    expect(s.itemSync()).toBe(await s.item());
    expect(() => y.itemSync()).toThrow(ShapeError);
  });

  it('the result is a snapshot: later in-place work and the caller cannot change the other', () => {
    const backend = createJsBackend();
    const x = tensor([1, 2], [2], { backend });
    const copy = x.toArraySync();
    copy[0] = 99;
    backend.unary('scale', x.buffer, 3, undefined, x.buffer);
    expect(Array.from(copy)).toEqual([99, 2]);
    expect(Array.from(x.toArraySync())).toEqual([3, 6]);
  });

  it('the checked wrapper checks blocking.read like read: ownership, liveness, destroy', () => {
    const backend = createJsBackend();
    const other = createJsBackend();
    const blocking = backend.blocking;
    if (!blocking) throw new Error('the js backend must offer blocking reads');
    const foreign = other.upload([1]);
    expect(() => blocking.read(foreign)).toThrow(BackendMismatchError);
    const x = backend.upload([1, 2]);
    backend.dispose(x);
    expect(() => blocking.read(x)).toThrow(DisposedTensorError);
    const y = backend.upload([1, 2]);
    backend.destroy();
    expect(() => blocking.read(y)).toThrow(BackendDestroyedError);
    const t = tensor([1], [1], { backend: other });
    t.dispose();
    expect(() => t.itemSync()).toThrow(DisposedTensorError);
  });

  it('a backend without blocking reads: a typed error naming the backend and saying what to use', async () => {
    const backend = asyncOnly();
    expect(backend.blocking).toBeUndefined();
    const x = tensor([4], [1], { backend });
    let error: unknown;
    try {
      x.itemSync();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(BackendCapabilityError);
    expect(error).toBeInstanceOf(RecurError);
    expect((error as Error).message).toMatch(/^itemSync\(\): the async-only backend cannot read synchronously/);
    expect((error as Error).message).toContain('await item()');
    expect(() => x.toArraySync()).toThrow(/toArraySync\(\): the async-only backend .*await toArray\(\)/);
    // The asynchronous reads still work.
    expect(await x.item()).toBe(4);
  });
});
