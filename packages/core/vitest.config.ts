import { defineConfig } from 'vitest/config';
import { workspaceAliases } from '../../vitest.shared.mjs';

export default defineConfig({
  resolve: { alias: workspaceAliases },
  // --expose-gc: the GC safety-net test (gc-safety-net.test.ts) forces collections.
  test: { include: ['test/**/*.test.ts'], testTimeout: 60_000, pool: 'forks', execArgv: ['--expose-gc'] },
});
