/**
 * One JSON line that is safe to land on a terminal: JSON.stringify already escapes C0 controls (ESC
 * included) and lone surrogates; this also escapes DEL, C1 controls, the line and paragraph separators,
 * bidi controls and invisible characters, which JSON allows raw. The value parsed back is the same.
 */
const UNSAFE_IN_JSON = /[\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g;

export function jsonLine(value: unknown): string {
  return `${JSON.stringify(value).replace(UNSAFE_IN_JSON, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)}\n`;
}
