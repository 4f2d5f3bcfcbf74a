/**
 * Terminal-safe text that still says what it holds. Strings from Kafka and Redis may carry escape
 * sequences (colours, OSC title/clipboard writes, cursor moves), control characters, bidi overrides,
 * zero-width, invisible and broken characters; none of them reach the terminal. They are shown escaped,
 * never removed: `user-\e[31m01` is drawn `user-\u001b[31m01`, not `user-01` (which reads as another,
 * real user). Every escape is printable ASCII, so the text's width is what string-width says.
 */

// C0 and C1 controls (ESC included, alone, unfinished or opening a whole sequence: the sequence's other
// characters are printable and drawn as they are), DEL. Tab and newline too: a cell is one line.
// Bidi embeddings, overrides and isolates, marks; zero-width and invisible formatting characters; the
// line and paragraph separators; the interlinear annotation characters (U+FFF9-FFFB). The zero-width
// joiner (U+200D) is among them: between two emoji it is removed (see JOINED_EMOJI), elsewhere escaped.
const UNSEEN =
  /[\u0000-\u001f\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2028\u2029\u2060-\u2069\ufeff\ufff9-\ufffb]/g;
// A zero-width joiner between two emoji: removed, as before, so that a ZWJ sequence shows as its emoji
// one by one (terminals disagree on the width of a joined one; each alone is two columns everywhere).
const JOINED_EMOJI = /(?<=\p{Extended_Pictographic}[\ufe0e\ufe0f]?)\u200d(?=\p{Extended_Pictographic})/gu;
// Lone surrogates (in a `u` regex a class of surrogates matches only unpaired ones) and the tag
// characters U+E0000-E007F, which carry text no one sees.
const LONE_SURROGATES_AND_TAGS = /[\ud800-\udfff\u{e0000}-\u{e007f}]/gu;
// Variation selectors (U+FE00-FE0F, U+E0100-E01EF): one text or emoji selector right after an emoji
// is part of its sequence and kept; any other is escaped.
const SELECTORS = /(\p{Emoji})([\ufe0e\ufe0f])?|[\ufe00-\ufe0f\u{e0100}-\u{e01ef}]/gu;
// Cheap pre-checks: most strings hold none of them, and skip the replaces.
const ANY_UNSEEN =
  /[\u0000-\u001f\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2028\u2029\u2060-\u2069\ufeff\ufff9-\ufffb]/;
const ANY_SURROGATE = /[\ud800-\udfff]/;
const ANY_SELECTOR = /[\ufe00-\ufe0f]|\udb40[\udd00-\uddef]/;

const SHORT: Record<string, string> = { '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/**
 * One character as it would be written in a JavaScript or JSON string: `\t`, `\n`, `\r`, `\u001b`,
 * `\u202e`; one beyond the BMP as `\u{e0041}`.
 */
export function escapeCharacter(c: string): string {
  const short = SHORT[c];
  if (short) return short;
  const code = c.codePointAt(0)!;
  return code > 0xffff ? `\\u{${code.toString(16)}}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

export function sanitize(text: string): string {
  let out = text;
  // Selectors first: the escapes below hold digits, which are emoji to \p{Emoji}.
  if (ANY_SELECTOR.test(out)) {
    out = out.replace(SELECTORS, (match: string, emoji?: string, selector?: string) =>
      emoji ? emoji + (selector ?? '') : escapeCharacter(match),
    );
  }
  if (ANY_UNSEEN.test(out)) {
    if (out.includes('\u200d')) out = out.replace(JOINED_EMOJI, '');
    out = out.replace(UNSEEN, escapeCharacter);
  }
  if (ANY_SURROGATE.test(out)) out = out.replace(LONE_SURROGATES_AND_TAGS, escapeCharacter);
  return out;
}
