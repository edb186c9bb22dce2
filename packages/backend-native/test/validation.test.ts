/**
 * What is particular to the native backend's checks. Misuse through the Backend interface (the
 * same typed error on every backend) is the conformance suite's contract group, which
 * conformance.test.ts runs here; this file covers creation options, the load-time check of the
 * addon's op tables, and the C++ guard that stands behind the checked wrapper.
 */
import '@recur/backend-js';
import { BackendUnavailableError, createBackend, listBackends, OptionsError, ValueRangeError } from '@recur/core';
import { CheckedBackend } from '@recur/core/backend';
import { afterAll, expect, it } from 'vitest';
import { loadAddon } from '../src/addon.js';
import { createNativeBackend, NativeBackend } from '../src/index.js';
import { tableMismatches } from '../src/tables.js';
import { describeNative } from './helpers.js';

describeNative('native backend: creation, op tables and the C++ guard', () => {
  const b = createNativeBackend({ threads: 2 });
  afterAll(() => b.destroy());

  it('registers as native with a higher priority than js, and createBackend returns the checked form', async () => {
    expect(listBackends().indexOf('native')).toBeLessThan(listBackends().indexOf('js'));
    const auto = await createBackend('auto');
    expect(auto).toBeInstanceOf(CheckedBackend);
    expect((auto as CheckedBackend).unchecked).toBeInstanceOf(NativeBackend);
    auto.destroy();
    expect(b.fused.sequence).toBeDefined();
    expect(b.fused.stack).toBeDefined();
    expect(b.description).toMatch(/native C\+\+.*2 threads/);
    // Under `pnpm test:sanitize` the instrumented build must be the one loaded.
    if (process.env.RECUR_EXPECT_SANITIZED === '1') expect(b.description).toMatch(/ASan\+UBSan/);
  });

  it('refuses float64, bad thread counts and unknown options', async () => {
    expect(() => createNativeBackend({ dtype: 'float64' })).toThrow(BackendUnavailableError);
    expect(() => createNativeBackend({ threads: 0 })).toThrow(ValueRangeError);
    expect(() => createNativeBackend({ threads: 1.5 })).toThrow(ValueRangeError);
    await expect(createBackend('native', { thread: 2 })).rejects.toThrow(OptionsError);
  });

  it("the addon's op tables agree with core's constants, and a drifted table is reported", () => {
    const loaded = loadAddon();
    if (!('addon' in loaded)) throw new Error(loaded.error);
    const tables = loaded.addon.tables;
    expect(tableMismatches(tables)).toEqual([]);
    if (!tables) return;
    const swapped = { ...tables, unaryOps: [tables.unaryOps[1], tables.unaryOps[0], ...tables.unaryOps.slice(2)] };
    expect(tableMismatches(swapped)).toEqual([`unary ops: addon [${swapped.unaryOps.join(', ')}], core [${tables.unaryOps.join(', ')}]`]);
    expect(tableMismatches({ ...tables, savedBlocks: { ...tables.savedBlocks, gru: 3 } })).toEqual(['saved blocks.gru: addon 3, core 4']);
    expect(tableMismatches(undefined)[0]).toMatch(/no op tables/);
  });

  it('the addon itself rejects bad calls with an Error instead of crashing', () => {
    // Bypass the checked wrapper and the TypeScript layer: the C++ guard is the last line of defence.
    const engine = ((b as CheckedBackend).unchecked as unknown as { engine: Record<string, (...args: unknown[]) => unknown> }).engine;
    const x = b.upload(new Float32Array(4));
    const handle = (x as unknown as { handle: object }).handle;
    expect(() => engine.gemm({}, handle, null, 2, 2, 2, false, false, 1, 0)).toThrow(/not a buffer/);
    expect(() => engine.gemm(null, handle, null, 2, 2, 2, false, false, 1, 0)).toThrow(Error);
    expect(() => engine.gemm(handle, handle, null, 3, 3, 3, false, false, 1, 0)).toThrow(/elements/);
    expect(() => engine.gatherRows(handle, 2, Int32Array.from([5]))).toThrow(/out of range/);
    expect(() => engine.unary(99, handle, null, 0, 0)).toThrow(Error);
    expect(() => engine.optimizerStep(0, new Float64Array(8), handle, handle, [])).toThrow(/state buffers/);
    expect(() => engine.sequenceForward(2, 1e12, 1, 1, 1, handle, handle, handle, null, null, handle, null, null)).toThrow(Error);
  });

  it('still computes after all those errors', async () => {
    const x = b.upload([1, 2, 3]);
    expect(Array.from(await b.read(b.unary('scale', x, 2)))).toEqual([2, 4, 6]);
  });
});
