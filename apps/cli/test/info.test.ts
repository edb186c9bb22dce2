import { describe, expect, it } from 'vitest';
import { info } from '../src/info.js';

describe('recur info', () => {
  it('lists every backend package with its device or the reason it is unavailable, and the default', async () => {
    const lines: string[] = [];
    await info((line) => lines.push(line));
    const text = lines.join('\n');
    for (const name of ['native', 'webgpu', 'js']) expect(text).toMatch(new RegExp(`^ {2}${name} +(works: |unavailable: )`, 'm'));
    expect(text).toMatch(/^ {2}js +works: pure TypeScript reference \(float32\)/m);
    expect(text).toMatch(/^default backend .*: (native|js), /m);
  });
});
