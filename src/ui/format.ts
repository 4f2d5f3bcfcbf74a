/** Text that fits its cell: sanitized (what cannot be shown, escaped), cut to a display width, padded. */
import { sanitize } from '../text/sanitize.js';
import { cutToWidth, textWidth, windowFor } from '../text/width.js';

/**
 * Cuts `text` to at most `width` terminal columns (wide characters count double), with an ellipsis.
 * The cost follows `width`, not the length of `text` (see cutToWidth).
 */
export function truncate(text: string, width: number): string {
  return cutToWidth(text, width).text;
}

/**
 * Any string, sanitized and cut to at most `width` columns, and the columns it takes. Only the prefix
 * that can show is sanitized and measured: a string of a megabyte costs what a string of a cell costs.
 */
export function fit(text: string, width: number): { text: string; width: number } {
  const window = windowFor(width);
  const more = text.length > window;
  return cutToWidth(sanitize(more ? text.slice(0, window) : text), width, more);
}

/** A cell of exactly `width` columns from any string (sanitized first). */
export function cell(text: string, width: number, align: 'left' | 'right' = 'left'): string {
  const cut = fit(text, width);
  const pad = ' '.repeat(Math.max(0, width - cut.width));
  return align === 'left' ? cut.text + pad : pad + cut.text;
}

/**
 * An id in a cell of exactly `width` columns: whole when it fits, else its end after `…`. Ids of one
 * kind share their beginning (`gen-0424242`, `gen-0424243`): the end is what tells them apart.
 */
export function idCell(id: string, width: number): string {
  if (width <= 0) return '';
  const whole = fit(id, width + 1);
  if (whole.width <= width) return whole.text + ' '.repeat(width - whole.width);
  const chars = Array.from(sanitize(id.length > KEPT_ID ? id.slice(-KEPT_ID) : id));
  let tail = '';
  for (let i = chars.length - 1; i >= 0; i--) {
    if (textWidth(chars[i]! + tail) > width - 1) break;
    tail = chars[i]! + tail;
  }
  const text = `…${tail}`;
  return text + ' '.repeat(Math.max(0, width - textWidth(text)));
}

/** The end of an id looked at: more than any cell shows. */
const KEPT_ID = 256;

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
