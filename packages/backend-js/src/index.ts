/**
 * @recur/backend-js: the pure TypeScript reference backend.
 *
 * Importing this module registers it as `'js'` (priority 0, below every faster backend), with a
 * synchronous factory: where no faster synchronous backend is imported, the first tensor made
 * without a backend gets a float32 JS backend as the default.
 */
import { type CheckedBackend, checkedBackend, registerBackend } from '@recur/core/backend';
import { JsBackend, type JsBackendOptions } from './backend.js';

export type { JsBackendOptions } from './backend.js';
export { JsBackend } from './backend.js';
export { JsBuffer } from './buffer.js';

/**
 * A new JS backend in its checked form (what `createBackend('js')` returns, synchronously);
 * `dtype` defaults to float32 (use float64 for gradient checks).
 */
export function createJsBackend(options: JsBackendOptions = {}): CheckedBackend {
  return checkedBackend(new JsBackend(options));
}

registerBackend('js', (options) => new JsBackend(options), 0, { synchronous: true });
