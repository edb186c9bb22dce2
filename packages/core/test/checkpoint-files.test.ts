/**
 * Checkpoint files on disk: what the loader refuses (devices, FIFOs, directories, oversized or
 * damaged files), promptly and with typed errors naming the path; and how writeFileAtomic
 * cleans up after writers that died mid-save.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createJsBackend } from '@recur/backend-js';
import { decodeSafetensors, FileAccessError, FormatError, Linear, OptionsError, StateDictError, ValueRangeError } from '@recur/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_MAX_CHECKPOINT_BYTES, loadCheckpoint, readSafetensorsFile, saveCheckpoint, writeFileAtomic } from '../src/node.js';
import { expectRejection } from './expect-error.js';

const backend = createJsBackend();
const model = (seed: number, outFeatures = 2) => new Linear({ inFeatures: 2, outFeatures, backend, seed });

/** Settles like `promise`, or rejects after `ms` rather than waiting on a read that never ends. */
function promptly<T>(promise: Promise<T>, ms = 5000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`still pending after ${ms} ms`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

let folder: string;
let checkpoint: string;
let checkpointSize: number;
beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), 'recur-files-'));
  checkpoint = join(folder, 'linear.safetensors');
  await saveCheckpoint(model(1), checkpoint, { note: 'valid' });
  checkpointSize = (await stat(checkpoint)).size;
});
afterAll(() => rm(folder, { recursive: true, force: true }));

/** A copy of the valid checkpoint, changed by `edit`. */
async function damaged(name: string, edit: (bytes: Uint8Array) => Uint8Array): Promise<string> {
  const path = join(folder, name);
  await writeFile(path, edit(new Uint8Array(await readFile(checkpoint))));
  return path;
}

describe('loading refuses what is not a regular checkpoint file', () => {
  it('/dev/zero, a character device, without reading from it', async (ctx) => {
    ctx.skip(!existsSync('/dev/zero'), 'this platform has no /dev/zero');
    await expectRejection(() => promptly(loadCheckpoint(model(2), '/dev/zero')), FileAccessError, "'/dev/zero'", 'character device');
  });

  it('a FIFO with no writer, without blocking on it', async (ctx) => {
    const fifo = join(folder, 'pipe.safetensors');
    const made = spawnSync('mkfifo', [fifo]);
    ctx.skip(made.error !== undefined || made.status !== 0, 'mkfifo is unavailable, so no FIFO to test with');
    const error = await expectRejection(() => promptly(loadCheckpoint(model(2), fifo)), FileAccessError, `'${fifo}'`, 'FIFO');
    expect((error as FileAccessError).path).toBe(fifo);
    await expectRejection(() => promptly(readSafetensorsFile(fifo)), FileAccessError, `'${fifo}'`, 'FIFO');
  });

  it('a directory', async () => {
    const error = await expectRejection(() => promptly(loadCheckpoint(model(2), folder)), FileAccessError, `'${folder}'`, 'directory');
    expect((error as FileAccessError).path).toBe(folder);
  });

  it('a missing file', async () => {
    const missing = join(folder, 'missing.safetensors');
    const error = await expectRejection(() => loadCheckpoint(model(2), missing), FileAccessError, `'${missing}'`, 'does not exist');
    expect((error as Error).cause).toMatchObject({ code: 'ENOENT' });
  });

  it('a file the process may not read', async (ctx) => {
    ctx.skip(process.getuid?.() === 0, 'running as root, which reads any file');
    const locked = await damaged('locked.safetensors', (b) => b);
    await chmod(locked, 0);
    await expectRejection(() => loadCheckpoint(model(2), locked), FileAccessError, `'${locked}'`, 'permission');
  });

  it('follows a symbolic link to a checkpoint', async () => {
    const link = join(folder, 'link.safetensors');
    await symlink(checkpoint, link);
    expect(await loadCheckpoint(model(2), link)).toEqual({ note: 'valid' });
  });
});

describe('loading caps the size read', () => {
  it(`defaults to ${DEFAULT_MAX_CHECKPOINT_BYTES} bytes (4 GiB)`, () => {
    expect(DEFAULT_MAX_CHECKPOINT_BYTES).toBe(4 * 1024 ** 3);
  });

  it('refuses a file larger than maxBytes, and loads it once maxBytes is raised to its size', async () => {
    await expectRejection(
      () => loadCheckpoint(model(2), checkpoint, { maxBytes: checkpointSize - 1 }),
      FileAccessError,
      `'${checkpoint}'`,
      'maxBytes',
    );
    const loaded = model(2);
    expect(await loadCheckpoint(loaded, checkpoint, { maxBytes: checkpointSize })).toEqual({ note: 'valid' });
    expect([...(await loaded.weight.toArray())]).toEqual([...(await model(1).weight.toArray())]);
  });

  it('refuses a file over the default cap from its size alone', async () => {
    const huge = join(folder, 'huge.safetensors');
    await writeFile(huge, '');
    await truncate(huge, 4 * 1024 ** 3 + 1); // sparse: no disk space used
    try {
      await expectRejection(() => promptly(loadCheckpoint(model(2), huge)), FileAccessError, `'${huge}'`, 'maxBytes');
    } finally {
      await rm(huge);
    }
  });

  it('rejects a maxBytes that is not a positive number', async () => {
    await expectRejection(() => readSafetensorsFile(checkpoint, { maxBytes: 0 }), ValueRangeError, 'maxBytes');
    await expectRejection(() => readSafetensorsFile(checkpoint, { maxBytes: Number.NaN }), ValueRangeError, 'maxBytes');
    await expectRejection(() => readSafetensorsFile(checkpoint, { maxBytes: '1e9' as unknown as number }), OptionsError, 'maxBytes');
  });
});

