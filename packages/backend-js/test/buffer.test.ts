import { createBackend, getDefaultBackend, hasDefaultBackend, listBackends, OptionsError } from '@recur/core';
import { CheckedBackend } from '@recur/core/backend';
import { describe, expect, it } from 'vitest';
import { createJsBackend, JsBackend, type JsBuffer } from '../src/index.js';

describe('JsBackend: registration and identity', () => {
  it('registers as "js" and sets a float32 default on import', async () => {
    expect(listBackends()).toContain('js');
    // The default is chosen on first use, not at import.
    expect(hasDefaultBackend()).toBe(false);
    expect(getDefaultBackend().name).toBe('js');
    expect(hasDefaultBackend()).toBe(true);
    const b = await createBackend('js', { dtype: 'float64' });
    expect(b).toBeInstanceOf(CheckedBackend);
    expect((b as CheckedBackend).unchecked).toBeInstanceOf(JsBackend);
    expect(b.dtype).toBe('float64');
    expect(b.description).toBe('pure TypeScript reference (float64)');
  });

  it('defaults to float32 and offers the fused sequence and stack kernels', () => {
    const b = createJsBackend();
    expect(b.dtype).toBe('float32');
    expect(b.description).toBe('pure TypeScript reference (float32)');
    expect(typeof b.fused.sequence?.forward).toBe('function');
    expect(typeof b.fused.sequence?.backward).toBe('function');
    expect(typeof b.fused.stack?.forward).toBe('function');
  });
});

describe('JsBackend: options', () => {
  it('unknown keys and unsupported dtypes are OptionsErrors naming them', async () => {
    await expect(createBackend('js', { dtype: 'float16' as never })).rejects.toThrow(OptionsError);
    await expect(createBackend('js', { dtype: 'float16' as never })).rejects.toThrow(/dtype must be one of float32, float64/);
    await expect(createBackend('js', { dtyp: 'float64' })).rejects.toThrow(/unknown option 'dtyp'; did you mean 'dtype'\?/);
    expect(() => createJsBackend({ threads: 2 } as never)).toThrow(OptionsError);
  });
});

describe('JsBackend: memory', () => {
  it('uploads, fills and reads copies', async () => {
    const b = createJsBackend({ dtype: 'float64' });
    const x = b.upload([1, 2.5, -3]);
    expect(x.length).toBe(3);
    const first = await b.read(x);
    expect(first).toBeInstanceOf(Float64Array);
    expect(Array.from(first)).toEqual([1, 2.5, -3]);
    first[0] = 99; // a copy: the buffer is unchanged
    expect(Array.from(await b.read(x))).toEqual([1, 2.5, -3]);
    expect(Array.from(await b.read(b.fill(4, 7)))).toEqual([7, 7, 7, 7]);
    await b.sync();
  });

  it('rounds to float32 in a float32 backend', async () => {
    const b = createJsBackend();
    const out = await b.read(b.upload([0.1]));
    expect(out).toBeInstanceOf(Float32Array);
    expect(out[0]).toBe(Math.fround(0.1));
  });

  it('dispose is idempotent and a disposed buffer throws a clear error', async () => {
    const b = createJsBackend();
    const x = b.upload([1, 2]);
    b.dispose(x);
    b.dispose(x);
    expect(x.length).toBe(2);
    expect((x as JsBuffer).disposed).toBe(true);
    await expect(b.read(x)).rejects.toThrow(/disposed/);
    expect(() => b.unary('neg', x)).toThrow(/disposed/);
  });
});
