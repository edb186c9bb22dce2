/** The benchmark's table (stdout) and JSON (stdout and, with --out, a file written atomically). */
import { resolve } from 'node:path';
import { writeFileAtomic } from '@recur/core/node';

export interface Row {
  workload: string;
  backend: string;
  tokensPerSecond?: number;
  gflops?: number;
  microsecondsPerToken?: number;
  note?: string;
}

const number = (v: number | undefined, digits = 0) =>
  v === undefined ? '' : v.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

/** A Markdown table, ready to paste into a README. */
export function printTable(rows: Row[], footnotes: string[]): void {
  const header = ['workload', 'backend', 'tokens/s', 'GFLOP/s', 'µs/token', 'note'];
  const lines = rows.map((r) => [
    r.workload,
    r.backend,
    number(r.tokensPerSecond),
    number(r.gflops, 1),
    number(r.microsecondsPerToken),
    r.note ?? '',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const row = (cells: string[]) => `| ${cells.map((cell, i) => cell.padEnd(widths[i])).join(' | ')} |`;
  console.log(row(header));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const l of lines) console.log(row(l));
  if (footnotes.length) console.log(`\n${footnotes.join('\n')}`);
}

/** Writes `value` to `path`, relative to where `pnpm bench:lstm` was run (pnpm's INIT_CWD), not this package. */
export async function writeJson(path: string, value: unknown): Promise<void> {
  await writeFileAtomic(
    resolve(process.env.INIT_CWD ?? process.cwd(), path),
    new TextEncoder().encode(`${JSON.stringify(value, null, 2)}\n`),
  );
}
