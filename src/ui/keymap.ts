/**
 * The one keymap: it feeds the input handler, the `?` help overlay and the
 * footer hint, so what the screen promises is what the keys do. Event-type and
 * channel keys come from the catalog.
 */
import type { Key } from 'ink';
import { cutToWidth, textWidth } from '../text/width.js';
import type { ChannelInfo, DashboardState, EventTypeInfo } from './store.js';

/** What the keys can ask for; the dashboard's controller carries them out. */
export interface DashboardActions {
  inject(type: string): void;
  toggleChannel(channel: string): void;
  /** Users focused: the selected user; a row panel: its cursor; a view: its cursor or its scroll. */
  moveSelection(delta: number): void;
  togglePause(): void;
  changeRate(direction: 1 | -1): void;
  toggleHelp(): void;
  /** Closes the top overlay (help, detail, view, filter being typed, question); else clears the filter. */
  closeOverlay(): void;
  quit(): void;
  moveFocus(direction: 1 | -1): void;
  /** Enter: the detail of the row under the cursor, or of the selected dead letter. */
  openDetail(): void;
  startFilter(): void;
  typeFilter(text: string): void;
  eraseFilter(): void;
  applyFilter(): void;
  openDeadLetters(): void;
  openPartitions(): void;
  exportRows(): void;
  /** R: asks to replay the selected dead letter; `answer` is the y/n. */
  replayLetter(): void;
  answer(yes: boolean): void;
}

/**
 * Which keys act: the panels (main), the filter being typed, a question waiting for y/n, the help, or
 * one of the views over the panels.
 */
export type KeyMode = 'main' | 'filter' | 'confirm' | 'help' | 'detail' | 'deadletters' | 'letter' | 'partitions';

/** The mode the keys are in, from what the screen shows. */
export function keyMode(s: Pick<DashboardState, 'filterDraft' | 'confirm' | 'help' | 'view'>): KeyMode {
  if (s.filterDraft !== null) return 'filter';
  if (s.confirm) return 'confirm';
  if (s.help) return 'help';
  return s.view;
}

/** Rows PgUp / PgDn move. */
export const PAGE = 10;

const VIEWS: KeyMode[] = ['detail', 'deadletters', 'letter', 'partitions'];
const ALL_BUT_TYPING: KeyMode[] = ['main', 'help', ...VIEWS];

export interface KeyBinding {
  /** How the key is written in the help and footer. */
  keys: string;
  description: string;
  /** Footer group: bindings of one group share a footer entry. */
  group: string;
  /** Where the key acts; the panels only when absent. */
  in?: readonly KeyMode[];
  matches(input: string, key: Key): boolean;
  run(actions: DashboardActions, input: string): void;
  /** false: listed in the help only, not in the footer's one line. */
  footer?: false;
}

const is =
  (...chars: string[]) =>
  (input: string, key: Key): boolean =>
    !key.ctrl && !key.meta && chars.includes(input);

const printable = (input: string, key: Key): boolean =>
  !key.ctrl &&
  !key.meta &&
  !key.escape &&
  !key.return &&
  !key.tab &&
  input.length > 0 &&
  !/[\u0000-\u001f\u007f]/.test(input);

