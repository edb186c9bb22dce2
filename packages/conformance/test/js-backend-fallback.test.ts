import { JsBackend } from '@recur/backend-js';
import type { Backend } from '@recur/core/backend';
import { defineConformanceSuite } from '../src/index.js';

/**
 * The JS backend with its whole-sequence fast path hidden, so the same cases run through
 * core's generic per-step fallback (what a new backend gets before it adds the fast path).
 */
function withoutFusedSequence(backend: Backend): Backend {
  return Object.assign(Object.create(backend) as Backend, { fused: {} });
}

defineConformanceSuite(() => withoutFusedSequence(new JsBackend()), {
  name: 'js float32, per-step fallback',
  groups: ['pytorch', 'finite-differences'],
});
