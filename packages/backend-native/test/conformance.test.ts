import { defineConformanceSuite } from '@recur/conformance';
import { createBackend } from '@recur/core';
import { describe, it } from 'vitest';
import { nativeAvailability } from '../src/index.js';

// The whole conformance suite on the native backend. Where the addon is not built the file
// is skipped with the reason (and how to build it) instead of failing.
const availability = nativeAvailability();
if (availability.available) {
  defineConformanceSuite(() => createBackend('native'), { name: 'native float32' });
} else {
  describe.skip(`conformance: native float32 — skipped: ${availability.reason}`, () => {
    it('needs the native addon', () => {});
  });
}
