/**
 * Which backend packages the command line loads. `'auto'` considers native (C++, where its addon
 * is built) and the JS reference; WebGPU loads only when asked for by name, because on machines
 * without a GPU its adapter is a software rasterizer, slower than JS for the small demo models.
 */
import '@recur/backend-js';
import { type Backend, createBackend } from '@recur/core';

export async function openBackend(name: string): Promise<Backend> {
  if (name === 'auto' || name === 'native') await import('@recur/backend-native');
  if (name === 'webgpu') await import('@recur/backend-webgpu');
  return createBackend(name);
}
