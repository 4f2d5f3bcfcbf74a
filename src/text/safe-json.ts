/**
 * JSON for a terminal or a log viewer: JSON.stringify escapes C0 controls and lone surrogates; this
 * also escapes, as \uXXXX, DEL, every C1 control (U+0080-009F: a C1 CSI drives a terminal as ESC [
 * does), the line and paragraph separators (U+2028/2029: line breaks to some viewers) and the bidi
 * controls (U+200E/F, U+202A-202E, U+2066-2069: they reorder what is shown). These characters occur
 * only inside JSON strings, so the text is still valid JSON and parses to the same values.
 */
const UNSAFE = /[\u007f-\u009f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const ANY_UNSAFE = /[\u007f-\u009f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

const escape = (c: string): string => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;

export function safeJson(value: unknown, space?: number): string {
  const json = JSON.stringify(value, null, space);
  // The usual line holds none of them: one test, no copy.
  return ANY_UNSAFE.test(json) ? json.replace(UNSAFE, escape) : json;
}
