import type { Key } from 'ink';

/**
 * Ink hands keys that came in one read (typed fast, sent by tmux, pasted) over as one string: they are
 * split back into keystrokes here, so `Tab j j` moves focus and then the cursor twice.
 */
export function keystrokes(input: string, key: Key): [string, Key][] {
  // Esc and the next key in one read (typed fast, over ssh, sent by tmux) come as Alt+key: Alt+s,
  // Alt+/, Alt+Tab, Alt+↓ (the Ink patch marks Esc+punctuation as Alt too). No binding uses Alt, so
  // they are taken as what the user pressed: Esc, then the key.
  if (key.meta && !key.escape && !key.ctrl && Array.from(input).length <= 1) {
    return [['', ESCAPE], ...keystrokes(input, { ...key, meta: false })];
  }
  // Esc then Tab, on an Ink without the patch: the Esc is dropped and the tab comes as text.
  if (input === '\t' && !key.tab) return [['', { ...key, tab: true }]];
  if (input.length <= 1 || key.ctrl || key.meta || key.escape || input.includes('\u001b')) return [[input, key]];
  return Array.from(input).map((ch): [string, Key] => [
    ch === '\t' || ch === '\r' ? '' : ch,
    { ...key, tab: ch === '\t', return: ch === '\r', shift: ch !== ch.toLowerCase() },
  ]);
}

/** The Esc key alone, as Ink describes it. */
const ESCAPE: Key = {
  upArrow: false,
  downArrow: false,
  leftArrow: false,
  rightArrow: false,
  pageDown: false,
  pageUp: false,
  home: false,
  end: false,
  return: false,
  escape: true,
  ctrl: false,
  shift: false,
  tab: false,
  backspace: false,
  delete: false,
  meta: true,
  super: false,
  hyper: false,
  capsLock: false,
  numLock: false,
};