describe('loading reads exactly the declared bytes', () => {
  it('reads the same content as decoding the whole file', async () => {
    const expected = decodeSafetensors(new Uint8Array(await readFile(checkpoint)));
    const read = await readSafetensorsFile(checkpoint);
    expect(read.metadata).toEqual(expected.metadata);
    expect(Object.keys(read.tensors).sort()).toEqual(Object.keys(expected.tensors).sort());
    for (const name of Object.keys(expected.tensors)) expect(read.tensors[name]).toEqual(expected.tensors[name]);
  });

  it('rejects a file cut short in the length prefix, the header or the data, naming it', async () => {
    for (const [name, length] of [
      ['cut-prefix', 5],
      ['cut-header', 20],
      ['cut-data', checkpointSize - 4],
    ] as const) {
      const path = await damaged(`${name}.safetensors`, (b) => b.subarray(0, length));
      await expectRejection(() => promptly(loadCheckpoint(model(2), path)), FormatError, `'${path}'`);
    }
  });

  it('rejects a header length past the end of the file, naming it', async () => {
    const path = await damaged('long-header.safetensors', (b) => {
      new DataView(b.buffer).setBigUint64(0, BigInt(checkpointSize), true);
      return b;
    });
    await expectRejection(() => loadCheckpoint(model(2), path), FormatError, `'${path}'`, 'header length');
  });

  it('rejects bytes after the last tensor, even gigabytes of them, without reading them', async () => {
    const one = await damaged('trailing.safetensors', (b) => Uint8Array.from([...b, 0]));
    await expectRejection(() => loadCheckpoint(model(2), one), FormatError, `'${one}'`, '1 byte after the last tensor');
    const many = await damaged('trailing-gigabytes.safetensors', (b) => b);
    await truncate(many, 3 * 1024 ** 3); // under the default cap, sparse
    try {
      await expectRejection(() => promptly(loadCheckpoint(model(2), many)), FormatError, `'${many}'`);
    } finally {
      await rm(many);
    }
  });

  it('names the file when its tensors do not fit the module', async () => {
    await expectRejection(() => loadCheckpoint(model(2, 3), checkpoint), StateDictError, `'${checkpoint}'`, 'weight');
  });
});

/** The pid of a process that has exited and been reaped. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', '']);
  return child.pid as number;
}

describe('writeFileAtomic', () => {
  it('removes temporary files of the same target left by dead writers, and only those', async () => {
    const dir = await mkdtemp(join(folder, 'stale-'));
    const sleeper = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)'], { stdio: 'ignore' });
    try {
      const dead = deadPid();
      const live = sleeper.pid as number;
      const names = {
        dead: `.model.safetensors.${dead}.0123456789ab.tmp`,
        deadToo: `.model.safetensors.${dead}.ba9876543210.tmp`,
        live: `.model.safetensors.${live}.0123456789ab.tmp`,
        ours: `.model.safetensors.${process.pid}.0123456789ab.tmp`, // may be a save in progress in this process
        otherTarget: `.other.safetensors.${dead}.0123456789ab.tmp`,
        dottedTarget: `.model.safetensors.1.${dead}.0123456789ab.tmp`, // belongs to 'model.safetensors.1'
        notOurs: `model.safetensors.${dead}.0123456789ab.tmp`,
      };
      for (const name of Object.values(names)) await writeFile(join(dir, name), 'torn');
      await writeFileAtomic(join(dir, 'model.safetensors'), new Uint8Array([1, 2, 3]));
      const left = new Set(await readdir(dir));
      expect(left.has(names.dead)).toBe(false);
      expect(left.has(names.deadToo)).toBe(false);
      for (const key of ['live', 'ours', 'otherTarget', 'dottedTarget', 'notOurs'] as const) expect(left.has(names[key]), key).toBe(true);
      expect([...(await readFile(join(dir, 'model.safetensors')))]).toEqual([1, 2, 3]);
    } finally {
      sleeper.kill('SIGKILL');
    }
  });

  it('wraps system errors in FileAccessError naming the target, leaving no temporary file', async () => {
    const dir = await mkdtemp(join(folder, 'errors-'));
    const occupied = join(dir, 'occupied');
    await mkdir(occupied);
    const error = await expectRejection(() => writeFileAtomic(occupied, new Uint8Array([1])), FileAccessError, `'${occupied}'`);
    expect((error as FileAccessError).path).toBe(occupied);
    expect(await readdir(dir)).toEqual(['occupied']);
    const nowhere = join(dir, 'no-such-folder', 'file');
    await expectRejection(() => writeFileAtomic(nowhere, new Uint8Array([1])), FileAccessError, `'${nowhere}'`);
  });

  it('lets concurrent saves to one path in one process all succeed', async () => {
    const dir = await mkdtemp(join(folder, 'concurrent-'));
    const target = join(dir, 'shared.bin');
    await Promise.all(Array.from({ length: 8 }, (_, i) => writeFileAtomic(target, new Uint8Array(1000).fill(i))));
    const bytes = new Uint8Array(await readFile(target));
    expect(bytes.length).toBe(1000);
    expect(bytes.every((b) => b === bytes[0])).toBe(true);
    expect(await readdir(dir)).toEqual(['shared.bin']);
  });
});
