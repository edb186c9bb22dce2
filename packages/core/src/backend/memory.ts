import { getDefaultBackend } from '../registry.js';
import { checkedBackend, type MemoryInfo } from './checked.js';
import type { Backend } from './interface.js';

/**
 * The buffers `backend` (default: the default backend) holds for its callers: how many, and
 * their bytes. Like `tf.memory()`: a count that grows step after step in a training loop is a
 * leak (a tensor neither disposed nor freed by `tidy`).
 */
export function memory(backend: Backend = getDefaultBackend()): MemoryInfo {
  return checkedBackend(backend).memory();
}
