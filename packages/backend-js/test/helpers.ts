import { readFileSync } from 'node:fs';
import type { Backend, BackendBuffer, FusedSequenceKernels, FusedStackKernels } from '@recur/core/backend';
import { expect } from 'vitest';
import { createJsBackend } from '../src/index.js';

/** The float64 backend every numerical test runs on (checked, as users get it). */
export const f64 = createJsBackend({ dtype: 'float64' });

/** The fused sequence kernels of a backend that must have them. */
export function sequenceKernels(backend: Backend): FusedSequenceKernels {
  if (!backend.fused.sequence) throw new Error(`${backend.name} has no fused sequence kernels`);
  return backend.fused.sequence;
}

export function stackKernels(backend: Backend): FusedStackKernels {
  if (!backend.fused.stack) throw new Error(`${backend.name} has no fused stack kernel`);
  return backend.fused.stack;
}

/** A buffer's contents as a plain array. */
export async function values(buffer: BackendBuffer, backend: Backend = f64): Promise<number[]> {
  return Array.from(await backend.read(buffer));
}

/** Deterministic uniform numbers in [lo, hi) (mulberry32), so failures reproduce. */
export function random(seed: number): (lo?: number, hi?: number) => number {
  let s = seed >>> 0;
  return (lo = -1, hi = 1) => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    const u = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    return lo + (hi - lo) * u;
  };
}

export function randomArray(rng: (lo?: number, hi?: number) => number, length: number, lo = -1, hi = 1): number[] {
  return Array.from({ length }, () => rng(lo, hi));
}

export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** Element-wise closeness: |a − e| ≤ atol + rtol·|e|, with the first offending index in the message. */
export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, rtol = 1e-12, atol = 0): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const ok = Math.abs(actual[i] - expected[i]) <= atol + rtol * Math.abs(expected[i]);
    if (!ok) expect.fail(`index ${i}: got ${actual[i]}, expected ${expected[i]} (rtol ${rtol}, atol ${atol})`);
  }
}

interface FixtureTensor {
  shape: number[];
  data: number[];
}
export type { FixtureTensor };

/** A committed PyTorch golden file from packages/conformance/fixtures. */
export function loadFixture<T>(name: string): { cases: T[] } {
  const url = new URL(`../../conformance/fixtures/${name}`, import.meta.url);
  return JSON.parse(readFileSync(url, 'utf8'));
}
