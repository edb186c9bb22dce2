import { fileURLToPath } from 'node:url';

/**
 * Tests run against the TypeScript sources of every workspace package: no build is needed, and
 * there is one copy of each module, so `instanceof` checks and the backend registry are shared.
 */
const source = (pkg) => fileURLToPath(new URL(`./packages/${pkg}/src/index.ts`, import.meta.url));

export const workspaceAliases = {
  '@recur/core': source('core'),
  '@recur/backend-js': source('backend-js'),
  '@recur/conformance': source('conformance'),
};
