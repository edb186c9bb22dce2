/**
 * The order of the durability steps in writeFileAtomic, seen through a recording wrapper
 * around node:fs/promises: the temporary file is fsynced before the rename (so the name never
 * points at unwritten data), and the folder after it (so the rename itself survives a power cut).
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { FileAccessError } from '@recur/core';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { writeFileAtomic } from '../src/node.js';
import { expectRejection } from './expect-error.js';

const record = vi.hoisted(() => ({
  events: [] as string[],
  /** An error code that fsync of a folder fails with, if set. */
  folderSyncError: undefined as string | undefined,
  folders: new Set<string>(),
}));

vi.mock('node:fs/promises', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:fs/promises')>();
  const name = (path: unknown) =>
    record.folders.has(String(path)) ? 'folder' : String(path).endsWith('.tmp') ? 'temporary' : String(path);
  const open: typeof actual.open = async (path, ...rest) => {
    const handle = await actual.open(path, ...rest);
    const what = name(path);
    record.events.push(`open ${what}`);
    return new Proxy(handle, {
      get(target, prop) {
        const value = Reflect.get(target, prop, target);
        if (prop !== 'sync' && prop !== 'close' && prop !== 'writeFile') return typeof value === 'function' ? value.bind(target) : value;
        return async (...args: unknown[]) => {
          record.events.push(`${String(prop)} ${what}`);
          if (prop === 'sync' && what === 'folder' && record.folderSyncError) {
            throw Object.assign(new Error(`fsync failed: ${record.folderSyncError}`), { code: record.folderSyncError });
          }
          return value.apply(target, args);
        };
      },
    });
  };
  const rename: typeof actual.rename = async (from, to) => {
    record.events.push(`rename ${name(from)} -> ${basename(String(to))}`);
    return actual.rename(from, to);
  };
  return { ...actual, default: { ...actual, open, rename }, open, rename };
});

let folder: string;
beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), 'recur-durable-'));
  record.folders.add(folder);
});
afterAll(() => rm(folder, { recursive: true, force: true }));
beforeEach(() => {
  record.events.length = 0;
  record.folderSyncError = undefined;
});

describe('writeFileAtomic durability', () => {
  it('fsyncs the temporary file, renames it, then fsyncs the folder', async () => {
    const target = join(folder, 'model.safetensors');
    await writeFileAtomic(target, new Uint8Array([1, 2, 3]));
    expect(record.events).toEqual([
      'open temporary',
      'writeFile temporary',
      'sync temporary',
      'close temporary',
      'rename temporary -> model.safetensors',
      'open folder',
      'sync folder',
      'close folder',
    ]);
    expect([...(await readFile(target))]).toEqual([1, 2, 3]);
  });

  it('goes on where the platform cannot fsync a folder (EINVAL, EPERM, EISDIR)', async () => {
    for (const code of ['EINVAL', 'EPERM', 'EISDIR']) {
      record.folderSyncError = code;
      await writeFileAtomic(join(folder, `ok-${code}`), new Uint8Array([4]));
      expect([...(await readFile(join(folder, `ok-${code}`)))]).toEqual([4]);
    }
  });

  it('reports a real fsync failure of the folder as FileAccessError naming the target', async () => {
    record.folderSyncError = 'EIO';
    const target = join(folder, 'io-error');
    const error = await expectRejection(() => writeFileAtomic(target, new Uint8Array([5])), FileAccessError, `'${target}'`, 'EIO');
    expect((error as Error).cause).toMatchObject({ code: 'EIO' });
    expect(record.events).toContain('close folder');
    expect((await readdir(folder)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});
