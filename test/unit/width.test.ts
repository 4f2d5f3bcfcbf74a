import stringWidth from 'string-width';
import { describe, expect, it } from 'vitest';
import { cutToWidth, isNarrow, narrowWidth } from '../../src/text/width.js';

describe('the narrow-width fast path agrees with string-width', () => {
  it('every character of the Basic Multilingual Plane it calls narrow is one column for string-width', () => {
    const disagree: string[] = [];
    for (let code = 0; code <= 0xffff; code++) {
      if (code >= 0xd800 && code <= 0xdfff) continue; // surrogates are not characters
      if (isNarrow(code) && stringWidth(String.fromCharCode(code)) !== 1) disagree.push(code.toString(16));
    }
    expect(disagree).toEqual([]);
  });

  it('measures dashboard rows and leaves the rest to string-width', () => {
    expect(narrowWidth('12:00:01 item_purchased user-03 1@42 · 99.50 USD…')).toBe(49);
    expect(narrowWidth('▁▂▃▄▅▆▇█ ─│╭╮')).toBe(13);
    expect(narrowWidth('日本')).toBeUndefined();
    expect(narrowWidth('▶')).toBeUndefined();
    expect(narrowWidth('e\u0301')).toBeUndefined(); // a combining accent: zero columns
  });
});

describe('cutting to a width', () => {
  const cases: [string, string, number, string][] = [
    ['fits', 'hello', 10, 'hello'],
    ['narrow, cut', 'hello world', 8, 'hello w…'],
    ['exactly the width', 'hello', 5, 'hello'],
    ['wide characters count two', '日本語のテキスト', 7, '日本語…'],
    ['a wide character never split at the edge', '日本語', 5, '日本…'],
    ['a ZWJ family is one grapheme, two columns', '👨‍👩‍👧‍👦👨‍👩‍👧‍👦👨‍👩‍👧‍👦', 5, '👨‍👩‍👧‍👦👨‍👩‍👧‍👦…'],
    ['combining accents take no column', 'e\u0301e\u0301e\u0301', 3, 'e\u0301e\u0301e\u0301'],
    ['narrow then wide: the ellipsis needs its column', 'ab日本', 4, 'ab…'],
  ];
  it.each(cases)('%s', (_name, text, width, expected) => {
    const cut = cutToWidth(text, width);
    expect(cut.text).toBe(expected);
    expect(cut.width).toBe(stringWidth(expected));
    expect(stringWidth(cut.text)).toBeLessThanOrEqual(width);
  });

  it('costs what the width costs, not what the string costs (1 MiB strings of every kind)', () => {
    const huge = [
      'a'.repeat(2 ** 20),
      `€${'a'.repeat(2 ** 20)}`,
      '漢'.repeat(2 ** 19),
      '👨‍👩‍👧‍👦'.repeat(2 ** 16),
      'e\u0301'.repeat(2 ** 19),
      `${'\u0301'.repeat(2 ** 20)}x`,
    ];
    for (const text of huge) {
      cutToWidth(text, 40); // warm up
      const started = process.cpuUsage(); // CPU time: what it costs, however busy the machine
      for (let i = 0; i < 100; i++) {
        const cut = cutToWidth(text, 40);
        expect(stringWidth(cut.text)).toBeLessThanOrEqual(40);
        expect(cut.text.endsWith('…')).toBe(true);
      }
      // 100 cells of 40 columns: about what one frame of the dashboard draws
      const used = process.cpuUsage(started);
      expect((used.user + used.system) / 1000).toBeLessThan(50);
    }
  });
});
