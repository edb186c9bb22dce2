/**
 * Node-only helpers (file system), kept out of the main entry so core stays browser-safe.
 */
import { randomBytes } from 'node:crypto';
import { constants, type Stats } from 'node:fs';
import { type FileHandle, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { describeBytes, FileAccessError, FormatError, OptionsError, OutOfMemoryError, StateDictError, ValueRangeError } from './errors.js';
import { encodeSafetensors, type SafetensorsContent } from './io/safetensors.js';
import { fromLittleEndian, parseSafetensorsHeader, readHeaderLength } from './io/safetensors-header.js';
import type { LoadStateDictOptions, Module } from './nn/module.js';

/** The default `maxBytes` of readSafetensorsFile and loadCheckpoint: 4 GiB. */
export const DEFAULT_MAX_CHECKPOINT_BYTES = 4 * 1024 ** 3;

export interface ReadSafetensorsOptions {
  /** The largest file accepted, in bytes (default DEFAULT_MAX_CHECKPOINT_BYTES, 4 GiB); raise it for bigger checkpoints. */
  maxBytes?: number;
}

export interface LoadCheckpointOptions extends LoadStateDictOptions, ReadSafetensorsOptions {}

function describeKind(stats: Stats): string {
  if (stats.isDirectory()) return 'a directory';
  if (stats.isFIFO()) return 'a FIFO (named pipe)';
  if (stats.isCharacterDevice()) return 'a character device';
  if (stats.isBlockDevice()) return 'a block device';
  if (stats.isSocket()) return 'a socket';
  return 'not a regular file';
}

/** A FileAccessError for a failed system call on `path`, naming it and keeping the cause. */
function accessError(what: string, path: string, error: unknown): FileAccessError {
  const code = (error as NodeJS.ErrnoException).code;
  const reason =
    code === 'ENOENT'
      ? 'does not exist'
      : code === 'EACCES' || code === 'EPERM'
        ? `cannot be opened (permission denied, ${code})`
        : `cannot be used (${code ?? (error as Error).message})`;
  return new FileAccessError(path, `${what}: '${path}' ${reason}`, { cause: error });
}

function writeError(path: string, error: unknown): FileAccessError {
  const { code, message } = error as NodeJS.ErrnoException;
  return new FileAccessError(path, `writeFileAtomic: cannot write '${path}' (${code ? `${code}: ` : ''}${message})`, { cause: error });
}

function checkMaxBytes(maxBytes: unknown): number {
  if (maxBytes === undefined) return DEFAULT_MAX_CHECKPOINT_BYTES;
  if (typeof maxBytes !== 'number') throw new OptionsError(`readSafetensorsFile: maxBytes must be a number, received ${typeof maxBytes}`);
  if (!(maxBytes > 0)) throw new ValueRangeError(`readSafetensorsFile: maxBytes must be a positive number of bytes, received ${maxBytes}`);
  return maxBytes;
}

/** Fills `into` from `position`; a file that ends early was truncated (or shrank while being read). */
async function readExactly(handle: FileHandle, path: string, into: Uint8Array, position: number): Promise<void> {
  // At most 1 GiB per call: Node refuses single reads of 2 GiB or more.
  for (let done = 0; done < into.length; ) {
    let bytesRead: number;
    try {
      ({ bytesRead } = await handle.read(into, done, Math.min(into.length - done, 2 ** 30), position + done));
    } catch (error) {
      throw accessError('readSafetensorsFile', path, error);
    }
    if (bytesRead === 0) {
      throw new FormatError(
        `safetensors file '${path}': ends at byte ${position + done}, before the ${position + into.length} its header declares`,
      );
    }
    done += bytesRead;
  }
}

/**
 * Reads a safetensors file from disk, reading no more than its header declares. Refuses, with
 * a FileAccessError naming the path, anything that is not a regular file (a directory, a FIFO,
 * a device such as /dev/zero, a socket), a missing or unreadable file, and a file larger than
 * `maxBytes`; a malformed file (truncated, trailing bytes, a bad header) is a FormatError
 * naming the path.
 */
export async function readSafetensorsFile(path: string, options: ReadSafetensorsOptions = {}): Promise<SafetensorsContent> {
  const maxBytes = checkMaxBytes(options.maxBytes);
  const fn = 'readSafetensorsFile';
  // stat first, so a device or FIFO is refused without being opened (opening one can block or
  // have side effects); then check the handle actually opened, in case the path changed since.
  let stats: Stats;
  try {
    stats = await stat(path);
  } catch (error) {
    throw accessError(fn, path, error);
  }
  if (!stats.isFile()) throw new FileAccessError(path, `${fn}: '${path}' is ${describeKind(stats)}, not a regular file`);
  let handle: FileHandle;
  try {
    // O_NONBLOCK: should the path have become a FIFO, open() returns at once instead of waiting for a writer.
    handle = await open(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0) | (constants.O_NOCTTY ?? 0));
  } catch (error) {
    throw accessError(fn, path, error);
  }
  try {
    try {
      stats = await handle.stat();
    } catch (error) {
      throw accessError(fn, path, error);
    }
    if (!stats.isFile()) throw new FileAccessError(path, `${fn}: '${path}' is ${describeKind(stats)}, not a regular file`);
    const size = stats.size;
    if (size > maxBytes) {
      throw new FileAccessError(
        path,
        `${fn}: '${path}' is ${describeBytes(size)}, over the maxBytes limit of ${describeBytes(maxBytes)} (raise it with the maxBytes option)`,
      );
    }
    return await readContent(handle, path, size);
  } catch (error) {
    // Decoding messages start 'safetensors: '; name the file instead.
    if (error instanceof FormatError && error.message.startsWith('safetensors: ')) {
      throw new FormatError(`safetensors file '${path}': ${error.message.slice('safetensors: '.length)}`, { cause: error });
    }
    throw error;
  } finally {
    await handle.close().catch(() => undefined);
  }
}

