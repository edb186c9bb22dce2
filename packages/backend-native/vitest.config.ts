import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import { workspaceAliases } from '../../vitest.shared.mjs';

export default defineConfig({
  resolve: {
    alias: { ...workspaceAliases, '@recur/backend-native': fileURLToPath(new URL('./src/index.ts', import.meta.url)) },
  },
  // The addon is one native module per process: forks keep each test file in its own process.
  test: { include: ['test/**/*.test.ts'], testTimeout: 120_000, pool: 'forks', execArgv: ['--expose-gc'] },
});
