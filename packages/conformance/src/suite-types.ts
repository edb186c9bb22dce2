import type { Backend } from '@recur/core';

export type CaseGroup = 'pytorch' | 'finite-differences' | 'cross-backend';

/** One conformance case: run against the backend under test, with the float64 JS reference. */
export interface SuiteCase {
  group: CaseGroup;
  name: string;
  run(subject: Backend, reference: Backend): Promise<void>;
  /** A reason the backend cannot run this case (reported as skipped), or null. */
  skipReason?(subject: Backend): string | null;
}
