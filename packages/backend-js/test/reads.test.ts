/**
 * How the JS backend hands values back: `blocking.read` at once, and `read` settling from a
 * task of the event loop (not a microtask), so a loop that awaits only reads still lets the
 * garbage collector's finalization callbacks (core's safety net), timers and I/O run.
 */
import { tensor } from '@recur/core';
import { describe, expect, it } from 'vitest';
import { createJsBackend, JsBackend } from '../src/index.js';

describe('JsBackend: reads', () => {
  it('blocking.read returns a copy of the current values at once', () => {
    const b = new JsBackend({ dtype: 'float64' });
    const x = b.upload([1, 2.5, -3]);
    const blocking = b.blocking;
    const copy = blocking.read(x);
    expect(Array.from(copy)).toEqual([1, 2.5, -3]);
    copy[0] = 7;
    expect(Array.from(blocking.read(b.unary('neg', x)))).toEqual([-1, -2.5, 3]);
    expect(copy).toBeInstanceOf(Float64Array);
  });

  it('itemSync and toArraySync through the checked backend', () => {
    const backend = createJsBackend();
    const x = tensor([0.5, 1.5], [2], { backend });
    expect(Array.from(x.square().toArraySync())).toEqual([0.25, 2.25]);
    expect(x.sum().itemSync()).toBe(2);
  });

  it('read settles from a later task of the event loop, not a microtask', async () => {
    const b = createJsBackend();
    const x = b.upload([1]);
    let turned = false;
    setImmediate(() => {
      turned = true;
    });
    const values = await b.read(x);
    expect(Array.from(values)).toEqual([1]);
    expect(turned).toBe(true);
    let synced = false;
    setImmediate(() => {
      synced = true;
    });
    await b.sync();
    expect(synced).toBe(true);
  });
});
