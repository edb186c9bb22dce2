/** README.md shows every example and its PyTorch equivalent as they are, with their line counts. */
import { describe, expect, it } from 'vitest';
import { block, codeLines, EXAMPLES, source, table } from '../scripts/lines.mjs';

const readme: string = source('README.md');

describe('examples/README.md', () => {
  for (const path of EXAMPLES.flatMap((e) => [e.recur, e.pytorch])) {
    it(`shows ${path} verbatim (node scripts/update-readme.mjs copies it)`, () => {
      expect(block(readme, path)).toBe(source(path));
    });
  }

  it('states the line counts of the files', () => {
    expect(readme).toContain(table());
  });

  it('counts lines that hold code, not blank, comment-only or bracket-only ones', () => {
    expect(codeLines('// a comment\n\nconst a = 1; // trailing\n  # python comment\nx = 2\nif (a) {\n  f([\n    1,\n  ]);\n}\n')).toBe(5);
  });

  it('each example is within a few lines of its PyTorch equivalent', () => {
    for (const { recur, pytorch } of EXAMPLES) expect(codeLines(source(recur)) - codeLines(source(pytorch))).toBeLessThanOrEqual(5);
  });
});
