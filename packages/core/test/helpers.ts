/**
 * Shared test helpers: a float64 backend, deterministic random numbers, closeness checks,
 * central-difference gradient checks and a live-buffer-counting backend wrapper.
 *
 * Expected values in these tests never come from running the code under test: they are either
 * worked out by hand in plain JS, or central finite differences of a scalar loss on a float64
 * backend (whose forward pass is checked separately by the closed-form tests).
 */
import { createJsBackend } from '@recur/backend-js';
import { type Backend, mul, noGrad, type Parameter, sum, type Tensor, tensor } from '@recur/core';
import {
  type BackendBuffer,
  CheckedBackend,
  checkedBackend,
  type FusedKernels,
  type SequenceBackwardResult,
  type SequenceForwardResult,
  type SequenceStackForwardResult,
} from '@recur/core/backend';
import { expect } from 'vitest';

/** A fresh float64 JS backend (each call a new instance). */
export function f64(): Backend {
  return createJsBackend({ dtype: 'float64' });
}

/** Deterministic uniform numbers in [lo, hi) (mulberry32), independent of core's generator. */
export function rng(seed: number): (lo?: number, hi?: number) => number {
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

export function randomArray(seed: number, length: number, lo = -1, hi = 1): number[] {
  const r = rng(seed);
  return Array.from({ length }, () => r(lo, hi));
}

export function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** Element-wise |a − e| ≤ atol + rtol·|e|, naming the first offending index. */
export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, rtol = 1e-10, atol = 1e-12, what = ''): void {
  expect(actual.length, `${what} length`).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const ok = Math.abs(actual[i] - expected[i]) <= atol + rtol * Math.abs(expected[i]);
    if (!ok) expect.fail(`${what} index ${i}: got ${actual[i]}, expected ${expected[i]} (rtol ${rtol}, atol ${atol})`);
  }
}

export async function values(t: Tensor): Promise<number[]> {
  return Array.from(await t.toArray());
}

export { expectError, expectRejection } from './expect-error.js';

export interface GradInput {
  data: ArrayLike<number>;
  shape: readonly number[];
}

export interface GradCheckOptions {
  /** Finite-difference step (default 1e-6). */
  eps?: number;
  /** Tolerance: |analytic − numeric| ≤ tol·(1 + |numeric|) (default 1e-6). */
  tol?: number;
  /** Seed of the random weights R of the loss `sum(out ⊙ R)`. */
  seed?: number;
  /** Indices of the inputs to check and give requiresGrad (default all). */
  wrt?: number[];
}

/**
 * Checks the gradients of `fn` wrt its inputs against central finite differences, on a float64
 * backend, with the loss `sum(mul(out, R))` for a fixed random R shaped like the output. The
 * numeric loss is evaluated in plain JS (Σ out·R) from the forward values, without autograd.
 */
export async function gradCheck(
  backend: Backend,
  fn: (...xs: Tensor[]) => Tensor,
  inputs: GradInput[],
  options: GradCheckOptions = {},
): Promise<void> {
  const eps = options.eps ?? 1e-6;
  const tol = options.tol ?? 1e-6;
  const wrt = options.wrt ?? inputs.map((_, i) => i);
  // Analytic gradients through backward().
  const xs = inputs.map((input, i) => tensor(input.data, input.shape, { backend, requiresGrad: wrt.includes(i) }));
  const out = fn(...xs);
  const r = randomArray(options.seed ?? 1234, out.size);
  const loss = sum(mul(out, tensor(r, out.shape, { backend })));
  loss.backward();
  const analytic: number[][] = [];
  for (const i of wrt) {
    const g = xs[i].grad;
    if (!g) expect.fail(`input ${i} received no gradient`);
    expect([...g.shape], `grad ${i} shape`).toEqual([...inputs[i].shape]);
    analytic[i] = await values(g);
  }
  // Numeric gradients: central differences of Σ out·R.
  const lossAt = async (data: number[][]): Promise<number> => {
    const y = noGrad(() => fn(...data.map((d, i) => tensor(d, inputs[i].shape, { backend }))));
    return dot(await y.toArray(), r);
  };
  const base = inputs.map((input) => Array.from(input.data));
  const mismatches: string[] = [];
  for (const i of wrt) {
    for (let j = 0; j < base[i].length; j++) {
      const plus = base.map((d) => [...d]);
      const minus = base.map((d) => [...d]);
      plus[i][j] += eps;
      minus[i][j] -= eps;
      const numeric = ((await lossAt(plus)) - (await lossAt(minus))) / (2 * eps);
      const a = analytic[i][j];
      if (!(Math.abs(a - numeric) <= tol * (1 + Math.abs(numeric)))) mismatches.push(`input ${i}[${j}]: analytic ${a}, numeric ${numeric}`);
    }
  }
  expect(mismatches).toEqual([]);
}

/**
 * Central finite differences of `loss()` (evaluated under noGrad) wrt every element of every
 * parameter, perturbing through `copyFrom`; the parameters are restored afterwards.
 */
