import { checkedBackend } from './backend/checked.js';
import { DTYPES } from './backend/constants.js';
import type { Backend } from './backend/interface.js';
import { BackendUnavailableError, OptionsError, RecurError } from './errors.js';

/**
 * Options every backend factory accepts; backends document their own extra keys and reject
 * keys they do not know (with `checkOptions`).
 */
export interface BackendOptions {
  dtype?: 'float32' | 'float64';
  [key: string]: unknown;
}

/**
 * Makes a backend. A synchronous factory (one that returns the backend itself, not a Promise)
 * registers with `{ synchronous: true }`: only those can become the default backend on first use.
 */
export type BackendFactory = (options: BackendOptions) => Backend | Promise<Backend>;

export interface RegisterBackendOptions {
  /**
   * The factory returns the backend itself, never a Promise (native, js; WebGPU opens its device
   * asynchronously). Default false.
   */
  synchronous?: boolean;
}

interface Registration {
  factory: BackendFactory;
  priority: number;
  synchronous: boolean;
}

const registry = new Map<string, Registration>();
let defaultBackend: Backend | null = null;

/**
 * Makes a backend available to `createBackend`. A higher `priority` is tried first by
 * `'auto'` (the JS reference registers with 0; faster backends register higher).
 * Registering a name again replaces it.
 */
export function registerBackend(name: string, factory: BackendFactory, priority = 0, options: RegisterBackendOptions = {}): void {
  if (!name || name === 'auto')
    throw new RecurError(`registerBackend: name must be a non-empty string other than 'auto', received '${name}'`);
  registry.set(name, { factory, priority, synchronous: options.synchronous === true });
}

/** Registered backend names, highest priority first. */
export function listBackends(): string[] {
  return [...registry.entries()].sort((a, b) => b[1].priority - a[1].priority).map(([name]) => name);
}

function checkCreateArguments(where: string, name: unknown, options: unknown): asserts options is BackendOptions {
  if (typeof name !== 'string') throw new OptionsError(`${where}: name must be a string, received ${typeof name}`);
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new OptionsError(`${where}: options must be an object, received ${options === null ? 'null' : typeof options}`);
  }
  const dtype = (options as BackendOptions).dtype;
  if (dtype !== undefined && !DTYPES.includes(dtype)) {
    throw new OptionsError(`${where}: dtype must be one of ${DTYPES.join(', ')}, received ${String(dtype)}`);
  }
}

function unknownBackend(where: string, name: string): BackendUnavailableError {
  return new BackendUnavailableError(
    `${where}: no backend named '${name}' is registered (registered: ${listBackends().join(', ') || 'none'}); import its package, e.g. '@recur/backend-${name}'`,
  );
}

/**
 * Creates a backend by name, or with `'auto'` the highest-priority registered backend whose
 * factory succeeds (a factory signals "not here" by throwing `BackendUnavailableError`).
 * Throws `BackendUnavailableError` naming the registered backends when none works.
 */
export async function createBackend(name: string = 'auto', options: BackendOptions = {}): Promise<Backend> {
  checkCreateArguments('createBackend', name, options);
  if (name !== 'auto') {
    const registration = registry.get(name);
    if (!registration) throw unknownBackend('createBackend', name);
    return checkedBackend(await registration.factory(options));
  }
  const failures: string[] = [];
  for (const candidate of listBackends()) {
    try {
      return checkedBackend(await (registry.get(candidate) as Registration).factory(options));
    } catch (error) {
      if (!(error instanceof BackendUnavailableError)) throw error;
      failures.push(`${candidate}: ${error.message}`);
    }
  }
  throw new BackendUnavailableError(
    `createBackend('auto'): no registered backend could be created${failures.length ? ` (${failures.join('; ')})` : ''}`,
  );
}

/**
 * `createBackend` without waiting, for the backends whose factory is synchronous (native and
 * js; not WebGPU, which opens its device asynchronously). `'auto'` picks the highest-priority
 * synchronous backend that works here.
 */
export function createBackendSync(name: string = 'auto', options: BackendOptions = {}): Backend {
  checkCreateArguments('createBackendSync', name, options);
  if (name !== 'auto') {
    const registration = registry.get(name);
    if (!registration) throw unknownBackend('createBackendSync', name);
    if (!registration.synchronous) {
      throw new BackendUnavailableError(
        `createBackendSync: the '${name}' backend is created asynchronously; use setDefaultBackend(await createBackend('${name}'))`,
      );
    }
    return checkedBackend(registration.factory(options) as Backend);
  }
  const failures: string[] = [];
  for (const candidate of listBackends()) {
    const registration = registry.get(candidate) as Registration;
    if (!registration.synchronous) continue;
    try {
      return checkedBackend(registration.factory(options) as Backend);
    } catch (error) {
      if (!(error instanceof BackendUnavailableError)) throw error;
      failures.push(`${candidate}: ${error.message}`);
    }
  }
  const asynchronous = listBackends().filter((n) => !(registry.get(n) as Registration).synchronous);
  throw new BackendUnavailableError(
    `no backend could be created synchronously${failures.length ? ` (${failures.join('; ')})` : ''}: import a backend package such as '@recur/backend-js'${asynchronous.length ? `, or set one of ${asynchronous.join(', ')} with setDefaultBackend(await createBackend('${asynchronous[0]}'))` : ''}`,
  );
}

/** The backend used when a tensor or module is created without one (in its checked form). */
export function setDefaultBackend(backend: Backend): void {
  defaultBackend = checkedBackend(backend);
}

/** The `RECUR_BACKEND` environment variable where there is one (Node), else undefined. */
function backendFromEnvironment(): string | undefined {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  return env?.RECUR_BACKEND || undefined;
}

/**
 * The backend tensors and modules use when given none. Unless `setDefaultBackend` chose one,
 * the first call picks it: the backend named by the environment variable `RECUR_BACKEND`
 * (in Node), else the highest-priority synchronous backend among the packages imported —
 * native where its addon is built, then js (WebGPU opens its device asynchronously: choose it
 * with `setDefaultBackend(await createBackend('webgpu'))`). Its `description` says which.
 */
export function getDefaultBackend(): Backend {
  if (!defaultBackend) {
    const name = backendFromEnvironment() ?? 'auto';
    try {
      defaultBackend = createBackendSync(name);
    } catch (error) {
      if (!(error instanceof BackendUnavailableError)) throw error;
      throw new BackendUnavailableError(
        `no default backend: ${error.message}${name === 'auto' ? '' : ' (RECUR_BACKEND names it)'}; or pass { backend } explicitly`,
        { cause: error },
      );
    }
  }
  return defaultBackend;
}

/** Whether a default backend has been set or chosen. */
export function hasDefaultBackend(): boolean {
  return defaultBackend !== null;
}
