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

export type BackendFactory = (options: BackendOptions) => Backend | Promise<Backend>;

interface Registration {
  factory: BackendFactory;
  priority: number;
}

const registry = new Map<string, Registration>();
let defaultBackend: Backend | null = null;

/**
 * Makes a backend available to `createBackend`. A higher `priority` is tried first by
 * `'auto'` (the JS reference registers with 0; faster backends register higher).
 * Registering a name again replaces it.
 */
export function registerBackend(name: string, factory: BackendFactory, priority = 0): void {
  if (!name || name === 'auto')
    throw new RecurError(`registerBackend: name must be a non-empty string other than 'auto', received '${name}'`);
  registry.set(name, { factory, priority });
}

/** Registered backend names, highest priority first. */
export function listBackends(): string[] {
  return [...registry.entries()].sort((a, b) => b[1].priority - a[1].priority).map(([name]) => name);
}

/**
 * Creates a backend by name, or with `'auto'` the highest-priority registered backend whose
 * factory succeeds (a factory signals "not here" by throwing `BackendUnavailableError`).
 * Throws `BackendUnavailableError` naming the registered backends when none works.
 */
export async function createBackend(name: string = 'auto', options: BackendOptions = {}): Promise<Backend> {
  if (typeof name !== 'string') throw new OptionsError(`createBackend: name must be a string, received ${typeof name}`);
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new OptionsError(`createBackend: options must be an object, received ${options === null ? 'null' : typeof options}`);
  }
  if (options.dtype !== undefined && !DTYPES.includes(options.dtype)) {
    throw new OptionsError(`createBackend: dtype must be one of ${DTYPES.join(', ')}, received ${String(options.dtype)}`);
  }
  if (name !== 'auto') {
    const registration = registry.get(name);
    if (!registration) {
      throw new BackendUnavailableError(
        `createBackend: no backend named '${name}' is registered (registered: ${listBackends().join(', ') || 'none'}); import its package, e.g. '@recur/backend-${name}'`,
      );
    }
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

/** The backend used when a tensor or module is created without one (in its checked form). */
export function setDefaultBackend(backend: Backend): void {
  defaultBackend = checkedBackend(backend);
}

export function getDefaultBackend(): Backend {
  if (!defaultBackend) {
    throw new BackendUnavailableError(
      "no default backend: pass { backend } or call setDefaultBackend(await createBackend('auto')) after importing a backend package such as '@recur/backend-js'",
    );
  }
  return defaultBackend;
}

/** Whether a default backend has been set. */
export function hasDefaultBackend(): boolean {
  return defaultBackend !== null;
}
