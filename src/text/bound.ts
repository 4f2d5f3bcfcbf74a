/**
 * Strings the dashboard keeps are bounded when they enter its store: a summary, a name or a key may be
 * as long as the 1 MiB an event may be, and every frame and every copy would pay for it.
 */

/** Code units kept of any one string: more than the widest cell of any terminal shows. */
export const KEPT_LENGTH = 1024;

/** `text` as it is when short enough, else its first `max` code units (never half a surrogate pair) and an ellipsis. */
export function bound(text: string, max = KEPT_LENGTH): string {
  if (text.length <= max) return text;
  const last = text.charCodeAt(max - 1);
  const end = last >= 0xd800 && last <= 0xdbff ? max - 1 : max;
  return `${text.slice(0, end)}…`;
}
