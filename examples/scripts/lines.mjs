/**
 * The examples beside their PyTorch equivalents, and how lines are counted for the comparison
 * in README.md: lines that hold code. Blank lines, comment-only lines and lines that only close
 * brackets (`}`, `});`) do not count: Python closes its blocks by indentation, so counting
 * TypeScript's closing braces would compare syntax, not code.
 * Shared by scripts/update-readme.mjs (which writes README.md) and test/readme.test.ts (which
 * checks it).
 */
import { readFileSync } from 'node:fs';

export const EXAMPLES = [
  { name: 'char-lm', recur: 'src/char-lm.ts', pytorch: 'pytorch/char_lm.py' },
  { name: 'forecast', recur: 'src/forecast.ts', pytorch: 'pytorch/forecast.py' },
  { name: 'classify', recur: 'src/classify.ts', pytorch: 'pytorch/classify.py' },
];

const root = new URL('../', import.meta.url);

export function source(path) {
  return readFileSync(new URL(path, root), 'utf8');
}

export function codeLines(text) {
  return text.split('\n').filter((line) => {
    const trimmed = line.trim();
    return !/^[\s)\]};,]*$/.test(trimmed) && !trimmed.startsWith('//') && !trimmed.startsWith('#');
  }).length;
}

/** The fenced block after `<!-- file:PATH -->` in a README, or null. */
export function block(readme, path) {
  const match = new RegExp(`<!-- file:${path} -->\\n\`\`\`\\w*\\n([\\s\\S]*?)\`\`\``).exec(readme);
  return match ? match[1] : null;
}

/** The README's line-count table, from the files. */
export function table() {
  const rows = EXAMPLES.map(({ name, recur, pytorch }) => {
    const [r, p] = [codeLines(source(recur)), codeLines(source(pytorch))];
    return `| ${name} | ${r} | ${p} | ${r - p >= 0 ? '+' : ''}${r - p} |`;
  });
  return ['| example | Recur (TypeScript) | PyTorch (Python) | difference |', '|---|---|---|---|', ...rows].join('\n');
}
