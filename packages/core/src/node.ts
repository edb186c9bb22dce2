/**
 * Node-only helpers (file system), kept out of the main entry so core stays browser-safe.
 */
import { randomBytes } from 'node:crypto';
import { open, readFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { decodeSafetensors, encodeSafetensors } from './io/safetensors.js';
import type { LoadStateDictOptions, Module } from './nn/module.js';

/**
 * Writes a file atomically: the bytes go to a temporary file in the same folder, are flushed
 * to disk, and the temporary file is renamed over the target. A killed process leaves either
 * the old file or the new one, never a torn one.
 */
export async function writeFileAtomic(path: string, bytes: Uint8Array): Promise<void> {
  const temporary = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(temporary, 'w');
  try {
    await handle.writeFile(bytes);
    await handle.sync();
  } catch (error) {
    await handle.close();
    await rm(temporary, { force: true });
    throw error;
  }
  await handle.close();
  try {
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

/** Saves a module's state dict as a safetensors file, atomically. */
export async function saveCheckpoint(module: Module, path: string, metadata: Record<string, string> = {}): Promise<void> {
  const state = module.stateDict();
  try {
    await writeFileAtomic(path, await encodeSafetensors(state, metadata));
  } finally {
    for (const t of Object.values(state)) t.dispose();
  }
}

/** Loads a safetensors checkpoint into a module (shape-checked); resolves with its metadata. */
export async function loadCheckpoint(module: Module, path: string, options: LoadStateDictOptions = {}): Promise<Record<string, string>> {
  const { tensors, metadata } = decodeSafetensors(new Uint8Array(await readFile(path)));
  await module.loadStateDict(tensors, options);
  return metadata;
}
