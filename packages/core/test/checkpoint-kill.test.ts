/**
 * kill -9 during saveCheckpoint-style writes: a child process saves a large checkpoint over and
 * over and is SIGKILLed, at a random moment and also while frozen mid-write (SIGSTOP first, so
 * the moment is certain). The target must then hold a whole checkpoint, old or new, or nothing;
 * the orphaned temporary file must go on the next save.
 *
 * The child runs core's current TypeScript sources, transpiled file by file into a temporary
 * folder (no build needed, and never a stale dist/).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeSafetensors, Random } from '@recur/core';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileAtomic } from '../src/node.js';

const SOURCES = fileURLToPath(new URL('../src/', import.meta.url));
const FLOATS = 6 * 1024 * 1024; // 24 MiB of data per checkpoint

/** node.ts and every source it imports at run time, transitively (type-only imports are erased). */
async function importClosure(entry: string): Promise<string[]> {
  const seen = new Set<string>([entry]);
  for (const file of seen) {
    for (const [, specifier] of (await readFile(file, 'utf8')).matchAll(/^(?:import|export)(?! type )[^;]*? from '(\.[^']+)\.js';/gm)) {
      seen.add(join(dirname(file), `${specifier}.ts`));
    }
  }
  return [...seen];
}

/** Core's sources as plain ES modules under `out/core`, plus the child script. */
async function prepareChild(out: string): Promise<string> {
  for (const file of await importClosure(join(SOURCES, 'node.ts'))) {
    const { outputText } = ts.transpileModule(await readFile(file, 'utf8'), {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: true },
    });
    const target = join(out, 'core', relative(SOURCES, file)).replace(/\.ts$/, '.js');
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, outputText);
  }
  await writeFile(join(out, 'package.json'), '{"type": "module"}');
  const child = join(out, 'saver.js');
  // Two generations of one checkpoint, each tensor filled with its generation number, written
  // alternately for ever; 'saved' once the first is on disk.
  await writeFile(
    child,
    `import { writeFileAtomic } from './core/node.js';
import { encodeSafetensors } from './core/io/safetensors.js';
const [target, floats] = [process.argv[2], Number(process.argv[3])];
const files = await Promise.all([1, 2].map((g) =>
  encodeSafetensors({ w: { shape: [floats], data: new Float32Array(floats).fill(g) } }, { generation: String(g) })));
for (let i = 0; ; i++) {
  await writeFileAtomic(target, files[i % 2]);
  if (i === 0) process.stdout.write('saved\\n');
}
`,
  );
  return child;
}

function startSaver(script: string, target: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [script, target, String(FLOATS)], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.stdout?.once('data', () => resolve(child));
    child.once('exit', (code, signal) => reject(new Error(`saver exited (${code ?? signal}) before its first save`)));
  });
}

function killed(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function temporaries(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((f) => f.endsWith('.tmp'));
}

/** Either absent or a whole checkpoint of one generation. */
async function expectWholeOrAbsent(target: string): Promise<void> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(target));
  } catch (error) {
    expect((error as NodeJS.ErrnoException).code).toBe('ENOENT');
    return;
  }
  const { tensors, metadata } = decodeSafetensors(bytes);
  const generation = Number(metadata.generation);
  expect([1, 2]).toContain(generation);
  expect(tensors.w.data.length).toBe(FLOATS);
  expect(tensors.w.data.every((v) => v === generation)).toBe(true);
}

describe.skipIf(process.platform === 'win32')('kill -9 while saving', () => {
  let work: string;
  let script: string;
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'recur-kill-'));
    script = await prepareChild(work);
  });
  afterAll(() => rm(work, { recursive: true, force: true }));

  it('leaves the old checkpoint, the new one or none, at random moments', async () => {
    const random = new Random(9);
    for (let round = 0; round < 3; round++) {
      const dir = await mkdtemp(join(work, 'random-'));
      const target = join(dir, 'model.safetensors');
      const child = await startSaver(script, target);
      await sleep(random.int(150));
      await killed(child);
      await expectWholeOrAbsent(target);
      await writeFileAtomic(target, new Uint8Array([7]));
      expect(await temporaries(dir)).toEqual([]);
    }
  });

  it('the next save removes the temporary file of a writer killed mid-write', async () => {
    const dir = await mkdtemp(join(work, 'mid-write-'));
    const target = join(dir, 'model.safetensors');
    const child = await startSaver(script, target);
    // Freeze the writer while its temporary file exists, then kill it: the orphan is certain.
    let orphans: string[] = [];
    const deadline = Date.now() + 10_000;
    while (orphans.length === 0 && Date.now() < deadline) {
      if ((await temporaries(dir)).length > 0) {
        child.kill('SIGSTOP');
        orphans = await temporaries(dir);
        if (orphans.length === 0) child.kill('SIGCONT');
      }
      if (orphans.length === 0) await sleep(1);
    }
    await killed(child);
    expect(orphans, 'a temporary file seen while the writer was frozen').toHaveLength(1);
    expect(await temporaries(dir)).toEqual(orphans);
    await expectWholeOrAbsent(target);
    await writeFileAtomic(target, new Uint8Array([7]));
    expect(await temporaries(dir)).toEqual([]);
    expect([...(await readFile(target))]).toEqual([7]);
    expect(orphans[0], 'the temporary name carries the writer pid').toContain(`.${child.pid}.`);
  });
});
