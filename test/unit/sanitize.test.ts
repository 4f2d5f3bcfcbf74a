import stringWidth from 'string-width';
import { describe, expect, it } from 'vitest';
import { sanitize } from '../../src/text/sanitize.js';
import { cell } from '../../src/ui/format.js';

/** Anything a terminal would act on or not show: C0, DEL, C1, bidi and invisible characters, lone surrogates, tags. */
const UNSAFE =
  /[\u0000-\u001f\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2028\u2029\u2060-\u2069\ufeff\ufff9-\ufffb\u{e0000}-\u{e007f}]|[\ud800-\udfff]/u;
const ESC_OR_C1 = /[\u001b\u0080-\u009f]/;

describe('sanitize: nothing from Kafka or Redis can drive the terminal, and nothing is hidden', () => {
  it.each([
    ['a lone ESC', 'a\u001bb', 'a\\u001bb'],
    ['a trailing ESC', 'user-01\u001b', 'user-01\\u001b'],
    ['an unfinished CSI', 'a\u001b[3', 'a\\u001b[3'],
    ['a complete CSI (SGR colour)', 'user-\u001b[31m01', 'user-\\u001b[31m01'],
    ['SGR colour and reset', 'a\u001b[31mred\u001b[0mb', 'a\\u001b[31mred\\u001b[0mb'],
    ['OSC window title (BEL)', 'x\u001b]0;pwned\u0007y', 'x\\u001b]0;pwned\\u0007y'],
    ['OSC 52 clipboard (ST)', 'x\u001b]52;c;ZXZpbA==\u001b\\y', 'x\\u001b]52;c;ZXZpbA==\\u001b\\y'],
    ['cursor movement', 'a\u001b[2J\u001b[Hb', 'a\\u001b[2J\\u001b[Hb'],
    ['carriage return and backspace', 'safe\rEVIL\b!', 'safe\\rEVIL\\u0008!'],
    ['C1 CSI', 'a\u009b31mb', 'a\\u009b31mb'],
    ['lone C1 controls', 'a\u0085b\u009cc', 'a\\u0085b\\u009cc'],
    ['DEL and NUL', 'a\u007fb\u0000c', 'a\\u007fb\\u0000c'],
    ['newlines and tabs', 'one\ntwo\tthree', 'one\\ntwo\\tthree'],
    ['bidi override', 'abc\u202Edcba\u202C', 'abc\\u202edcba\\u202c'],
    ['zero-width characters', 'pa\u200Bss\u200Dword\uFEFF', 'pa\\u200bss\\u200dword\\ufeff'],
    ['line and paragraph separators', 'a\u2028b\u2029c', 'a\\u2028b\\u2029c'],
    ['tag characters (hidden ASCII)', 'ok\u{E0069}\u{E007F}!', 'ok\\u{e0069}\\u{e007f}!'],
    ['a lone high surrogate', 'a\uD83Db', 'a\\ud83db'],
    ['a lone low surrogate', 'a\uDE00b', 'a\\ude00b'],
    ['interlinear annotation characters', 'x\uFFF9hidden\uFFFAnote\uFFFBy', 'x\\ufff9hidden\\ufffanote\\ufffby'],
    ['variation selectors after plain letters', 'a\uFE0Fb\u{E0100}c', 'a\\ufe0fb\\u{e0100}c'],
    ['a run of selectors after an emoji (all but the first)', '\u2764\uFE0F\uFE0F', '\u2764\uFE0F\\ufe0f'],
    ['a selector after a C1 control', '\u0085\uFE0F', '\\u0085\\ufe0f'],
  ])('escapes %s', (_name, input, expected) => {
    const out = sanitize(input);
    expect(out).toBe(expected);
    expect(out).not.toMatch(UNSAFE);
  });

  it('lets no ESC or C1 byte out, wherever it stands, and shows each as \\u001b / \\u009b', () => {
    for (const input of ['a\u001bb', 'a\u001b', '\u001b', '\u001b[31mred\u001b[0m', 'a\u009bb', '\u009b31m']) {
      const out = sanitize(input);
      expect(out, JSON.stringify(input)).not.toMatch(ESC_OR_C1);
      expect(out, JSON.stringify(input)).toMatch(/\\u001b|\\u009b/);
    }
  });

  it('removes nothing: two ids that differ only by a control character stay two', () => {
    expect(sanitize('user-\u001b[31m01')).not.toBe(sanitize('user-01'));
    expect(sanitize('user-01\u200b')).not.toBe(sanitize('user-01'));
  });

  it('keeps ordinary text, accents and emoji', () => {
    expect(sanitize('Grüße, José 🎉 — ok')).toBe('Grüße, José 🎉 — ok');
  });

  it('keeps the variation selector of an emoji sequence, wide and astral characters', () => {
    for (const text of ['I \u2764\uFE0F it', '\u263A\uFE0E', '1\uFE0F\u20E3', '𝔘𝔫𝔦𝔠𝔬𝔡𝔢 😀', '漢字かな'])
      expect(sanitize(text), text).toBe(text);
  });

  it('shows a ZWJ emoji sequence as its emoji one by one (terminals disagree on the joined width)', () => {
    expect(sanitize('👨‍👩‍👧')).toBe('👨👩👧');
    expect(sanitize('❤\uFE0F\u200D🔥')).toBe('❤\uFE0F🔥');
  });

  it('cells count the escapes in their width: exactly the width asked, the escape cut with an ellipsis', () => {
    expect(cell('user-\u001b[31m01', 20)).toBe('user-\\u001b[31m01   ');
    expect(cell('user-\u001b[31m01', 8)).toBe('user-\\u…');
    expect(cell('漢\u001b字', 12)).toBe('漢\\u001b字  ');
    for (const text of ['user-\u001b[31m01', '\u001b'.repeat(50), '漢\u001b字'.repeat(20), '\ud83d'.repeat(300)]) {
      for (const width of [1, 5, 8, 20, 119]) {
        const out = cell(text, width);
        expect(stringWidth(out), `${JSON.stringify(text)} at ${width}`).toBe(width);
        expect(out).not.toMatch(UNSAFE);
      }
    }
  });
});
