/** The footer's one line of key hints and the help's lines, both read from the keymap (bindings.ts). */
import { cutToWidth, textWidth } from '../../text/width.js';
import { COMMAND_INFO } from './commands.js';
import { actsIn, describe, type KeyBinding, type KeyMode } from './bindings.js';

/** One line of the help: the keys as written, and what they do. */
export interface HelpLine {
  keys: string;
  description: string;
}

/** The help's lines: one per binding, in keymap order. */
export function helpLines(bindings: readonly KeyBinding[]): HelpLine[] {
  return bindings.map((b) => ({ keys: b.keys, description: describe(b) }));
}

/** Footer labels shorter than the group names where the line is tight. */
const FOOTER_LABEL: Record<string, string> = { dlq: 'dead letters' };

/** Footer groups that stay whatever the width: how to get help and how to leave. */
const ESSENTIAL = new Set(['help', 'quit']);

/** One entry of the footer: `keys label`, and whether it stays when the line is tight. */
export interface FooterEntry {
  text: string;
  essential: boolean;
}

/** The footer's entries in the order shown: what closes the mode, then each group's keys, in keymap order. */
export function footerEntries(bindings: readonly KeyBinding[], mode: KeyMode = 'main'): FooterEntry[] {
  const groups = new Map<string, string[]>();
  for (const b of bindings) {
    const info = COMMAND_INFO[b.command];
    if (info.footer === false || !actsIn(b, mode)) continue;
    const keys = groups.get(info.group) ?? [];
    keys.push(b.keys.length > 1 ? b.keys.split('/')[0]! : b.keys);
    groups.set(info.group, keys);
  }
  const entries = [...groups.entries()].map(([g, keys]) => ({
    text: `${keys.join(g === 'move' ? '' : '/')} ${FOOTER_LABEL[g] ?? g}`,
    essential: ESSENTIAL.has(g),
  }));
  if (mode === 'main') return entries;
  const closes = mode === 'filter' ? 'clear' : mode === 'confirm' ? 'cancel' : 'close';
  return [{ text: `Esc ${closes}`, essential: false }, ...entries];
}

const SEPARATOR = '  ';
/** Stands for the entries left out: they are all under `?`. */
const LEFT_OUT = '…';

/**
 * The entries as one line of at most `width` columns. Where they do not all fit, the last of the others
 * are left out (a `…` says so) before any essential one: `? help` and `q quit` (`Ctrl-C quit` where q is
 * a letter) stay at any width the dashboard runs at.
 */
export function fitFooter(entries: readonly FooterEntry[], width: number): string {
  const line = (shown: readonly string[]): string => shown.join(SEPARATOR);
  const all = line(entries.map((e) => e.text));
  if (textWidth(all) <= width) return all;
  const essentials = entries.filter((e) => e.essential).map((e) => e.text);
  const others = entries.filter((e) => !e.essential).map((e) => e.text);
  for (let kept = others.length - 1; kept >= 0; kept--) {
    const shown = line([...others.slice(0, kept), LEFT_OUT, ...essentials]);
    if (textWidth(shown) <= width) return shown;
  }
  // No room for the `…`: the essential ones alone.
  return cutToWidth(line(essentials), width).text;
}

/** The footer's one line, at most `width` columns: each group's keys and what they do, in keymap order. */
export function footerHint(bindings: readonly KeyBinding[], mode: KeyMode = 'main', width = Infinity): string {
  return fitFooter(footerEntries(bindings, mode), width);
}

/** The columns the essential entries take: the least room a footer hint needs. */
export function footerMinimum(entries: readonly FooterEntry[]): number {
  return textWidth(
    entries
      .filter((e) => e.essential)
      .map((e) => e.text)
      .join(SEPARATOR),
  );
}
