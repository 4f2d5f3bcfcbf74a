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
  ])('removes %s', (_name, input, expected) => {
    expect(sanitize(input)).toBe(expected);
  });

  it('keeps ordinary text, accents and emoji', () => {
    expect(sanitize('Grüße, José 🎉 — ok')).toBe('Grüße, José 🎉 — ok');
  });
});
