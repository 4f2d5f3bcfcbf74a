import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { styledCharsFromTokens, styledCharsToString, tokenize } from '@alcalzone/ansi-tokenize';
import { describe, expect, it } from 'vitest';
import { isNarrow } from '../../src/text/width.js';

// The patched Ink output (patches/ink+6.8.0.patch) turns lines of narrow characters and colour codes into
// styled characters without the library: it must give exactly what the library gives, and draw rows the
// same way.
type StyledChar = ReturnType<typeof styledCharsFromTokens>[number];
const inkEntry = createRequire(import.meta.url).resolve('ink');
const { styledCharsForTesting: patched } = (await import(
  pathToFileURL(path.join(path.dirname(inkEntry), 'output.js')).href
)) as {
  styledCharsForTesting: {
    narrowStyledChars(line: string): StyledChar[] | undefined;
    isNarrow(code: number): boolean;
    styledCharsToString(chars: StyledChar[]): string;
  };
};

const CODES = ['\x1b[31m', '\x1b[39m', '\x1b[1m', '\x1b[22m', '\x1b[2m', '\x1b[7m', '\x1b[27m', '\x1b[0m', '\x1b[m'];
const MORE = ['\x1b[1;31m', '\x1b[38;5;208m', '\x1b[38;2;10;20;30m', '\x1b[48;5;4m', '\x1b[49m', '\x1b[4;24m'];

function randomLine(random: () => number, alphabet: string): string {
  let line = '';
  const parts = 1 + Math.floor(random() * 12);
  for (let p = 0; p < parts; p++) {
    if (random() < 0.4) {
      const pool = random() < 0.7 ? CODES : MORE;
      line += pool[Math.floor(random() * pool.length)];
    } else {
      const n = Math.floor(random() * 8);
      for (let i = 0; i < n; i++) line += alphabet[Math.floor(random() * alphabet.length)];
    }
  }
  return line;
}

function seeded(seed: number): () => number {
  return () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
}

describe('the Ink output patch draws what Ink draws', () => {
  const ascii = Array.from({ length: 95 }, (_, i) => String.fromCharCode(0x20 + i)).join('');

  const narrow: string[] = [];
  for (let code = 0; code <= 0xffff; code++) if (patched.isNarrow(code)) narrow.push(String.fromCharCode(code));

  it('calls narrow exactly what src/text/width.ts does (the rule a test holds to string-width)', () => {
    const disagree: string[] = [];
    for (let code = 0; code <= 0xffff; code++)
      if (patched.isNarrow(code) !== isNarrow(code)) disagree.push(code.toString(16));
    expect(disagree).toEqual([]);
  });

  it('each character it handles itself is, for the library, a grapheme of its own, not full-width', () => {
    const wrong = narrow.filter((ch) => {
      const tokens = tokenize(`a${ch}b${ch}${ch}\x1b[31m${ch}`);
      return tokens.length !== 7 || tokens.some((t) => t.type === 'char' && (t.fullWidth || t.value.length !== 1));
    });
    expect(narrow.length).toBeGreaterThan(400);
    expect(wrong).toEqual([]);
  });

  it('styles such lines with colour codes exactly as the library does', () => {
    const random = seeded(7);
    const alphabet = `${ascii}${narrow.join('')}`;
    for (let i = 0; i < 5000; i++) {
      const line = randomLine(random, i % 2 ? ascii : alphabet);
      const fast = patched.narrowStyledChars(line);
      expect(fast, JSON.stringify(line)).toBeDefined();
      expect(fast, JSON.stringify(line)).toEqual(styledCharsFromTokens(tokenize(line)));
    }
  });

  it('leaves every other line to the library', () => {
    for (const line of [
      '日本',
      'e\u0301',
      'tab\there',
      '\x1b]8;;https://x\x07link\x1b]8;;\x07',
      '\x1b[31',
      'ok\x1b[5Xno',
      '🎉',
      '\u200d',
    ])
      expect(patched.narrowStyledChars(line), JSON.stringify(line)).toBeUndefined();
  });

  it('writes rows back to text exactly as the library does, shared style lists or not', () => {
    const random = seeded(11);
    for (let i = 0; i < 3000; i++) {
      const line = randomLine(random, `${ascii}日é▶`);
      const chars = patched.narrowStyledChars(line) ?? styledCharsFromTokens(tokenize(line));
      expect(patched.styledCharsToString(chars), JSON.stringify(line)).toBe(styledCharsToString(chars));
    }
  });
});
