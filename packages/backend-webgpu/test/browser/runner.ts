/**
 * The browser page's script: runs the same conformance case list as the Node suite
 * (`conformanceCases()`) against this backend on `navigator.gpu`, with the float64 JS backend
 * as reference, and reports per-case results to the driving test (Playwright).
 */
import { createJsBackend } from '@recur/backend-js';
import { conformanceCases } from '@recur/conformance';
import type { Backend } from '@recur/core';
import { checkedBackend } from '@recur/core/backend';
import { createWebGpuBackend, createWebGpuImplementation, type WebGpuBackendOptions } from '../../src/index.js';

export interface CaseResult {
  group: string;
  name: string;
  status: 'passed' | 'failed' | 'skipped';
  ms: number;
  message?: string;
}

export interface RunReport {
  adapter: string;
  /** The device's storage-buffer budget per shader stage (4 in compatibility mode on some devices). */
  maxStorageBuffersPerShaderStage: number;
  results: CaseResult[];
}

async function run(options: {
  filter?: string;
  /** Only cases of these groups (default all). */
  groups?: string[];
  skip?: Record<string, string>;
  modelHidden?: number;
  backend?: WebGpuBackendOptions;
}): Promise<RunReport> {
  const implementation = await createWebGpuImplementation(options.backend ?? {});
  const subject = checkedBackend(implementation);
  const reference: Backend = createJsBackend({ dtype: 'float64' });
  const results: CaseResult[] = [];
  const cases = conformanceCases({ modelHidden: options.modelHidden ?? 8 }).filter(
    (c) => (!options.filter || c.name.includes(options.filter)) && (!options.groups || options.groups.includes(c.group)),
  );
  for (const c of cases) {
    const listed = Object.entries(options.skip ?? {}).find(([pattern]) => c.name.includes(pattern));
    const reason = listed ? listed[1] : (c.skipReason?.(subject) ?? null);
    if (reason) {
      results.push({ group: c.group, name: c.name, status: 'skipped', ms: 0, message: reason });
      continue;
    }
    const start = performance.now();
    try {
      await c.run(subject, reference, { create: () => createWebGpuBackend(options.backend ?? {}) });
      results.push({ group: c.group, name: c.name, status: 'passed', ms: performance.now() - start });
    } catch (error) {
      results.push({
        group: c.group,
        name: c.name,
        status: 'failed',
        ms: performance.now() - start,
        message: String((error as Error)?.stack ?? error),
      });
    }
  }
  const adapter = subject.description;
  const maxStorageBuffersPerShaderStage = implementation.device.limits.maxStorageBuffersPerShaderStage;
  subject.destroy();
  return { adapter, maxStorageBuffersPerShaderStage, results };
}

(globalThis as { runConformance?: typeof run }).runConformance = run;
document.title = 'ready';
