/** Bundles test/browser/runner.ts (conformance cases + this backend + the JS reference) into one ES module. */
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { workspaceAliases } from '../../../../vitest.shared.mjs';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

export async function bundleRunner(): Promise<string> {
  const result = await build({
    entryPoints: [here('./runner.ts')],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    logLevel: 'silent',
    // core's package.json marks only dist/ files as having side effects; bundling its sources
    // must keep the side-effect import of tensor-methods.
    ignoreAnnotations: true,
    // Node-only code paths (Dawn, temp dirs) are never taken in a browser.
    external: ['webgpu', 'node:*'],
    alias: { vitest: here('./vitest-stub.ts'), ...workspaceAliases },
  });
  return result.outputFiles[0].text;
}
