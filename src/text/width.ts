import stringWidth from 'string-width';

/**
 * Terminal width without string-width's grapheme segmentation, for the characters a dashboard row is
 * made of: printable ASCII, Latin-1, punctuation (… ·), arrows, box drawing and block elements (the
 * sparklines). Each is one column, except the few that string-width counts as emoji (two columns).
 * A test checks every character against string-width; anything else returns undefined (ask string-width).
 */
const NARROW_RANGES: readonly (readonly [number, number])[] = [
  [0x20, 0x7e],
  [0xa0, 0xff],
  [0x2010, 0x2027],
  [0x2030, 0x205e],
  [0x2190, 0x21ff],
  [0x2500, 0x25ff],
];
const NOT_NARROW = new Set([
  0xa9, 0xad, 0xae, 0x203c, 0x2049, 0x2194, 0x2195, 0x2196, 0x2197, 0x2198, 0x2199, 0x21a9, 0x21aa, 0x25aa, 0x25ab,
  0x25b6, 0x25c0, 0x25fb, 0x25fc, 0x25fd, 0x25fe,
]);

export function isNarrow(code: number): boolean {
  if (code >= 0x20 && code <= 0x7e) return true;
  if (NOT_NARROW.has(code)) return false;
  for (const [from, to] of NARROW_RANGES) if (code >= from && code <= to) return true;
  return false;
}

/** The width of `text` if every character in it is narrow, else undefined. */
export function narrowWidth(text: string): number | undefined {
  for (let i = 0; i < text.length; i++) if (!isNarrow(text.charCodeAt(i))) return undefined;
  return text.length;
}

/** The columns `text` takes: counted here when every character is narrow, else by string-width. */
export function textWidth(text: string): number {
  return narrowWidth(text) ?? stringWidth(text);
}

const graphemes = new Intl.Segmenter();

/**
 * Code units looked at per column of room: enough for long clusters (a ZWJ family is 11 units for 2
 * columns; a few stacked accents), never a whole long string.
 */
const UNITS_PER_COLUMN = 8;

/** How much of a string can matter to a cell `width` columns wide: a prefix this long decides what it shows. */
export function windowFor(width: number): number {
  return width * UNITS_PER_COLUMN + 64;
}

// string-width costs tens of microseconds a grapheme (it segments again, and builds its emoji regex
// each call); text repeats its graphemes, so their widths are kept (bounded: emptied when full).
const widths = new Map<string, number>();
const WIDTHS_KEPT = 4096;

function graphemeWidth(grapheme: string): number {
  if (grapheme.length === 1 && isNarrow(grapheme.charCodeAt(0))) return 1;
  let width = widths.get(grapheme);
  if (width === undefined) {
    width = stringWidth(grapheme);
    if (widths.size >= WIDTHS_KEPT) widths.clear();
    if (grapheme.length <= 32) widths.set(grapheme, width);
  }
  return width;
}

/**
 * `text` cut to at most `width` columns, with an ellipsis where it was cut, and the columns it takes.
 * The cost follows `width`, never the string's length: only a prefix of `windowFor(width)` code units is
 * looked at, and its graphemes only until the room is used. `more` says `text` is itself a prefix of a
 * longer string (so it is cut, and its last grapheme may be incomplete).
 */
export function cutToWidth(text: string, width: number, more = false): { text: string; width: number } {
  if (width <= 0) return { text: '', width: 0 };
  const window = text.length > windowFor(width) ? text.slice(0, windowFor(width)) : text;
  const cut = more || window.length < text.length;
  // Fast path: one column a character (most rows, at thousands of rows a second). Looking at one character
  // past the room tells whether it fits.
  const probe = Math.min(window.length, width + 1);
  let narrow = true;
  for (let i = 0; i < probe; i++) {
    if (!isNarrow(window.charCodeAt(i))) {
      narrow = false;
      break;
    }
  }
  if (narrow) {
    if (window.length <= width && !cut) return { text: window, width: window.length };
    // The character after the cut is narrow too, so the cut falls between two graphemes.
    if (window.length > width) return { text: `${window.slice(0, width - 1)}…`, width };
  }
  let used = 0;
  let fitEnd = 0; // where the text ends that leaves a column for the ellipsis
  let fitUsed = 0;
  for (const { segment, index } of graphemes.segment(window)) {
    const end = index + segment.length;
    if (cut && end >= window.length) break; // possibly a grapheme cut in half
    used += graphemeWidth(segment);
    if (used > width) return { text: `${window.slice(0, fitEnd)}…`, width: fitUsed + 1 };
    if (used <= width - 1) {
      fitEnd = end;
      fitUsed = used;
    }
  }
  if (!cut) return { text: window, width: used };
  return { text: `${window.slice(0, fitEnd)}…`, width: fitUsed + 1 };
}
