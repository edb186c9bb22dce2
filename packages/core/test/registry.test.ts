/**
 * The backend registry. This file imports no backend package, so (test files run in isolated
 * module graphs) the registry starts empty and holds only the fakes registered here.
 */
import {
  type Backend,
  BackendUnavailableError,
  createBackend,
  getDefaultBackend,
  hasDefaultBackend,
  listBackends,
  RecurError,
  setDefaultBackend,
} from '@recur/core';
import { type CheckedBackend, registerBackend } from '@recur/core/backend';
import { describe, expect, it } from 'vitest';
import { expectError, expectRejection } from './expect-error.js';

/** A stand-in: the registry never calls a backend's methods. */
const fake = (name: string, options: unknown = {}) => ({ name, options, fused: {} }) as unknown as Backend;

describe('backend registry', () => {
  it('starts with no default backend', () => {
    expect(hasDefaultBackend()).toBe(false);
    expectError(() => getDefaultBackend(), BackendUnavailableError, 'no default backend', '@recur/backend-js');
  });

  it("'auto' with no working backend throws BackendUnavailableError listing the failures", async () => {
    registerBackend(
      'missing-gpu',
      () => {
        throw new BackendUnavailableError('no adapter');
      },
      50,
    );
    await expectRejection(() => createBackend('auto'), BackendUnavailableError, "createBackend('auto')", 'missing-gpu: no adapter');
    await expectRejection(() => createBackend(), BackendUnavailableError, 'missing-gpu');
  });

  it("'auto' picks the highest priority and skips factories that throw BackendUnavailableError", async () => {
    registerBackend('low', (options) => fake('low', options), 1);
    registerBackend('high', (options) => fake('high', options), 10);
    registerBackend('mid-async', async () => fake('mid-async'), 5);
    expect(listBackends()).toEqual(['missing-gpu', 'high', 'mid-async', 'low']);
    expect((await createBackend('auto')).name).toBe('high');
    expect((await createBackend()).name).toBe('high');
    // By name, any registered backend; options reach the factory.
    const low = await createBackend('low', { dtype: 'float64' });
    expect(low.name).toBe('low');
    expect(((low as CheckedBackend).unchecked as unknown as { options: unknown }).options).toEqual({ dtype: 'float64' });
    expect((await createBackend('mid-async')).name).toBe('mid-async');
    // By name, an unavailable backend's error reaches the caller.
    await expectRejection(() => createBackend('missing-gpu'), BackendUnavailableError, 'no adapter');
  });

  it('other errors from a factory are not swallowed by auto', async () => {
    registerBackend(
      'broken',
      () => {
        throw new TypeError('bug in factory');
      },
      100,
    );
    await expect(createBackend('auto')).rejects.toThrow(TypeError);
    // Registering a name again replaces it (and its priority).
    registerBackend('broken', () => fake('broken'), -1);
    expect(listBackends()).toEqual(['missing-gpu', 'high', 'mid-async', 'low', 'broken']);
    expect((await createBackend('auto')).name).toBe('high');
  });

  it('unknown names and invalid registrations', async () => {
    await expectRejection(() => createBackend('nope'), BackendUnavailableError, "'nope'", 'missing-gpu, high, mid-async, low, broken');
    expectError(() => registerBackend('auto', () => fake('x')), RecurError, "'auto'");
    expectError(() => registerBackend('', () => fake('x')), RecurError, 'non-empty');
  });

  it('setDefaultBackend keeps the checked form of the backend, one per instance', () => {
    const b = fake('default');
    setDefaultBackend(b);
    expect(hasDefaultBackend()).toBe(true);
    expect((getDefaultBackend() as CheckedBackend).unchecked).toBe(b);
    setDefaultBackend(getDefaultBackend());
    expect((getDefaultBackend() as CheckedBackend).unchecked).toBe(b);
  });
});
