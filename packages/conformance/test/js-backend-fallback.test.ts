import { createJsBackend } from '@recur/backend-js';
import type { Backend } from '@recur/core';
import { defineConformanceSuite } from '../src/index.js';

/**
 * The JS backend with its whole-sequence fast path hidden, so the same cases run through
 * core's generic per-step fallback (what a new backend gets before it adds the fast path).
 */
function withoutFusedSequence(backend: Backend): Backend {
  const view = Object.create(backend) as Backend;
  return Object.assign(view, { supports: (feature: string) => feature !== 'fusedSequence' && backend.supports(feature as never) });
}

defineConformanceSuite(() => withoutFusedSequence(createJsBackend()), {
  name: 'js float32, per-step fallback',
  groups: ['pytorch', 'finite-differences'],
});
