import { describe } from 'vitest';
import { nativeAvailability } from '../src/index.js';

const availability = nativeAvailability();

/** `describe` where the addon is built; otherwise a skipped block that says why. */
export const describeNative: typeof describe = availability.available
  ? describe
  : (((name: string, fn: () => void) => describe.skip(`${name} — skipped: ${availability.reason}`, fn)) as typeof describe);
