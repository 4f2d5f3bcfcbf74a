import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';
import {
  colorWanted,
  crashAt,
  ENV_VARS,
  inCI,
  javaHome,
  logLevel,
  searchPath,
  stackHomeSettings,
} from '../../src/config/environment.js';

const root = path.resolve(import.meta.dirname, '../..');

describe('the environment, read in src/config/environment.ts only', () => {
  it('reads each variable, unset and empty alike where a value is a path', () => {
    expect(logLevel('warn', {})).toBe('warn');
    expect(logLevel('warn', { LOG_LEVEL: 'debug' })).toBe('debug');
    expect(colorWanted({})).toBe(true);
    expect(colorWanted({ NO_COLOR: '' })).toBe(true);
    expect(colorWanted({ NO_COLOR: '1' })).toBe(false);
    expect(crashAt({})).toBeUndefined();
    expect(crashAt({ EVENTSTREAM_CRASH_AT: 'before-mark' })).toBe('before-mark');
    expect(crashAt({ EVENTSTREAM_CRASH_AT: 'sometimes' })).toBeUndefined();
    expect(searchPath({ PATH: `/a${path.delimiter}${path.delimiter}/b` })).toEqual(['/a', '/b']);
    expect(searchPath({})).toEqual([]);
    expect(javaHome({ JAVA_HOME: '' })).toBeUndefined();
    expect(javaHome({ JAVA_HOME: '/jdk' })).toBe('/jdk');
    expect(stackHomeSettings({ EVENTSTREAM_HOME: '/h', XDG_CACHE_HOME: '' })).toEqual({
      home: '/h',
      cacheHome: undefined,
    });
    expect(inCI({ CI: 'true' })).toBe(true);
    expect(inCI({})).toBe(false);
  });

  it("the README's configuration table names every variable the program reads", () => {
    const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
    const table = readme.slice(readme.indexOf('| flag | environment |'), readme.indexOf('## The dashboard'));
    // `NAME` in a cell, or $NAME in a default
    const missing = Object.values(ENV_VARS).filter((name) => !new RegExp(`[\`$]${name}\\b`).test(table));
    expect(missing).toEqual([]);
  });

  it('the lint rule refuses process.env outside src/config', async () => {
    const eslint = new ESLint({ cwd: root });
    const source = 'export const level = process.env.LOG_LEVEL;\nexport const { env } = process;\n';
    const [outside] = await eslint.lintText(source, { filePath: path.join(root, 'src/log/reads-env.ts') });
    const [inside] = await eslint.lintText(source, { filePath: path.join(root, 'src/config/reads-env.ts') });
    expect(outside!.messages.map((m) => m.ruleId)).toEqual(['no-restricted-properties', 'no-restricted-properties']);
    expect(inside!.messages).toEqual([]);
  });
});
