import type { Backend } from '@recur/core';

export type CaseGroup = 'contract' | 'pytorch' | 'finite-differences' | 'cross-backend';

/** What a case may ask of the suite besides the two backends. */
export interface SuiteContext {
  /** Another instance of the backend under test (for cases that destroy one), in its checked form. */
  create(): Promise<Backend>;
}

/** One conformance case: run against the backend under test, with the float64 JS reference. */
export interface SuiteCase {
  group: CaseGroup;
  name: string;
  run(subject: Backend, reference: Backend, context: SuiteContext): Promise<void>;
  /** A reason the backend cannot run this case (reported as skipped), or null. */
  skipReason?(subject: Backend): string | null;
}