export async function numericParamGradient(params: Parameter[], loss: () => Tensor, eps = 1e-6): Promise<number[][]> {
  const out: number[][] = [];
  for (const p of params) {
    const base = await values(p);
    const grad: number[] = [];
    for (let j = 0; j < base.length; j++) {
      const at = async (delta: number) => {
        const d = [...base];
        d[j] += delta;
        p.copyFrom(d);
        return noGrad(() => loss()).item();
      };
      grad.push(((await at(eps)) - (await at(-eps))) / (2 * eps));
    }
    p.copyFrom(base);
    out.push(grad);
  }
  return out;
}

/** Expects analytic gradients to match numeric ones: |a − n| ≤ tol·(1 + |n|), listing every mismatch. */
export function expectGradientsMatch(analytic: ArrayLike<number>[], numeric: ArrayLike<number>[], tol = 1e-6, what = 'param'): void {
  const mismatches: string[] = [];
  expect(analytic.length).toBe(numeric.length);
  numeric.forEach((n, k) => {
    expect(analytic[k].length).toBe(n.length);
    for (let j = 0; j < n.length; j++) {
      const a = analytic[k][j];
      if (!(Math.abs(a - n[j]) <= tol * (1 + Math.abs(n[j])))) mismatches.push(`${what} ${k}[${j}]: analytic ${a}, numeric ${n[j]}`);
    }
  });
  expect(mismatches).toEqual([]);
}

/**
 * Checks the gradients that `loss().backward()` leaves on `params` against central finite
 * differences of `loss()`. Existing gradients are cleared first.
 */
export async function paramGradCheck(params: Parameter[], loss: () => Tensor, options: { eps?: number; tol?: number } = {}): Promise<void> {
  for (const p of params) p.zeroGrad();
  loss().backward();
  const analytic: number[][] = [];
  for (const p of params) {
    if (!p.grad) expect.fail(`${p} received no gradient`);
    analytic.push(await values(p.grad));
  }
  expectGradientsMatch(analytic, await numericParamGradient(params, loss, options.eps), options.tol);
}

/** Methods of `Backend` that return new buffers (directly, or as fields of a result object). */
const ALLOCATING = new Set([
  'upload',
  'fill',
  'gemm',
  'unary',
  'binary',
  'sumTo',
  'sumOfSquares',
  'permute',
  'concat',
  'slice',
  'gatherRows',
  'scatterAddRows',
  'cellForward',
  'cellBackward',
  'softmaxCrossEntropy',
]);

export interface CountingBackend {
  backend: Backend;
  /** Buffers handed out and not yet disposed. */
  live(): number;
}

/**
 * Wraps a backend's implementation in a Proxy that records every buffer an allocating method
 * (or fused kernel) returns in a set and removes it on `dispose`, so `live()` counts the
 * buffers handed out and not released — independently of the checked wrapper's own ledger,
 * which `memory()` reports. (Methods writing into an `out` buffer return that buffer, which is
 * already in the set.) `overrides` replace members, e.g. `{ fused: {} }` to hide fast paths.
 */
export function countingBackend(inner: Backend, overrides: Partial<Backend> = {}): CountingBackend {
  const live = new Set<BackendBuffer>();
  const record = <T>(value: T): T => {
    if (!value || typeof value !== 'object') return value;
    if ('length' in value && typeof (value as BackendBuffer).length === 'number') live.add(value as BackendBuffer);
    else for (const v of Object.values(value)) if (v && typeof v === 'object') live.add(v as BackendBuffer);
    return value;
  };
  const base = implementation(inner);
  const fusedSource = (Object.hasOwn(overrides, 'fused') ? overrides.fused : base.fused) as FusedKernels;
  const fused: FusedKernels = {
    sequence: fusedSource.sequence && {
      forward: (args) => record(fusedSource.sequence?.forward(args)) as SequenceForwardResult,
      backward: (args) => record(fusedSource.sequence?.backward(args)) as SequenceBackwardResult,
    },
    stack: fusedSource.stack && { forward: (args) => record(fusedSource.stack?.forward(args)) as SequenceStackForwardResult },
  };
  const view = new Proxy(base, {
    get(target, prop, receiver) {
      if (prop === 'fused') return fused;
      if (Object.hasOwn(overrides, prop)) return (overrides as Record<string | symbol, unknown>)[prop];
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function') return value;
      if (prop === 'dispose') {
        return (buffer: BackendBuffer) => {
          live.delete(buffer);
          return value.call(target, buffer);
        };
      }
      if (typeof prop === 'string' && ALLOCATING.has(prop)) return (...args: unknown[]) => record(value.apply(target, args));
      return value.bind(target);
    },
  });
  return { backend: checkedBackend(view), live: () => live.size };
}

/** The implementation behind a checked backend (the backend itself if unchecked). */
export function implementation(backend: Backend): Backend {
  return backend instanceof CheckedBackend ? backend.unchecked : backend;
}

/** The same backend without the fused fast paths (per layer and stacked), so layers take the generic unrolled path. */
export function withoutFusedSequence(inner: Backend): Backend {
  return countingBackend(inner, { fused: {} }).backend;
}

/** The same backend without the stacked fast path only, so inference runs `fusedSequence` layer by layer. */
export function withoutFusedStack(inner: Backend): Backend {
  return countingBackend(inner, { fused: { sequence: implementation(inner).fused.sequence } }).backend;
}
