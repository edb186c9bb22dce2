#!/usr/bin/env node
/**
 * `pnpm test:sanitize`: builds the addon with AddressSanitizer + UndefinedBehaviorSanitizer
 * (CMake option RECUR_SANITIZE=ON) into build-sanitize/, then runs the small conformance cases
 * (every single-kernel cross-backend case and the PyTorch LSTM/GRU fixtures) plus the
 * validation, queue and blocking-read tests (but the RSS one: ASan's quarantine holds freed
 * memory) against it.
 *
 * Node itself is not instrumented, so libasan must be loaded first: LD_PRELOAD is set to the
 * compiler's libasan.so (g++ -print-file-name=libasan.so). ASAN_OPTIONS=detect_leaks=0 because
 * V8 keeps memory until exit by design; any other ASan or UBSan report aborts the run.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const build = spawnSync(process.execPath, [join(root, 'scripts', 'build-native.mjs'), '--sanitize'], { cwd: root, stdio: 'inherit' });
if (build.status !== 0) process.exit(build.status ?? 1);

const addon = join(root, 'build-sanitize', 'Release', 'recur_native.node');
if (!existsSync(addon)) {
  console.error(`sanitizer build produced no ${addon}`);
  process.exit(1);
}
const lib = (name) => execFileSync('g++', [`-print-file-name=${name}`], { encoding: 'utf8' }).trim();
const asan = lib('libasan.so');
const ubsan = lib('libubsan.so');
if (!existsSync(asan)) {
  console.error(`libasan.so not found (g++ -print-file-name=libasan.so gave '${asan}'); install g++ (libasan is part of gcc)`);
  process.exit(1);
}
const env = {
  ...process.env,
  RECUR_NATIVE_ADDON: addon,
  RECUR_EXPECT_SANITIZED: '1',
  LD_PRELOAD: [asan, existsSync(ubsan) ? ubsan : null].filter(Boolean).join(':'),
  ASAN_OPTIONS: 'detect_leaks=0:abort_on_error=1:halt_on_error=1',
  UBSAN_OPTIONS: 'print_stacktrace=1:halt_on_error=1',
};
console.log(`running the small conformance cases under ASan + UBSan (${addon})`);
const vitest = join(root, 'node_modules', 'vitest', 'vitest.mjs');
const args = [
  existsSync(vitest) ? vitest : join(root, '..', '..', 'node_modules', 'vitest', 'vitest.mjs'),
  'run',
  'test/conformance.test.ts',
  'test/validation.test.ts',
  'test/queue.test.ts',
  'test/inference.test.ts',
  'test/packed.test.ts',
  'test/native-errors.test.ts',
  'test/blocking-read.test.ts',
  '-t',
  '^(?!.*memory stays flat).*(kernel: |(LSTM|GRU) (lstm|gru)_|loss |optimizer |Backend contract|native backend: creation|native errors reach JS|blocking reads|execution queue|single-sequence inference|fused sequences on several batch rows)',
];
const run = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit', env });
process.exit(run.status ?? 1);
