/**
 * Terminal-safe text. Strings from Kafka and Redis may carry escape sequences
 * (colours, OSC title/clipboard writes, cursor moves), control characters,
 * bidi overrides and zero-width characters; none of them reach the terminal.
 */
import stripAnsi from 'strip-ansi';

// C0 and C1 controls (tab and newline included: a cell is one line), DEL.
const CONTROLS = /[\u0000-\u001f\u007f-\u009f]/g;
// Bidi embeddings, overrides and isolates, marks; zero-width and invisible formatting characters.
const INVISIBLE = /[\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff\u00ad\u180e]/g;
// OSC sequences ended by BEL or ST, in case strip-ansi leaves a malformed one.
const OSC = /\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)?/g;

export function sanitize(text: string): string {
  return stripAnsi(text.replace(OSC, ''))
    .replace(/[\t\r\n]+/g, ' ')
    .replace(CONTROLS, '')
    .replace(INVISIBLE, '');
}
