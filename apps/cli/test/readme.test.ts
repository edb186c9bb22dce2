import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';

const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
const exampleUrl = new URL('../examples/readme-example.ts', import.meta.url);

/** The fenced block that follows `<!-- readme-example:<name> -->` in the README. */
function block(name: string): string {
  const match = new RegExp(`<!-- readme-example:${name} -->\\n\`\`\`\\w*\\n([\\s\\S]*?)\`\`\``).exec(readme);
  if (!match) throw new Error(`README.md has no fenced block after <!-- readme-example:${name} -->`);
  return match[1];
}

/** `[step, loss]` per line of `step N  loss X.XXXX`. */
function parse(text: string): [number, number][] {
  return text
    .trim()
    .split('\n')
    .map((line) => {
      const m = /^step (\d+) {2}loss (\d+\.\d{4})$/.exec(line);
      if (!m) throw new Error(`unexpected example output line '${line}'`);
      return [Number(m[1]), Number(m[2])];
    });
}

describe('README example', () => {
  afterEach(() => vi.restoreAllMocks());

  it('shows apps/cli/examples/readme-example.ts verbatim', () => {
    expect(block('code')).toBe(readFileSync(exampleUrl, 'utf8'));
  });

  // Training in float32 amplifies rounding differences, so a change in a kernel's summation
  // order moves the later losses. The first mean loss must match within 5 %, later ones within
  // a factor of 5, and the loss must fall. On failure: build, then `node scripts/update-readme-example.mjs`.
  it('shows what the example prints', async () => {
    const lines: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => {
      lines.push(args.join(' '));
    });
    await import('../examples/readme-example.js');
    const printed = parse(lines.join('\n'));
    const shown = parse(block('output'));
    const context = `README shows:\n${block('output')}the example printed:\n${lines.join('\n')}`;
    expect(
      printed.map(([step]) => step),
      context,
    ).toEqual(shown.map(([step]) => step));
    expect(Math.abs(printed[0][1] / shown[0][1] - 1), context).toBeLessThan(0.05);
    for (const [i, [, loss]] of printed.entries()) {
      const ratio = loss / shown[i][1];
      expect(ratio > 0.2 && ratio < 5, context).toBe(true);
    }
    expect(printed[printed.length - 1][1]).toBeLessThan(printed[0][1] / 20);
  });
});
