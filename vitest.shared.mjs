import { fileURLToPath } from 'node:url';

/**
 * Tests run against the TypeScript sources of every workspace package: no build is needed, and
 * there is one copy of each module, so `instanceof` checks and the backend registry are shared.
 */
const source = (pkg) => fileURLToPath(new URL(`./packages/${pkg}/src/index.ts`, import.meta.url));

// Sub-path entries come first: an alias also matches the paths below its name, and the first
// match wins, so '@recur/core' must not catch '@recur/core/backend'.
export const workspaceAliases = {
  '@recur/core/backend': fileURLToPath(new URL('./packages/core/src/backend/index.ts', import.meta.url)),
  '@recur/core/node': fileURLToPath(new URL('./packages/core/src/node.ts', import.meta.url)),
  '@recur/core': source('core'),
  '@recur/backend-js': source('backend-js'),
  '@recur/conformance': source('conformance'),
};
