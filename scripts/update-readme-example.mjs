#!/usr/bin/env node
/**
 * Copies apps/cli/examples/readme-example.ts into README.md and replaces the README's output
 * block with what the built example prints. Run after `npm run setup` (or a build) whenever the
 * example or the backend's numerics change; apps/cli/test/readme.test.ts checks both blocks.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const path = (p) => fileURLToPath(new URL(`../${p}`, import.meta.url));
const code = readFileSync(path('apps/cli/examples/readme-example.ts'), 'utf8');
const output = execFileSync(process.execPath, [path('apps/cli/dist/examples/readme-example.js')], { encoding: 'utf8' });

let readme = readFileSync(path('README.md'), 'utf8');
for (const [name, body] of [
  ['code', code],
  ['output', output],
]) {
  const pattern = new RegExp(`(<!-- readme-example:${name} -->\\n\`\`\`\\w*\\n)[\\s\\S]*?(\`\`\`)`);
  if (!pattern.test(readme)) throw new Error(`README.md has no fenced block after <!-- readme-example:${name} -->`);
  readme = readme.replace(pattern, (_, open, close) => `${open}${body}${close}`);
}
writeFileSync(path('README.md'), readme);
process.stdout.write(`README.md updated; the example prints:\n${output}`);
