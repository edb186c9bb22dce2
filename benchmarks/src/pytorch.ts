/** The same workload in PyTorch (benchmarks/python/lstm_charlm.py), run by Debian's python3 in the same run. */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from './config.js';
import { DATA, REPO_ROOT } from './corpus.js';

/** Debian's python3 has python3-torch; a CUDA build of torch elsewhere is named by RECUR_BENCH_PYTHON. */
const PYTHON = process.env.RECUR_BENCH_PYTHON || '/usr/bin/python3';
const TORCH_SCRIPT = join(REPO_ROOT, 'benchmarks', 'python', 'lstm_charlm.py');
export const TORCH_HINT = `${PYTHON} has no torch (Debian: apt-get install -y python3-torch libopenblas0-pthread); PyTorch rows skipped`;

/** torch's version, or null where /usr/bin/python3 cannot import it. */
export function torchVersion(): string | null {
  const r = spawnSync(PYTHON, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

export interface TorchTrain {
  tokensPerSecond: number;
  stepSeconds: number;
}
export interface TorchLatency {
  microsecondsPerToken: number;
}

export function runTorch(c: Config, mode: 'train'): TorchTrain | null;
export function runTorch(c: Config, mode: 'latency'): TorchLatency | null;
export function runTorch(c: Config, mode: 'train' | 'latency'): TorchTrain | TorchLatency | null {
  const args = [TORCH_SCRIPT, '--mode', mode, '--cell', c.cell, '--hidden', String(c.hidden), '--threads', String(c.threads)];
  args.push('--warmup', String(c.warmup), '--timed', String(c.timed), '--device', c.torchDevice ?? 'cpu');
  if (existsSync(DATA)) args.push('--data', DATA);
  const r = spawnSync(PYTHON, args, { encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: String(c.threads) } });
  if (r.status !== 0) {
    console.error(`PyTorch run failed: ${r.stderr.slice(-500)}`);
    return null;
  }
  return JSON.parse(r.stdout.trim().split('\n').pop() as string);
}
