/**
 * @recur/backend-js: the pure TypeScript reference backend.
 *
 * Importing this module registers it as `'js'` (priority 0, below every faster backend) and,
 * when no default backend is set yet, makes a float32 instance the default.
 */
import { hasDefaultBackend, setDefaultBackend } from '@recur/core';
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

registerBackend('js', (options) => new JsBackend(options), 0);
if (!hasDefaultBackend()) setDefaultBackend(new JsBackend());
