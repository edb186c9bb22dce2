import { createJsBackend } from '@recur/backend-js';
import type { Backend } from '@recur/core';
import { checkedBackend } from '@recur/core/backend';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { benchmarkShapeCases } from './benchmark-shapes.js';
import { contractCases } from './contract.js';
import { type CrossBackendOptions, crossBackendCases } from './cross-backend.js';
import { delayCases } from './delay-cases.js';
import { esnCases } from './esn-cases.js';
import { finiteDifferenceCases } from './finite-diff.js';
import { goldenCases } from './golden.js';
import { optimizerCases } from './optimizer-cases.js';
import type { CaseGroup, SuiteCase } from './suite-types.js';
import { timeAwareCases } from './time-aware-cases.js';
import { variantCases } from './variant-cases.js';

export interface ConformanceOptions extends CrossBackendOptions {
  /** Shown in test titles and the summary (default: the backend's name and dtype). */
  name?: string;
  /**
   * Cases this backend cannot run yet, by a substring of the case name, with the reason.
   * They are reported as skipped with that reason, never dropped silently.
   */
  skip?: Record<string, string>;
  /** Run only these groups (default all four). */
  groups?: CaseGroup[];
  /** Release the backend after the suite (default true). */
  destroy?: boolean;
}

/** All cases, grouped. Exposed so other runners (a browser page) can run the same list. */
export function conformanceCases(options: CrossBackendOptions = {}): SuiteCase[] {
  return [
    ...contractCases(),
    ...goldenCases(),
    ...finiteDifferenceCases(),
    ...crossBackendCases(options),
    ...esnCases(options),
    ...optimizerCases(),
    ...benchmarkShapeCases(),
    ...delayCases(options),
    ...variantCases(options),
    ...timeAwareCases(options),
  ];
}

const GROUP_TITLES: Record<CaseGroup, string> = {
  contract: 'Backend contract: errors and lifecycle',
  pytorch: 'PyTorch golden fixtures',
  'finite-differences': 'finite-difference gradients',
  'cross-backend': 'cross-backend vs the float64 JS reference',
};

/**
 * Registers the whole conformance suite with vitest for one backend. Call it at the top level
 * of a test file: `defineConformanceSuite(() => createBackend('mine'))`.
 */
export function defineConformanceSuite(createBackend: () => Backend | Promise<Backend>, options: ConformanceOptions = {}): void {
  let subject: Backend;
  let reference: Backend;
  const tally = new Map<CaseGroup, { ran: number; skipped: string[] }>();
  const count = (group: CaseGroup) => {
    const t = tally.get(group) ?? { ran: 0, skipped: [] };
    tally.set(group, t);
    return t;
  };
  const cases = conformanceCases(options).filter((c) => !options.groups || options.groups.includes(c.group));

  describe(`conformance${options.name ? `: ${options.name}` : ''}`, () => {
    beforeAll(async () => {
      // The checked form, as createBackend returns it: the suite tests what users get.
      subject = checkedBackend(await createBackend());
      reference = createJsBackend({ dtype: 'float64' });
    });
    afterAll(() => {
      const label = options.name ?? `${subject?.name}/${subject?.dtype}`;
      const lines = [...tally].map(
        ([group, t]) => `  ${GROUP_TITLES[group].padEnd(44)} ${String(t.ran).padStart(4)} ran, ${t.skipped.length} skipped`,
      );
      const skipped = [...tally.values()].flatMap((t) => t.skipped);
      console.log(
        `conformance summary for ${label}:\n${lines.join('\n')}${skipped.length ? `\n  skipped:\n    ${skipped.join('\n    ')}` : ''}`,
      );
      if (options.destroy ?? true) subject?.destroy();
      reference?.destroy();
    });

    for (const group of Object.keys(GROUP_TITLES) as CaseGroup[]) {
      const inGroup = cases.filter((c) => c.group === group);
      if (inGroup.length === 0) continue;
      describe(GROUP_TITLES[group], () => {
        for (const c of inGroup) {
          const listed = Object.entries(options.skip ?? {}).find(([pattern]) => c.name.includes(pattern));
          if (listed) {
            count(group).skipped.push(`${c.name}: ${listed[1]}`);
            it.skip(`${c.name} (skipped: ${listed[1]})`, () => {});
            continue;
          }
          it(c.name, async (context) => {
            const reason = c.skipReason?.(subject) ?? null;
            if (reason) {
              count(group).skipped.push(`${c.name}: ${reason}`);
              context.skip(reason);
              return;
            }
            await c.run(subject, reference, { create: async () => checkedBackend(await createBackend()) });
            count(group).ran++;
          });
        }
      });
    }
  });
}
