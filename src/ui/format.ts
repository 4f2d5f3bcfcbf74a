/** Text that fits its cell: sanitized, cut to a display width, padded. */
import stringWidth from 'string-width';
import { sanitize } from '../text/sanitize.js';
import { narrowWidth } from '../text/width.js';

/** Cuts `text` to at most `width` terminal columns (wide characters count double), with an ellipsis. */
export function truncate(text: string, width: number): string {
  if (width <= 0) return '';
  // Fast path: one column a character (most rows, at thousands of rows a second).
  const narrow = narrowWidth(text);
  if (narrow !== undefined) return narrow <= width ? text : `${text.slice(0, width - 1)}…`;
  if (stringWidth(text) <= width) return text;
  let out = '';
  let used = 0;
  for (const ch of text) {
    const w = stringWidth(ch);
    if (used + w > width - 1) break;
    out += ch;
    used += w;
  }
  return `${out}…`;
}

/** A cell of exactly `width` columns from any string (sanitized first). */
export function cell(text: string, width: number, align: 'left' | 'right' = 'left'): string {
  const cut = truncate(sanitize(text), width);
  const used = narrowWidth(cut) ?? stringWidth(cut);
  const pad = ' '.repeat(Math.max(0, width - used));
  return align === 'left' ? cut + pad : pad + cut;
}

export function clock(ms: number): string {
  const d = new Date(ms);
  return [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
}

const BARS = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/** The newest `width` values as a sparkline, scaled to their own maximum. */
export function sparkline(values: readonly number[], width: number): string {
  const shown = values.slice(-width);
  const max = Math.max(1, ...shown);
  const line = shown
    .map((v) => (v <= 0 ? ' ' : BARS[Math.min(BARS.length - 1, Math.floor((v / max) * (BARS.length - 1)))]!))
    .join('');
  return line.padStart(width, ' ');
}

export function compactNumber(n: number): string {
  if (n < 10_000) return String(n);
  if (n < 1_000_000) return `${(n / 1000).toFixed(n < 100_000 ? 1 : 0)}k`;
  return `${(n / 1_000_000).toFixed(1)}M`;
}
