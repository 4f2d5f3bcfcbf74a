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
