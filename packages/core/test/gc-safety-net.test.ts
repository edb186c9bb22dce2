/**
 * The garbage-collection safety net (tensor.ts, `Storage`): the buffer of a storage that
 * becomes unreachable without being released is disposed through its backend, so `memory()`
 * falls back to what is still reachable. Needs `global.gc` (vitest.config.ts runs the workers
 * with `--expose-gc`): without it the test fails rather than passing vacuously.
 */
import { createJsBackend, JsBackend } from '@recur/backend-js';
import { type Backend, Linear, memory, type Tensor, tensor } from '@recur/core';
import { checkedBackend } from '@recur/core/backend';
import { describe, expect, it } from 'vitest';

const gc = (globalThis as { gc?: () => void }).gc;

/** A full GC, then turns of the event loop: finalization callbacks run as tasks after it. */
async function collect(): Promise<void> {
  if (!gc) throw new Error('global.gc is missing: run node with --expose-gc (see vitest.config.ts)');
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** A tensor chain built without tidy or dispose; only the last tensor is returned. */
function chain(backend: Backend, steps: number): Tensor {
  let x = tensor([1, 2, 3], [3], { backend });
  for (let i = 0; i < steps; i++) x = x.mul(0.5).add(1);
  return x;
}

describe('buffers no longer reachable from JavaScript are released after a GC', () => {
  it('a loop without tidy or dispose: the live count returns to what is reachable', async () => {
    const backend = createJsBackend();
    const last = chain(backend, 1000);
    // Every intermediate (and every scalar operand) is still counted until a GC finds it dead.
    expect(memory(backend).buffers).toBeGreaterThan(2000);
    await collect();
    expect(memory(backend).buffers).toBe(1);
    // What is reachable is untouched: x_{n+1} = x_n / 2 + 1 tends to 2.
    for (const v of await last.toArray()) expect(v).toBeCloseTo(2, 5);
    last.dispose();
    expect(memory(backend).buffers).toBe(0);
  });

  it('a storage shared by views lives while any view is reachable, and no longer', async () => {
    const backend = createJsBackend();
    let original: Tensor | null = tensor([1, 2, 3, 4], [2, 2], { backend });
    let view: Tensor | null = original.view([4]);
    original = null;
    await collect();
    expect(memory(backend).buffers).toBe(1);
    expect(Array.from(await view.toArray())).toEqual([1, 2, 3, 4]);
    view = null;
    await collect();
    expect(memory(backend).buffers).toBe(0);
  });

  it('each buffer is disposed once: by dispose(), or by the safety net when never released', async () => {
    const backend = new JsBackend();
    const checked = checkedBackend(backend);
    let disposals = 0;
    const dispose = backend.dispose.bind(backend);
    backend.dispose = (buffer) => {
      disposals++;
      dispose(buffer);
    };
    for (let i = 0; i < 100; i++) tensor([i], [1], { backend: checked }).dispose();
    for (let i = 0; i < 100; i++) tensor([i], [1], { backend: checked });
    expect(disposals).toBe(100);
    await collect();
    expect(disposals).toBe(200);
    expect(memory(checked).buffers).toBe(0);
  });

  it('a dropped model releases its parameters; a destroyed backend is left alone', async () => {
    const backend = createJsBackend();
    // Made and dropped at once: never disposed.
    new Linear({ inFeatures: 4, outFeatures: 3, backend, seed: 1 });
    expect(memory(backend).buffers).toBe(2);
    await collect();
    expect(memory(backend).buffers).toBe(0);

    const doomed = createJsBackend();
    chain(doomed, 10);
    doomed.destroy();
    // The finalization callbacks meet a destroyed backend: dispose is a no-op there, never a throw.
    await collect();
  });
});
