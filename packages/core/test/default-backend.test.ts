/**
 * The default backend needs no call: the first use picks `RECUR_BACKEND`, else the
 * highest-priority synchronous backend registered (this file imports no backend package, so
 * the registry holds only the fakes below; test files run in isolated module graphs).
 */
import {
  type Backend,
  BackendUnavailableError,
  createBackendSync,
  getDefaultBackend,
  hasDefaultBackend,
  setDefaultBackend,
} from '@recur/core';
import { type CheckedBackend, registerBackend } from '@recur/core/backend';
import { afterEach, describe, expect, it } from 'vitest';
import { expectError } from './expect-error.js';

let made: string[] = [];
/** A stand-in backend recording that it was made; `createBackendSync` never calls its methods. */
const fake = (name: string) => {
  made.push(name);
  return { name, dtype: 'float32', description: `fake ${name}`, maxBufferLength: 2 ** 31 - 1, fused: {} } as unknown as Backend;
};
const implementation = (b: Backend) => (b as CheckedBackend).unchecked;

afterEach(() => {
  made = [];
  delete process.env.RECUR_BACKEND;
});

describe('the default backend', () => {
  it('is chosen on first use: the highest-priority synchronous backend, never an asynchronous one', () => {
    registerBackend('slow-gpu', async () => fake('slow-gpu'), 50);
    registerBackend('reference', () => fake('reference'), 0, { synchronous: true });
    registerBackend('fast', () => fake('fast'), 10, { synchronous: true });
    expect(hasDefaultBackend()).toBe(false);
    expect(made).toEqual([]);
    const chosen = getDefaultBackend();
    expect(implementation(chosen).name).toBe('fast');
    expect(chosen.description).toBe('fake fast');
    // Chosen once: later uses get the same instance.
    expect(getDefaultBackend()).toBe(chosen);
    expect(made).toEqual(['fast']);
    expect(hasDefaultBackend()).toBe(true);
  });

  it('a synchronous factory that is unavailable here is skipped, like createBackend("auto") does', () => {
    registerBackend(
      'missing-addon',
      () => {
        throw new BackendUnavailableError('not built');
      },
      20,
      { synchronous: true },
    );
    expect(implementation(createBackendSync()).name).toBe('fast');
  });

  it('createBackendSync refuses an asynchronous backend by name, saying how to set it', () => {
    expectError(() => createBackendSync('slow-gpu'), BackendUnavailableError, "setDefaultBackend(await createBackend('slow-gpu'))");
    expectError(() => createBackendSync('nope'), BackendUnavailableError, "no backend named 'nope'");
  });

  it('RECUR_BACKEND names the default, and setDefaultBackend overrides everything', async () => {
    const { getDefaultBackend: fresh } = await freshRegistry();
    process.env.RECUR_BACKEND = 'reference';
    expect(implementation(fresh()).name).toBe('reference');
    setDefaultBackend(fake('explicit'));
    expect(implementation(getDefaultBackend()).name).toBe('explicit');
  });
});

/** A second copy of the registry module with no default chosen yet (vitest's module reset). */
async function freshRegistry() {
  const { vi } = await import('vitest');
  vi.resetModules();
  const core = await import('@recur/core');
  const backend = await import('@recur/core/backend');
  backend.registerBackend('reference', () => fake('reference'), 0, { synchronous: true });
  backend.registerBackend('fast', () => fake('fast'), 10, { synchronous: true });
  return core;
}
