#!/usr/bin/env node
/**
 * The LSTM char-LM benchmark on this backend (tokens/s, naming the adapter).
 *
 *   node packages/backend-webgpu/scripts/bench.mjs [--steps 2] [--warmup 1] [--hidden 256]
 *        [--layers 2] [--embedding 64] [--batch 32] [--seq 64] [--backend webgpu|js]
 *        [--dawn backend=opengles] [--data ../shared/data/tinyshakespeare.txt]
 *
 * With --gemm it measures GEMM throughput of both kernels instead (scripts/gemm.ts), on the
 * recurrent product of that LSTM: --batch × 4·--hidden × --hidden.
 *
 * Without --dawn, Dawn's default adapter is tried first, then its OpenGL ES backend (what runs
 * on machines without a GPU, through Mesa llvmpipe). The TypeScript sources are bundled with
 * esbuild first, so no package build is needed.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

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
  backend: option('backend', 'webgpu'),
  dawnFlags: dawn === undefined ? undefined : dawn.split(',').filter(Boolean),
  featureLevel: dawn?.includes('backend=opengles') ? 'compatibility' : undefined,
  hidden: Number(option('hidden', 256)),
  layers: Number(option('layers', 2)),
  embedding: Number(option('embedding', 64)),
  batch: Number(option('batch', 32)),
  seq: Number(option('seq', 64)),
  warmup: Number(option('warmup', 1)),
  steps: Number(option('steps', 2)),
  data: option('data', here('../../../../shared/data/tinyshakespeare.txt')),
};

// Written inside this package so that `webgpu` resolves from its node_modules.
const cache = here('../node_modules/.cache');
mkdirSync(cache, { recursive: true });
const out = join(cache, `recur-webgpu-bench-${process.pid}.mjs`);
const result = await build({
  entryPoints: [here(args.includes('--gemm') ? './gemm.ts' : './char-lm.ts')],
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  write: false,
  ignoreAnnotations: true,
  external: ['webgpu', 'esbuild'],
  alias: {
    '@recur/core': here('../../core/src/index.ts'),
    '@recur/backend-js': here('../../backend-js/src/index.ts'),
  },
});
writeFileSync(out, result.outputFiles[0].text);
try {
  const { bench } = await import(pathToFileURL(out).href);
  await bench(options);
} finally {
  rmSync(out, { force: true });
}
