#!/usr/bin/env node
/**
 * GEMM throughput of this backend's two kernels on one adapter (scripts/gemm.ts).
 *
 *   node packages/backend-webgpu/scripts/bench.mjs [--batch 32] [--hidden 256] [--dawn backend=opengles]
 *
 * The training benchmark is the project's one: `pnpm bench:lstm --backend webgpu` from the root.
 * Without --dawn, Dawn's default adapter is tried first, then its OpenGL ES backend (what runs
 * on machines without a GPU, through Mesa llvmpipe). The TypeScript sources are bundled with
 * esbuild first, so no package build is needed.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { workspaceAliases } from '../../../vitest.shared.mjs';

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};
const here = (p) => fileURLToPath(new URL(p, import.meta.url));

process.env.EGL_PLATFORM ??= 'surfaceless';
if (!process.env.XDG_RUNTIME_DIR) {
  const dir = join(tmpdir(), 'recur-webgpu-xdg');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  process.env.XDG_RUNTIME_DIR = dir;
}

const dawn = option('dawn', undefined);
const options = {
  dawnFlags: dawn === undefined ? undefined : dawn.split(',').filter(Boolean),
  batch: Number(option('batch', 32)),
  hidden: Number(option('hidden', 256)),
};

// Written inside this package so that `webgpu` resolves from its node_modules.
const cache = here('../node_modules/.cache');
mkdirSync(cache, { recursive: true });
const out = join(cache, `recur-webgpu-bench-${process.pid}.mjs`);
const result = await build({
  entryPoints: [here('./gemm.ts')],
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  write: false,
  ignoreAnnotations: true,
  external: ['webgpu', 'esbuild'],
  alias: workspaceAliases,
});
writeFileSync(out, result.outputFiles[0].text);
try {
  const { bench } = await import(pathToFileURL(out).href);
  await bench(options);
} finally {
  rmSync(out, { force: true });
}
