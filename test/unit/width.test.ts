import stringWidth from 'string-width';
import { describe, expect, it } from 'vitest';
import { isNarrow, narrowWidth } from '../../src/text/width.js';

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
