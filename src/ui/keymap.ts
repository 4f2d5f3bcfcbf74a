/**
 * The one keymap: it feeds the input handler, the `?` help overlay and the
 * footer hint, so what the screen promises is what the keys do. Event-type and
 * channel keys come from the catalog.
 */
import type { Key } from 'ink';
import type { ChannelInfo, EventTypeInfo } from './store.js';

/** What the keys can ask for; the dashboard's controller carries them out. */
export interface DashboardActions {
  inject(type: string): void;
  toggleChannel(channel: string): void;
  moveSelection(delta: number): void;
  togglePause(): void;
  changeRate(direction: 1 | -1): void;
  toggleHelp(): void;
  /** Closes the help (and any overlay there will be); nothing when none is open. */
  closeOverlay(): void;
  quit(): void;
}

export interface KeyBinding {
  /** How the key is written in the help and footer. */
  keys: string;
  description: string;
  /** Footer group: bindings of one group share a footer entry. */
  group: string;
  matches(input: string, key: Key): boolean;
  run(actions: DashboardActions): void;
  /** false: listed in the help only, not in the footer's one line. */
  footer?: false;
}

const is =
  (...chars: string[]) =>
  (input: string, key: Key): boolean =>
    !key.ctrl && !key.meta && chars.includes(input);

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
      description: 'select the previous user',
      group: 'select',
      matches: (input, key) => key.upArrow || is('k')(input, key),
      run: (a) => a.moveSelection(-1),
    },
    {
      keys: '↓/j',
      description: 'select the next user',
      group: 'select',
      matches: (input, key) => key.downArrow || is('j')(input, key),
      run: (a) => a.moveSelection(1),
    },
    ...channels.map((c): KeyBinding => ({
      keys: c.toggleKey,
      description: `toggle ${c.label} for the selected user (writes prefs:<id> in Redis)`,
      group: 'toggle',
      matches: is(c.toggleKey),
      run: (a) => a.toggleChannel(c.name),
    })),
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
    { keys: '?', description: 'show / hide this help', group: 'help', matches: is('?'), run: (a) => a.toggleHelp() },
    {
      keys: 'Esc',
      description: 'close this help',
      group: 'help',
      matches: (_input, key) => key.escape,
      run: (a) => a.closeOverlay(),
      footer: false,
    },
    {
      keys: 'q/Ctrl-C',
      description: 'quit: stop producing, settle and commit the batch in flight, disconnect',
      group: 'quit',
      matches: (input, key) => is('q')(input, key) || (key.ctrl && input === 'c'),
      run: (a) => a.quit(),
    },
  ];
}

/** The footer's one line: each group's keys and what they do, in keymap order. */
export function footerHint(bindings: readonly KeyBinding[]): string {
  const groups = new Map<string, string[]>();
  for (const b of bindings) {
    if (b.footer === false) continue;
    const keys = groups.get(b.group) ?? [];
    keys.push(b.keys.split('/')[0]!);
    groups.set(b.group, keys);
  }
  return [...groups.entries()].map(([g, keys]) => `${keys.join(g === 'select' ? '' : '/')} ${g}`).join('  ');
}

export function dispatchKey(
  bindings: readonly KeyBinding[],
  input: string,
  key: Key,
  actions: DashboardActions,
): boolean {
  const binding = bindings.find((b) => b.matches(input, key));
  if (!binding) return false;
  binding.run(actions);
  return true;
}
