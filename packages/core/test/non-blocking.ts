import { JsBackend } from '@recur/backend-js';
import type { Backend } from '@recur/core';

/** A js backend without blocking reads, as WebGPU is (core wraps it in its checks as usual). */
export function nonBlocking(): Backend {
  const base = new JsBackend({ dtype: 'float64' });
  return new Proxy(base, {
    get: (target, key) => {
      if (key === 'blocking') return undefined;
      const value = Reflect.get(target, key);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
