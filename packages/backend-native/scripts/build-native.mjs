#!/usr/bin/env node
/**
 * Builds the native addon with cmake-js (build/Release/recur_native.node).
 *
 *   node scripts/build-native.mjs                  build; fail loudly when something is missing
 *   node scripts/build-native.mjs --if-possible    build when a compiler, cmake and a BLAS exist;
 *                                                  otherwise print what is missing and exit 0
 *                                                  (the package's install script: install never fails)
 *   node scripts/build-native.mjs --sanitize       ASan + UBSan build into build-sanitize/
 *
 *   --quiet                                        print the compiler output only when the build fails
 *
 * RECUR_SKIP_NATIVE=1 skips the build entirely; RECUR_NATIVE_ARCH=0 builds without AVX2/FMA.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const ifPossible = process.argv.includes('--if-possible');
const sanitize = process.argv.includes('--sanitize');
const quiet = process.argv.includes('--quiet');
const INSTALL_HINT = 'apt-get install -y cmake g++ libopenblas-dev   (Debian/Ubuntu, as root), then: pnpm --filter @recur/backend-native rebuild-native';

function has(command, args = ['--version']) {
  const r = spawnSync(command, args, { stdio: 'ignore' });
  return r.status === 0;
}

function findBlas() {
  const dirs = ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib64', '/usr/lib', '/usr/local/lib', '/opt/homebrew/opt/openblas/lib', '/usr/local/opt/openblas/lib'];
  for (const dir of dirs) {
    if (!existsSync(dir)) continue;
    let names;
    try {
      names = readdirSync(dir);
    } catch {
      continue;
    }
    const hit = names.find((n) => /^lib(openblas|blas|blis|mkl_rt)\.(so|dylib|a)$/.test(n));
    if (hit) return join(dir, hit);
  }
  return process.platform === 'darwin' ? 'Accelerate.framework' : null;
}

function missing() {
  const out = [];
  if (!has('cmake')) out.push('cmake');
  if (!(has('c++') || has('g++') || has('clang++'))) out.push('a C++17 compiler (g++ or clang++)');
  if (!findBlas()) out.push('a BLAS library with headers (libopenblas-dev)');
  return out;
}

function giveUp(message) {
  const text = `@recur/backend-native: ${message}\n  The native backend is unavailable; createBackend('auto') will fall back to the JS backend.\n  To build it: ${INSTALL_HINT}`;
  if (ifPossible) {
    console.warn(text);
    process.exit(0);
  }
  console.error(text);
  process.exit(1);
}

if (process.env.RECUR_SKIP_NATIVE === '1') giveUp('skipped (RECUR_SKIP_NATIVE=1)');
const lacking = missing();
if (lacking.length) giveUp(`missing prerequisites: ${lacking.join(', ')}`);

let cmakeJs;
try {
  cmakeJs = createRequire(import.meta.url).resolve('cmake-js/bin/cmake-js');
} catch {
  giveUp('the cmake-js package is not installed (run pnpm install)');
}
const args = [cmakeJs, 'compile', '--directory', root, '--out', sanitize ? 'build-sanitize' : 'build'];
if (sanitize) args.push('--CDRECUR_SANITIZE=ON');
if (process.env.RECUR_NATIVE_ARCH === '0') args.push('--CDRECUR_NATIVE_ARCH=OFF');
if (!quiet) console.log(`@recur/backend-native: building the addon (${sanitize ? 'sanitizer build' : 'release'})…`);
const result = spawnSync(process.execPath, args, { cwd: root, stdio: quiet ? 'pipe' : 'inherit', encoding: 'utf8' });
if (result.status !== 0) {
  if (quiet) process.stderr.write(`${result.stdout ?? ''}${result.stderr ?? ''}`);
  giveUp(`the native build failed (exit ${result.status}); see the compiler output above`);
}
console.log('@recur/backend-native: addon built.');
