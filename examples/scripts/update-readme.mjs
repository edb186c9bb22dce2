#!/usr/bin/env node
/** Copies every example and its PyTorch equivalent into README.md and rewrites the line-count table. */
import { writeFileSync } from 'node:fs';
import { EXAMPLES, source, table } from './lines.mjs';

let readme = source('README.md');
for (const path of EXAMPLES.flatMap((e) => [e.recur, e.pytorch])) {
  const pattern = new RegExp(`(<!-- file:${path} -->\\n\`\`\`\\w*\\n)[\\s\\S]*?(\`\`\`)`);
  if (!pattern.test(readme)) throw new Error(`README.md has no fenced block after <!-- file:${path} -->`);
  readme = readme.replace(pattern, (_, open, close) => `${open}${source(path)}${close}`);
}
readme = readme.replace(/(<!-- lines:table -->\n)[\s\S]*?(<!-- \/lines:table -->)/, (_, open, close) => `${open}${table()}\n${close}`);
writeFileSync(new URL('../README.md', import.meta.url), readme);
console.log(table());
