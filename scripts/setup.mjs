#!/usr/bin/env node
/**
 * Bootstraps a clone on a machine with only Node ≥ 20 and npm: installs the workspace with the
 * pnpm version pinned in package.json's `packageManager` (fetched with `npx` the first time;
 * afterwards the copy installed as a root devDependency is used), then builds every package
 * with turbo. With `CI` set the lockfile must be up to date (`--frozen-lockfile`).
 *
 * turbo runs from node_modules/.bin with that folder's absolute path first on PATH, so the
 * tasks it spawns use the pinned pnpm installed there. (`pnpm exec turbo` does not work: pnpm
 * prepends the relative `./node_modules/.bin`, and turbo then fails to spawn that relative
 * pnpm from inside each package.)
 *
 * First it makes sure the system libraries of the native and WebGPU backends are there (on
 * Debian/Ubuntu as root it installs them with apt-get; elsewhere it prints what to install and
 * goes on: those backends then report themselves unavailable and 'auto' falls back to JS).
 *
 *   node scripts/setup.mjs            system packages + install + build
 *   node scripts/setup.mjs --no-build system packages + install only
 *   RECUR_SKIP_APT=1                  never run apt-get
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
for (const arg of args) {
  if (arg !== '--no-build') fail(`unknown argument '${arg}' (accepted: --no-build)`);
}

const [major] = process.versions.node.split('.').map(Number);
if (major < 20) fail(`Node ≥ 20 is required, this is ${process.version}`);

const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const pinned = /^pnpm@(\d+\.\d+\.\d+)/.exec(manifest.packageManager ?? '')?.[1];
if (!pinned) fail(`package.json's packageManager must be 'pnpm@<x.y.z>', found '${manifest.packageManager}'`);

const bin = join(root, 'node_modules', '.bin');
const env = {
  ...process.env,
  PATH: [bin, process.env.PATH].filter(Boolean).join(delimiter),
  TURBO_TELEMETRY_DISABLED: process.env.TURBO_TELEMETRY_DISABLED ?? '1',
};

/** The pinned pnpm: the installed devDependency when it is the right version, else `npx`. */
function pnpmCommand() {
  const local = join(root, 'node_modules', 'pnpm');
  try {
    const { version, bin } = JSON.parse(readFileSync(join(local, 'package.json'), 'utf8'));
    const entry = join(local, typeof bin === 'string' ? bin : bin.pnpm);
    if (version === pinned && existsSync(entry)) return [process.execPath, [entry]];
  } catch {
    // not installed yet
  }
  return [process.platform === 'win32' ? 'npx.cmd' : 'npx', ['-y', `pnpm@${pinned}`]];
}

function run(shown, command, commandArgs) {
  console.log(`\n[setup] ${shown}`);
  const result = spawnSync(command, commandArgs, { cwd: root, stdio: 'inherit', env, shell: process.platform === 'win32' });
  if (result.error) fail(`could not run ${command}: ${result.error.message}`);
  if (result.status !== 0) fail(`'${shown}' exited with ${result.status ?? result.signal}`);
}

function pnpm(...pnpmArgs) {
  const [command, prefix] = pnpmCommand();
  const shown = command === process.execPath ? `pnpm@${pinned}` : `${command} ${prefix.join(' ')}`;
  run(`${shown} ${pnpmArgs.join(' ')}`, command, [...prefix, ...pnpmArgs]);
}

function fail(message) {
  console.error(`[setup] error: ${message}`);
  process.exit(1);
}

/**
 * Debian packages the optional backends build or run with: the native addon (compiler, cmake,
 * OpenBLAS) and WebGPU in Node without a GPU (Dawn's OpenGL ES backend on Mesa's EGL).
 */
const SYSTEM_PACKAGES = ['cmake', 'make', 'g++', 'libopenblas-dev', 'libegl1', 'libgles2', 'libegl-mesa0'];

function installedDebianPackage(name) {
  // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's own format syntax, not a JS template
  const result = spawnSync('dpkg-query', ['-W', '-f=${Status}', name], { encoding: 'utf8' });
  return result.status === 0 && result.stdout.includes('install ok installed');
}

function ensureSystemPackages() {
  if (spawnSync('dpkg-query', ['--version']).status !== 0) {
    console.log(
      `[setup] not a Debian-like system: for the native and WebGPU backends install ${SYSTEM_PACKAGES.join(', ')} (or equivalents) yourself`,
    );
    return;
  }
  const missing = SYSTEM_PACKAGES.filter((name) => !installedDebianPackage(name));
  if (missing.length === 0) return;
  const command = `apt-get update && apt-get install -y --no-install-recommends ${missing.join(' ')}`;
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!root || process.env.RECUR_SKIP_APT) {
    console.log(
      `[setup] missing system packages for the native and WebGPU backends; install them with:\n  sudo sh -c '${command}'\n[setup] continuing: those backends will report themselves unavailable until then`,
    );
    return;
  }
  console.log(`\n[setup] ${command}`);
  const result = spawnSync('sh', ['-c', command], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  if (result.status !== 0) console.log('[setup] apt-get failed; continuing without the native and WebGPU prerequisites');
}

const started = Date.now();
ensureSystemPackages();
const ci = Boolean(process.env.CI) && process.env.CI !== 'false';
pnpm('install', ...(ci ? ['--frozen-lockfile'] : []), '--config.confirmModulesPurge=false');
if (!args.includes('--no-build')) {
  if (!existsSync(join(bin, 'pnpm'))) fail(`pnpm ${pinned} is missing from node_modules/.bin: is it still a root devDependency?`);
  const turbo = ['run', 'build', '--output-logs=errors-only'];
  run(`turbo ${turbo.join(' ')}`, join(bin, process.platform === 'win32' ? 'turbo.cmd' : 'turbo'), turbo);
}
console.log(`[setup] done in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
