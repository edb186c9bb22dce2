/**
 * Allocation failures reach JavaScript as `OutOfMemoryError` and the process lives on (issue
 * #9): never `terminate called after throwing an instance of 'std::bad_alloc'` (exit 134) or
 * V8's fatal out-of-memory.
 *
 * Each scenario runs in a child Node process (out-of-memory.child.mjs) under `ulimit -v`, set
 * to what the child uses after its warm-up plus 1 GiB, so that allocations of a known size
 * fail while Node itself runs. The sizes keep ≥ 120 MB of margin on both sides of the limit:
 * what must fit fits and what must fail fails, whatever the run-to-run variation (one 128 MiB
 * region, see beforeAll). The child imports the package compiled from src/ into
 * .recur-tmp/ (never dist/, which may be stale) and @recur/core's build (dist/: the blocking-read
 * scenario needs a build of core with `blocking` in the checked wrapper).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { addonPath, loadAddon } from '../src/addon.js';
import { sequenceSavedLength } from '../src/sequence.js';
import { describeNative } from './helpers.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const child = join(root, 'test', 'out-of-memory.child.mjs');
const compiled = join(root, '.recur-tmp', 'out-of-memory');
const HEADROOM_KB = 1024 * 1024;

const loaded = loadAddon();
// ASan reserves terabytes of shadow memory up front: no `ulimit -v` leaves it room to start.
const skipReason =
  process.platform !== 'linux'
    ? 'needs Linux (ulimit -v, /proc/self/status)'
    : 'addon' in loaded && loaded.addon.sanitized
      ? 'the addon is an ASan build, which cannot start under ulimit -v'
      : null;

interface ErrorInfo {
  name?: string;
  message?: string;
  bytes?: number;
  code?: string;
}

let limitKb = 0;

function runChild(scenario: string, ulimitKb?: number) {
  const script = ulimitKb === undefined ? 'exec "$0" "$@"' : `ulimit -v ${ulimitKb} && exec "$0" "$@"`;
  const result = spawnSync('bash', ['-c', script, process.execPath, child, scenario], {
    cwd: root,
    encoding: 'utf8',
    timeout: 120_000,
    env: {
      ...process.env,
      RECUR_OOM_PACKAGE: join(compiled, 'index.js'),
      RECUR_NATIVE_ADDON: addonPath(),
      // Fixed thread counts and one malloc arena: the address space used no longer depends
      // on the machine's core count (every thread's stack and arena reserves some).
      OPENBLAS_NUM_THREADS: '2',
      OMP_NUM_THREADS: '2',
      MALLOC_ARENA_MAX: '1',
    },
  });
  const lines = result.stdout.trim().split('\n');
  let parsed: Record<string, unknown> | null = null;
  try {
    parsed = JSON.parse(lines[lines.length - 1]);
  } catch {
    // reported below
  }
  return { status: result.status, signal: result.signal, stderr: result.stderr, parsed };
}

function expectAlive(run: ReturnType<typeof runChild>) {
  // A crash (status 134, SIGABRT) fails here with the child's stderr in the message.
  expect({ status: run.status, signal: run.signal, stderr: run.status === 0 ? '' : run.stderr }).toEqual({
    status: 0,
    signal: null,
    stderr: '',
  });
  expect(run.parsed).not.toBeNull();
  return run.parsed as Record<string, unknown>;
}

function expectOutOfMemory(error: unknown, bytes: number) {
  const e = error as ErrorInfo;
  expect(e?.name).toBe('OutOfMemoryError');
  expect(e.bytes).toBe(bytes);
  expect(e.message).toContain(`${bytes.toLocaleString('en-US')} bytes`);
  expect(e.code).toBe('RECUR_OUT_OF_MEMORY');
}

const describeOom = skipReason ? (name: string, fn: () => void) => describe.skip(`${name} — skipped: ${skipReason}`, fn) : describeNative;

describeOom('allocation failures: OutOfMemoryError, and the process lives on', () => {
  beforeAll(() => {
    rmSync(compiled, { recursive: true, force: true });
    mkdirSync(compiled, { recursive: true });
    const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
    const build = spawnSync(
      process.execPath,
      [
        tsc,
        '-p',
        'tsconfig.build.json',
        '--outDir',
        compiled,
        '--declaration',
        'false',
        '--declarationMap',
        'false',
        '--sourceMap',
        'false',
      ],
      { cwd: root, encoding: 'utf8' },
    );
    if (build.status !== 0 || !existsSync(join(compiled, 'index.js'))) throw new Error(`tsc failed:\n${build.stdout}${build.stderr}`);
    // What a child maps varies by one 128 MiB region from run to run: take the larger of two.
    const probes = [runChild('probe'), runChild('probe')].map((run) => expectAlive(run).addressSpaceKb as number);
    limitKb = Math.max(...probes) + HEADROOM_KB;
  });

  it('a buffer past the limit: fill and core full() throw at the call', () => {
    const result = expectAlive(runChild('fill', limitKb));
    expectOutOfMemory(result.error, 2_000_000_000);
    expectOutOfMemory(result.fullError, 6_400_000_000);
    expect(result.after).toBe(true);
  });

  it("a big LSTM's training forward throws at the call (the saved activations)", () => {
    const result = expectAlive(runChild('lstm-train', limitKb));
    expectOutOfMemory(result.error, sequenceSavedLength('lstm', 1200, 64, 1024) * 4);
    expect(result.after).toBe(true);
  });

  it("a big LSTM's inference forward fails on the worker thread: read rejects, once", () => {
    const result = expectAlive(runChild('lstm-infer', limitKb));
    // The gate scratch: T·B·4H floats.
    expectOutOfMemory(result.error, 1200 * 64 * 4 * 1024 * 4);
    expect(result.after).toBe(true);
  });

  it('the same failure met by a blocking read: thrown as the error the Promise rejects with, once', () => {
    const result = expectAlive(runChild('lstm-infer-blocking', limitKb));
    expectOutOfMemory(result.error, 1200 * 64 * 4 * 1024 * 4);
    const asynchronous = expectAlive(runChild('lstm-infer', limitKb));
    expect(result.error).toEqual(asynchronous.error);
    expect(result.next).toEqual([3, 3]);
    expect(result.after).toBe(true);
  });

  it('threads that cannot start: the constructor throws BackendError', () => {
    const result = expectAlive(runChild('threads', limitKb));
    const e = result.error as ErrorInfo;
    expect(e?.name).toBe('BackendError');
    expect(e.message).toMatch(/could not start the native backend's helper threads \(\d+ of 399 started\)/);
    expect(e.code).toBe('RECUR_NATIVE_ERROR');
    expect(result.after).toBe(true);
  });

  it('reading back a buffer whose copy does not fit rejects instead of a V8 fatal error', () => {
    const result = expectAlive(runChild('read', limitKb));
    expectOutOfMemory(result.error, 700_000_000);
    expect(result.after).toBe(true);
  });
});
