/**
 * `recur info`: every backend package the command line knows, whether it works on this
 * machine (with its device: BLAS and threads, GPU adapter) or why not, and which one a program
 * that sets none gets by default.
 */
import '@recur/backend-js';
import '@recur/backend-native';
import '@recur/backend-webgpu';
import { createBackend, getDefaultBackend, listBackends } from '@recur/core';

export async function info(log: (line: string) => void): Promise<void> {
  log(`node ${process.version}, ${process.platform}-${process.arch}`);
  log('backends (highest priority first):');
  for (const name of listBackends()) {
    try {
      const backend = await createBackend(name);
      log(
        `  ${name.padEnd(8)} works: ${backend.description}; up to ${backend.maxBufferLength.toLocaleString('en-US')} elements per buffer`,
      );
      backend.destroy();
    } catch (error) {
      log(`  ${name.padEnd(8)} unavailable: ${(error as Error).message}`);
    }
  }
  const fallback = getDefaultBackend();
  log(
    `default backend (no setDefaultBackend, RECUR_BACKEND ${process.env.RECUR_BACKEND ?? 'unset'}): ${fallback.name}, ${fallback.description}`,
  );
}
