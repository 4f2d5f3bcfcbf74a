import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXIT } from '../../src/cli/exit-codes.js';
import { repoRoot } from '../support/cli.js';

const read = (file: string) => readFileSync(path.join(repoRoot, file), 'utf8');

describe('exit codes', () => {
  it('each code has one meaning: no two names share a code', () => {
    const codes = Object.values(EXIT);
    expect(new Set(codes).size).toBe(codes.length);
  });

  it("docs/contracts.md's table lists every code, once, and no other", () => {
    const section = read('docs/contracts.md').split('## Exit codes')[1]!.split('\n## ')[0]!;
    const rows = [...section.matchAll(/^\| `(\d+)` \|/gm)].map((m) => Number(m[1]));
    expect(rows).toEqual(Object.values(EXIT).sort((a, b) => a - b));
  });

  it("the README's summary names every code and links the table", () => {
    const readme = read('README.md');
    const summary = readme.slice(readme.indexOf('Exit codes (every command'));
    const paragraph = summary.slice(0, summary.indexOf('\n\n'));
    for (const code of Object.values(EXIT)) expect(paragraph).toContain(`\`${code}\``);
    expect(paragraph).toContain('docs/contracts.md#exit-codes');
  });
});
