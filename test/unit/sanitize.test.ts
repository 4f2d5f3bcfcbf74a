import { describe, expect, it } from 'vitest';
import { sanitize } from '../../src/text/sanitize.js';

describe('sanitize: nothing from Kafka or Redis can drive the terminal', () => {
  it.each([
    ['SGR colour', 'a\u001b[31mred\u001b[0mb', 'aredb'],
    ['OSC window title (BEL)', 'x\u001b]0;pwned\u0007y', 'xy'],
    ['OSC 52 clipboard (ST)', 'x\u001b]52;c;ZXZpbA==\u001b\\y', 'xy'],
    ['cursor movement', 'a\u001b[2J\u001b[Hb', 'ab'],
    ['carriage return and backspace', 'safe\rEVIL\b!', 'safe EVIL!'],
    ['bidi override', 'abc\u202Edcba\u202C', 'abcdcba'],
    ['zero-width characters', 'pa\u200Bss\u200Dword\uFEFF', 'password'],
    ['C1 control (CSI)', 'a\u009b31mb', 'ab'],
    ['lone C1 control', 'a\u0085b\u009cc', 'abc'],
    ['newlines and tabs', 'one\ntwo\tthree', 'one two three'],
    ['line and paragraph separators', 'a\u2028b\u2029c', 'abc'],
    ['tag characters (hidden ASCII)', 'ok\u{E0069}\u{E0067}\u{E006E}\u{E007F}!', 'ok!'],
    ['a lone high surrogate', 'a\uD83Db', 'ab'],
    ['a lone low surrogate', 'a\uDE00b', 'ab'],
    ['interlinear annotation characters', 'x\uFFF9hidden\uFFFAnote\uFFFBy', 'xhiddennotey'],
    ['variation selectors after plain letters', 'a\uFE0Fb\uFE00c\u{E0100}d', 'abcd'],
    ['a run of selectors after an emoji (all but the first)', '\u2764\uFE0F\uFE0F\uFE0F\u{E01EF}', '\u2764\uFE0F'],
  ])('removes %s', (_name, input, expected) => {
    expect(sanitize(input)).toBe(expected);
  });

  it('keeps ordinary text, accents and emoji', () => {
    expect(sanitize('Grüße, José 🎉 — ok')).toBe('Grüße, José 🎉 — ok');
  });

  it('keeps the variation selector of an emoji sequence, and well-formed astral characters', () => {
    for (const text of ['I \u2764\uFE0F it', '\u263A\uFE0E', '1\uFE0F\u20E3', '𝔘𝔫𝔦𝔠𝔬𝔡𝔢 😀'])
      expect(sanitize(text), text).toBe(text);
  });
});
