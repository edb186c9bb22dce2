/**
 * Run by device-failures.node.test.ts in a child process (bundled with esbuild): makes a real
 * WebGPU allocation fail and prints one `OOM-REPORT {json}` line.
 *
 *   node oom-child.mjs <upload|compute> <WebGpuBackendOptions as JSON>
 *
 * Dawn's OpenGL ES backend on llvmpipe keeps buffer storage in this process's memory, so after
 * a warm-up the child caps its own address space (`prlimit --as`) at what it uses plus
 * HEADROOM and allocates 128 MiB buffers until one fails:
 * - `upload`: buffers created mapped (`mappedAtCreation`); Dawn then throws from createBuffer,
 *   so the error comes from the call itself.
 * - `compute`: pooled storage buffers filled by a kernel, nothing awaited; the out-of-memory
 *   error scope reports the failure, so the error comes from the next `sync`.
 * The buffers filled in `compute` are never written by the GPU: the failed buffer makes the
 * command buffer invalid, and Dawn skips it. (Writing them would make Dawn's GL backend zero
 * them through a host-side copy, and that allocation aborts the process when it fails.)
 * On an adapter whose memory is not this process's (a real GPU), nothing fails within
 * MAX_ALLOCATIONS, and the report says to skip.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { type BackendBuffer, describeBytes, OutOfMemoryError, RecurError } from '@recur/core/backend';
import { createWebGpuImplementation, type WebGpuBackendOptions } from '../src/index.js';

export interface OomReport {
  adapter: string;
  bytesPerAllocation: number;
  /** The address-space cap, in bytes. */
  cap: number;
  /** Allocation calls that returned before the error. */
  allocated: number;
  /** Allocation calls made at most. */
  maxAllocations: number;
  error: {
    name: string;
    message: string;
    bytes: number | undefined;
    isOutOfMemory: boolean;
    isRecurError: boolean;
    /** Thrown by the allocating call itself rather than by the following `sync`. */
    synchronous: boolean;
  } | null;
  /** After disposing the buffers, the same backend uploaded and read back a small array. */
  recovered: boolean;
  recoveryError?: string;
  skip?: string;
}

/** Bytes per allocation (less where the device's buffer limit is lower). */
const ALLOCATION = 128 << 20;
/**
 * The cap lies this far above what the process uses: six allocations fit and the seventh fails,
 * leaving about half an allocation (64 MiB) for everything after the failure. Left to chance,
 * that remainder could be a few bytes, and then any allocation of the JS engine aborts.
 */
const HEADROOM = 6.5 * ALLOCATION;
/** 4 GiB at 128 MiB each: several times the headroom. */
const MAX_ALLOCATIONS = 32;

function addressSpaceBytes(): number {
  const status = readFileSync('/proc/self/status', 'utf8');
  const kb = /^VmSize:\s+(\d+) kB/m.exec(status);
  if (!kb) throw new Error('no VmSize in /proc/self/status');
  return Number(kb[1]) * 1024;
}

function print(report: OomReport): never {
  process.stdout.write(`OOM-REPORT ${JSON.stringify(report)}\n`);
  // Exit at once: tearing Dawn down near the cap is not what is being tested.
  process.exit(0);
}

const [scenario, optionsJson] = process.argv.slice(2);
if (scenario !== 'upload' && scenario !== 'compute') throw new Error(`unknown scenario '${scenario}'`);
const backend = await createWebGpuImplementation(JSON.parse(optionsJson ?? '{}') as WebGpuBackendOptions);
const limit = Math.min(backend.device.limits.maxBufferSize, backend.device.limits.maxStorageBufferBindingSize);
const bytes = Math.min(ALLOCATION, Math.floor(limit / (1 << 20)) * (1 << 20));
const length = bytes / 4;
const host = scenario === 'upload' ? new Float32Array(length).fill(1) : null;

// Warm-up before the cap, so that only the large buffers meet it: the fill kernel is compiled,
// the read path's buffers have been made once, and V8 has loaded the locale data that the
// error messages' byte counts need (its first use allocates megabytes, and V8 aborts the
// process when that fails).
await backend.read(backend.fill(4, 1));
await backend.read(backend.upload([1, 2]));
describeBytes(bytes);

const cap = addressSpaceBytes() + HEADROOM;
const limited = spawnSync('prlimit', ['--pid', String(process.pid), `--as=${cap}:`], { encoding: 'utf8' });
const base = {
  adapter: backend.adapterName,
  bytesPerAllocation: bytes,
  cap,
  allocated: 0,
  maxAllocations: MAX_ALLOCATIONS,
  error: null,
  recovered: false,
};
if (limited.status !== 0) print({ ...base, skip: `prlimit failed: ${limited.stderr || limited.error?.message}` });

const buffers: BackendBuffer[] = [];
let error: unknown = null;
let synchronous = false;
try {
  for (let i = 0; i < MAX_ALLOCATIONS; i++) buffers.push(host ? backend.upload(host) : backend.fill(length, 1));
} catch (e) {
  error = e;
  synchronous = true;
}
if (!error) {
  try {
    await backend.sync();
  } catch (e) {
    error = e;
  }
}
const allocated = buffers.length;
for (const b of buffers) backend.dispose(b);
let recovered = false;
let recoveryError: string | undefined;
try {
  recovered = Array.from(await backend.read(backend.upload([1, 2, 3]))).join(',') === '1,2,3';
} catch (e) {
  recoveryError = String(e);
}
if (!error) {
  print({
    ...base,
    allocated,
    recovered,
    skip: `${allocated} allocations of ${bytes} bytes under an address-space cap ${HEADROOM} bytes above use all succeeded: this adapter's memory is not the process's (a real GPU?), so no out-of-memory can be forced this way`,
  });
}
print({
  ...base,
  allocated,
  error: {
    name: (error as Error)?.constructor?.name ?? typeof error,
    message: (error as Error)?.message ?? String(error),
    bytes: (error as OutOfMemoryError).bytes,
    isOutOfMemory: error instanceof OutOfMemoryError,
    isRecurError: error instanceof RecurError,
    synchronous,
  },
  recovered,
  recoveryError,
});
