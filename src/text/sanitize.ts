/**
 * Terminal-safe text. Strings from Kafka and Redis may carry escape sequences
 * (colours, OSC title/clipboard writes, cursor moves), control characters,
 * bidi overrides, zero-width, invisible and broken characters; none of them reach the terminal.
 */
import stripAnsi from 'strip-ansi';

// C0 and C1 controls (tab and newline included: a cell is one line), DEL.
const CONTROLS = /[\u0000-\u001f\u007f-\u009f]/g;
// Bidi embeddings, overrides and isolates, marks; zero-width and invisible formatting characters; the
// line and paragraph separators; the interlinear annotation characters (U+FFF9-FFFB).
const INVISIBLE = /[\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff\u00ad\u180e\u2028\u2029\ufff9-\ufffb]/g;
// OSC sequences ended by BEL or ST, in case strip-ansi leaves a malformed one.
const OSC = /\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)?/g;
// Lone surrogates (in a `u` regex a class of surrogates matches only unpaired ones) and the tag
// characters U+E0000-E007F, which carry text no one sees.
const LONE_SURROGATES_AND_TAGS = /[\ud800-\udfff\u{e0000}-\u{e007f}]/gu;
// Variation selectors (U+FE00-FE0F, U+E0100-E01EF): one text or emoji selector right after an emoji
// is part of its sequence and kept; any other is removed.
const SELECTORS = /(\p{Emoji})([\ufe0e\ufe0f])?|[\ufe00-\ufe0f\u{e0100}-\u{e01ef}]/gu;
// Cheap pre-checks: most strings hold neither, and skip the `u` replaces.
const ANY_SURROGATE = /[\ud800-\udfff]/;
const ANY_SELECTOR = /[\ufe00-\ufe0f]|\udb40[\udd00-\uddef]/;

export function sanitize(text: string): string {
  let out = stripAnsi(text.replace(OSC, ''))
    .replace(/[\t\r\n]+/g, ' ')
    .replace(CONTROLS, '')
    .replace(INVISIBLE, '');
  if (ANY_SURROGATE.test(out)) out = out.replace(LONE_SURROGATES_AND_TAGS, '');
  if (ANY_SELECTOR.test(out)) {
    out = out.replace(SELECTORS, (_match, emoji?: string, selector?: string) =>
      emoji ? emoji + (selector ?? '') : '',
    );
  }
  return out;
}
