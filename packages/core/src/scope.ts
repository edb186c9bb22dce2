import type { Tensor } from './tensor.js';

/**
 * Scopes for `tidy`: every tensor created while a scope is open is recorded in the innermost
 * one, and disposed when it closes unless it escapes (returned, kept, or a parameter's grad).
 */
const scopes: Set<Tensor>[] = [];

export function trackTensor(t: Tensor): void {
  scopes[scopes.length - 1]?.add(t);
}

/** Removes a tensor from every open scope, so no `tidy` disposes it. */
export function untrackTensor(t: Tensor): void {
  for (const scope of scopes) scope.delete(t);
}

/** Marks tensors to survive the enclosing `tidy` scopes. Returns its argument. */
export function keep<T extends Tensor>(t: T): T {
  untrackTensor(t);
  return t;
}

function collectTensors(value: unknown, into: Set<Tensor>, isTensor: (v: unknown) => v is Tensor): void {
  if (isTensor(value)) into.add(value);
  else if (Array.isArray(value)) for (const v of value) collectTensors(v, into, isTensor);
  else if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    for (const v of Object.values(value)) collectTensors(v, into, isTensor);
  }
}

function looksLikeTensor(v: unknown): v is Tensor {
  return typeof v === 'object' && v !== null && 'gradFn' in v && 'shape' in v && 'backend' in v;
}

/**
 * Runs `fn` and disposes every tensor it created except those in its result (a tensor, or
 * arrays / plain objects of tensors, which move to the enclosing scope) and those passed to
 * `keep`. `fn` must be synchronous: scopes cannot follow an `await`.
 */
export function tidy<T>(fn: () => T): T {
  const scope = new Set<Tensor>();
  scopes.push(scope);
  let result: T;
  try {
    result = fn();
  } catch (error) {
    scopes.pop();
    for (const t of scope) t.dispose();
    throw error;
  }
  scopes.pop();
  if (result instanceof Promise) {
    for (const t of scope) t.dispose();
    throw new TypeError('tidy(fn): fn returned a Promise; tidy only works with synchronous functions');
  }
  const escaping = new Set<Tensor>();
  collectTensors(result, escaping, looksLikeTensor);
  const outer = scopes[scopes.length - 1];
  for (const t of scope) {
    if (escaping.has(t)) outer?.add(t);
    else t.dispose();
  }
  return result;
}
