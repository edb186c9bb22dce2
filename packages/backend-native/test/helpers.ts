import type { Backend, FusedSequenceKernels, FusedStackKernels } from '@recur/core/backend';
import { CheckedBackend } from '@recur/core/backend';
import { describe } from 'vitest';
import { type NativeBackend, nativeAvailability } from '../src/index.js';

const availability = nativeAvailability();

/** `describe` where the addon is built; otherwise a skipped block that says why. */
export const describeNative: typeof describe = availability.available
  ? describe
  : (((name: string, fn: () => void) => describe.skip(`${name} — skipped: ${availability.reason}`, fn)) as typeof describe);

/** The native implementation behind a checked backend (its threads, its engine). */
export function nativeOf(backend: Backend): NativeBackend {
  return (backend instanceof CheckedBackend ? backend.unchecked : backend) as NativeBackend;
}

/** The fused sequence kernels of a backend that must have them. */
export function sequenceKernels(backend: Backend): FusedSequenceKernels {
  if (!backend.fused.sequence) throw new Error(`${backend.name} has no fused sequence kernels`);
  return backend.fused.sequence;
}

export function stackKernels(backend: Backend): FusedStackKernels {
  if (!backend.fused.stack) throw new Error(`${backend.name} has no fused stack kernel`);
  return backend.fused.stack;
}
