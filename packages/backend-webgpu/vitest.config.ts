import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineConfig } from 'vitest/config';
import { workspaceAliases } from '../../vitest.shared.mjs';

// Dawn's OpenGL ES backend over Mesa (llvmpipe) needs a headless EGL platform and a runtime dir.
const runtimeDir = process.env.XDG_RUNTIME_DIR ?? join(tmpdir(), 'recur-webgpu-xdg');
mkdirSync(runtimeDir, { recursive: true, mode: 0o700 });

export default defineConfig({
  resolve: {
    alias: { ...workspaceAliases, '@recur/backend-webgpu': new URL('./src/index.ts', import.meta.url).pathname },
  },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    env: { EGL_PLATFORM: process.env.EGL_PLATFORM ?? 'surfaceless', XDG_RUNTIME_DIR: runtimeDir },
  },
});