export function buildKeymap(eventTypes: readonly EventTypeInfo[], channels: readonly ChannelInfo[]): KeyBinding[] {
  return [
    ...eventTypes.map((e): KeyBinding => ({
      keys: e.key,
      description: `inject ${e.type} for the selected user`,
      group: 'inject',
      matches: is(e.key),
      run: (a) => a.inject(e.type),
    })),
    {
      keys: '↑/k',
      description: 'Users: select the previous user; Event stream, Deliveries: cursor up; views and help: up',
      group: 'move',
      in: ['main', 'help', ...VIEWS],
      matches: (input, key) => key.upArrow || is('k')(input, key),
      run: (a) => a.moveSelection(-1),
    },
    {
      keys: '↓/j',
      description: 'Users: select the next user; Event stream, Deliveries: cursor down (holds the panel); views: down',
      group: 'move',
      in: ['main', 'help', ...VIEWS],
      matches: (input, key) => key.downArrow || is('j')(input, key),
      run: (a) => a.moveSelection(1),
    },
    {
      keys: 'PgUp',
      description: 'a page up: Users (a million users page through in scan order), rows, views and help',
      group: 'move',
      in: ['main', 'help', ...VIEWS],
      matches: (_input, key) => key.pageUp,
      run: (a) => a.moveSelection(-PAGE),
      footer: false,
    },
    {
      keys: 'PgDn',
      description: 'a page down',
      group: 'move',
      in: ['main', 'help', ...VIEWS],
      matches: (_input, key) => key.pageDown,
      run: (a) => a.moveSelection(PAGE),
      footer: false,
    },
    ...channels.map((c): KeyBinding => ({
      keys: c.toggleKey,
      description: `toggle ${c.label} for the selected user (writes prefs:<id> in Redis)`,
      group: 'toggle',
      matches: is(c.toggleKey),
      run: (a) => a.toggleChannel(c.name),
    })),
    {
      keys: 'Tab',
      description: 'focus the next panel: Users, Event stream, Deliveries',
      group: 'focus',
      matches: (_input, key) => key.tab && !key.shift,
      run: (a) => a.moveFocus(1),
    },
    {
      keys: 'Shift-Tab',
      description: 'focus the previous panel',
      group: 'focus',
      matches: (_input, key) => key.tab && key.shift,
      run: (a) => a.moveFocus(-1),
      footer: false,
    },
    {
      keys: 'Enter',
      description: 'the detail of the row under the cursor: message, look-up, deliveries (its trace)',
      group: 'detail',
      matches: (_input, key) => key.return,
      run: (a) => a.openDetail(),
    },
    {
      keys: 'Enter',
      description: 'the selected dead letter: value (escaped) and headers',
      group: 'open',
      in: ['deadletters'],
      matches: (_input, key) => key.return,
      run: (a) => a.openDetail(),
    },
    {
      keys: '/',
      description: 'Users focused: search user ids; else filter the rows: id, user, type, channel, status, reason',
      group: 'filter',
      matches: is('/'),
      run: (a) => a.startFilter(),
    },
    {
      keys: 'text',
      description: 'type the filter (case-insensitive substring)',
      group: 'type',
      in: ['filter'],
      matches: printable,
      run: (a, input) => a.typeFilter(input),
      footer: false,
    },
    {
      keys: 'Backspace',
      description: 'erase the last character of the filter',
      group: 'type',
      in: ['filter'],
      matches: (_input, key) => key.backspace || key.delete,
      run: (a) => a.eraseFilter(),
      footer: false,
    },
    {
      keys: 'Enter',
      description: 'apply the filter',
      group: 'apply',
      in: ['filter'],
      matches: (_input, key) => key.return,
      run: (a) => a.applyFilter(),
    },
    {
      keys: 'd',
      description: 'dead letters of <topic>.dlq, newest first, read from Kafka (in the view: read again)',
      group: 'dlq',
      in: ['main', 'deadletters'],
      matches: is('d'),
      run: (a) => a.openDeadLetters(),
    },
    {
      keys: 'R',
      description:
        'replay the selected dead letter to the events topic (asks y/n; a letter from another topic is refused)',
      group: 'replay',
      in: ['deadletters', 'letter'],
      matches: is('R'),
      run: (a) => a.replayLetter(),
    },
    {
      keys: 'y',
      description: 'yes: do it',
      group: 'answer',
      in: ['confirm'],
      matches: is('y', 'Y'),
      run: (a) => a.answer(true),
    },
    {
      keys: 'n',
      description: 'no: leave it',
      group: 'answer',
      in: ['confirm'],
      matches: (input, key) => is('n', 'N')(input, key),
      run: (a) => a.answer(false),
    },
    {
      keys: 'l',
      description: 'partitions: committed and end offsets, lag, owner, events/s',
      group: 'partitions',
      matches: is('l'),
      run: (a) => a.openPartitions(),
    },
    {
      keys: 'x',
      description: 'export the stream and deliveries, as filtered, to eventstream-export-<time>.jsonl',
      group: 'export',
      matches: is('x'),
      run: (a) => a.exportRows(),
    },
    {
      keys: 'space',
      description: 'pause / resume the scheduled producer',
      group: 'pause',
      matches: is(' '),
      run: (a) => a.togglePause(),
    },
    {
      keys: '+',
      description: 'raise the producer rate',
      group: 'rate',
      matches: is('+', '='),
      run: (a) => a.changeRate(1),
    },
    {
      keys: '-',
      description: 'lower the producer rate',
      group: 'rate',
      matches: is('-', '_'),
      run: (a) => a.changeRate(-1),
    },
    {
      keys: '?',
      description: 'show / hide this help',
      group: 'help',
      in: ALL_BUT_TYPING,
      matches: is('?'),
      run: (a) => a.toggleHelp(),
    },
    {
      keys: 'Esc',
      description: 'close the help, detail or a view; typing a filter: clear it; else clear the filter or user search',
      group: 'close',
      in: ['main', 'filter', 'confirm', 'help', ...VIEWS],
      matches: (_input, key) => key.escape,
      run: (a) => a.closeOverlay(),
      footer: false,
    },
    {
      keys: 'q/Ctrl-C',
      description: 'quit: stop producing, settle and commit the batch in flight, disconnect',
      group: 'quit',
      in: ALL_BUT_TYPING,
      matches: (input, key) => is('q')(input, key) || (key.ctrl && input === 'c'),
      run: (a) => a.quit(),
    },
    {
      keys: 'Ctrl-C',
      description: 'quit, also while typing a filter or answering y/n (where q is a letter)',
      group: 'quit',
      in: ['filter', 'confirm'],
      matches: (input, key) => key.ctrl && input === 'c',
      run: (a) => a.quit(),
    },
  ];
}

const acts = (b: KeyBinding, mode: KeyMode): boolean => (b.in ?? ['main']).includes(mode);

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
    if (b.footer === false || !acts(b, mode)) continue;
    const keys = groups.get(b.group) ?? [];
    keys.push(b.keys.length > 1 ? b.keys.split('/')[0]! : b.keys);
    groups.set(b.group, keys);
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

export function dispatchKey(
  bindings: readonly KeyBinding[],
  input: string,
  key: Key,
  actions: DashboardActions,
  mode: KeyMode = 'main',
): boolean {
  const binding = bindings.find((b) => acts(b, mode) && b.matches(input, key));
  if (!binding) return false;
  binding.run(actions, input);
  return true;
}
