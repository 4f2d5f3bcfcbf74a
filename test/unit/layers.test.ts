import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../support/cli.js';

// The layer rule (eslint.config.js, LAYERS), docs/architecture.md's table and the imports themselves
// say the same. Lint alone misses a folder without an entry (nothing refused) and a dynamic import().
const eslintConfig: string = path.join(repoRoot, 'eslint.config.js');
const { LAYERS: layers } = (await import(eslintConfig)) as { LAYERS: Record<string, string[]> };
const src = path.join(repoRoot, 'src');
const folders = readdirSync(src, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name)
  .sort();

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? sources(path.join(dir, d.name)) : /\.tsx?$/.test(d.name) ? [path.join(dir, d.name)] : [],
  );
}

describe('layers', () => {
  it('every folder of src/ has its entry in LAYERS, and LAYERS names no other', () => {
    expect(Object.keys(layers).sort()).toEqual(folders);
    for (const allowed of Object.values(layers)) for (const f of allowed) expect(folders).toContain(f);
  });

  it('no two folders may import each other (imports point down)', () => {
    for (const [folder, allowed] of Object.entries(layers))
      for (const other of allowed) expect(layers[other], `${folder} ⇄ ${other}`).not.toContain(folder);
  });

  it("docs/architecture.md's table lists, for each folder, what LAYERS allows it", () => {
    const doc = readFileSync(path.join(repoRoot, 'docs/architecture.md'), 'utf8');
    const rows = new Map<string, string[]>();
    for (const m of doc.matchAll(/^\| `src\/([a-z]+)\/` \|.*\| ([^|]+) \|$/gm)) {
      const imports = m[2]!.trim() === 'nothing' ? [] : [...m[2]!.matchAll(/`([a-z]+)`/g)].map((x) => x[1]!);
      rows.set(m[1]!, imports.sort());
    }
    expect([...rows.keys()].sort()).toEqual(folders);
    for (const folder of folders) expect(rows.get(folder), `src/${folder}/`).toEqual([...layers[folder]!].sort());
  });

  it('every relative import in src/, static or dynamic, goes to a folder LAYERS allows', () => {
    const wrong: string[] = [];
    for (const file of sources(src)) {
      const from = path.relative(src, file).split(path.sep);
      if (from.length < 2) continue; // src/index.ts: the package entry re-exports what it needs
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/(?:\bfrom|\bimport\s*\(?)\s*['"](\.{1,2}\/[^'"]+)['"]/g)) {
        const to = path.relative(src, path.resolve(path.dirname(file), m[1]!)).split(path.sep)[0]!;
        if (to !== from[0] && !layers[from[0]!]!.includes(to)) wrong.push(`${path.relative(repoRoot, file)} → ${m[1]}`);
      }
    }
    expect(wrong).toEqual([]);
  });
});