async function readContent(handle: FileHandle, path: string, size: number): Promise<SafetensorsContent> {
  const prefix = new Uint8Array(Math.min(size, 8));
  await readExactly(handle, path, prefix, 0);
  const headerLength = readHeaderLength(prefix, size);
  const headerBytes = new Uint8Array(headerLength); // at most SAFETENSORS_MAX_HEADER_BYTES, checked above
  await readExactly(handle, path, headerBytes, 8);
  const dataStart = 8 + headerLength;
  // The header must account for every remaining byte, so what follows reads exactly the file.
  const { tensors: layout, metadata } = parseSafetensorsHeader(headerBytes, size - dataStart);
  const tensors: SafetensorsContent['tensors'] = Object.create(null);
  for (const t of layout) {
    let data: Float32Array;
    try {
      data = new Float32Array(t.size);
    } catch (error) {
      throw new OutOfMemoryError(
        `readSafetensorsFile: cannot allocate ${describeBytes(4 * t.size)} for tensor '${t.name}' of '${path}'`,
        4 * t.size,
        {
          cause: error,
        },
      );
    }
    await readExactly(handle, path, new Uint8Array(data.buffer), dataStart + t.begin);
    fromLittleEndian(data);
    tensors[t.name] = { shape: t.shape, data };
  }
  return { tensors, metadata };
}

/**
 * Loads a safetensors checkpoint into a module (shape-checked); resolves with its metadata.
 * `maxBytes` caps the file size (default 4 GiB); the other options go to loadStateDict.
 */
export async function loadCheckpoint(module: Module, path: string, options: LoadCheckpointOptions = {}): Promise<Record<string, string>> {
  const { maxBytes, ...loadOptions } = options;
  const { tensors, metadata } = await readSafetensorsFile(path, { maxBytes });
  try {
    await module.loadStateDict(tensors, loadOptions);
  } catch (error) {
    if (error instanceof StateDictError) throw new StateDictError(`loadCheckpoint '${path}': ${error.message}`, { cause: error });
    throw error;
  }
  return metadata;
}

// Temporary files are named `.${target}.${pid}.${12 hex digits}.tmp`, so a later save can tell
// which process wrote one and whether that process is still alive.
const TEMPORARY = /^(\d+)\.[0-9a-f]{12}\.tmp$/;

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/**
 * Removes the temporary files of `base` left by writers that died before renaming them (kill -9,
 * a crash, a power cut). A file whose writer is alive is kept: it may be a save in progress. The
 * current process's own files are kept too (a concurrent save of the same path). This assumes
 * writers share a process-id namespace (the same machine, not two containers on one volume).
 */
async function removeStaleTemporaries(folder: string, base: string): Promise<void> {
  let names: string[];
  try {
    names = await readdir(folder);
  } catch {
    return; // the write that follows reports the folder's problem
  }
  const prefix = `.${base}.`;
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number(TEMPORARY.exec(name.slice(prefix.length))?.[1]);
    if (!(pid > 0) || pid === process.pid || isAlive(pid)) continue;
    await rm(join(folder, name), { force: true }).catch(() => undefined);
  }
}

/** fsyncs a folder, so that a rename in it survives a power cut. */
async function syncFolder(folder: string, path: string): Promise<void> {
  // Some platforms cannot open or fsync a folder (Windows: EISDIR/EPERM; some file systems:
  // EINVAL); there the rename is as durable as the platform makes it.
  const unsupported = (error: unknown) => ['EISDIR', 'EINVAL', 'EPERM', 'ENOTSUP'].includes((error as NodeJS.ErrnoException).code ?? '');
  let handle: FileHandle;
  try {
    handle = await open(folder, 'r');
  } catch (error) {
    if (unsupported(error)) return;
    throw writeError(path, error);
  }
  try {
    await handle.sync();
  } catch (error) {
    if (!unsupported(error)) {
      throw new FileAccessError(
        path,
        `writeFileAtomic: '${path}' was written, but syncing its folder failed (${(error as NodeJS.ErrnoException).code})`,
        {
          cause: error,
        },
      );
    }
  } finally {
    await handle.close().catch(() => undefined);
  }
}

/**
 * Writes a file atomically and durably: the bytes go to a temporary file in the same folder,
 * which is fsynced (so its contents are on disk before any name points at them), renamed over
 * the target, and then the folder is fsynced (so the rename itself survives a power cut). A
 * killed process leaves the old file or the new one, never a torn one; the temporary file it
 * orphans is removed by the next save of the same path. Failures are FileAccessErrors naming
 * the path.
 */
export async function writeFileAtomic(path: string, bytes: Uint8Array): Promise<void> {
  const folder = dirname(path);
  const base = basename(path);
  await removeStaleTemporaries(folder, base);
  const temporary = join(folder, `.${base}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  let handle: FileHandle | undefined;
  try {
    handle = await open(temporary, 'wx');
    await handle.writeFile(bytes);
    await handle.sync();
    await handle.close();
    handle = undefined;
    await rename(temporary, path);
  } catch (error) {
    await handle?.close().catch(() => undefined);
    await rm(temporary, { force: true }).catch(() => undefined);
    throw writeError(path, error);
  }
  await syncFolder(folder, path);
}

/** Saves a module's state dict as a safetensors file, atomically and durably (see writeFileAtomic). */
export async function saveCheckpoint(module: Module, path: string, metadata: Record<string, string> = {}): Promise<void> {
  const state = module.stateDict();
  try {
    await writeFileAtomic(path, await encodeSafetensors(state, metadata));
  } finally {
    for (const t of Object.values(state)) t.dispose();
  }
}
