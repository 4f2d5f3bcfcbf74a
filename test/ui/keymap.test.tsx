/** Every key in the keymap does what the help overlay says it does. */
import { cleanup, render } from 'ink-testing-library';
import { afterEach, describe, expect, it } from 'vitest';
import { App } from '../../src/ui/App.js';
import { buildKeymap, footerHint, helpLines } from '../../src/ui/keymap.js';
import { HelpOverlay } from '../../src/ui/panels/HelpOverlay.js';
import { makeTheme } from '../../src/ui/theme.js';
import stringWidth from 'string-width';
import { FILTER_LENGTH } from '../../src/telemetry/row-filter.js';
import type { DashboardStore } from '../../src/ui/store.js';
import { makeStore, recordingActions } from './fixtures.js';
import { renderAt, settle, waitForFrame } from './render.js';

afterEach(() => cleanup());

const KEYS: [string, string, string][] = [
  ['s', 's', 'inject user_signup'],
  ['b', 'b', 'inject item_purchased'],
  ['r', 'r', 'inject password_reset'],
  ['j', 'j', 'move 1'],
  ['k', 'k', 'move -1'],
  ['down arrow', '\u001B[B', 'move 1'],
  ['up arrow', '\u001B[A', 'move -1'],
  ['e', 'e', 'toggle email'],
  ['m', 'm', 'toggle sms'],
  ['p', 'p', 'toggle push'],
  ['c', 'c', 'toggle console'],
  ['space', ' ', 'pause'],
  ['+', '+', 'rate 1'],
  ['-', '-', 'rate -1'],
  ['?', '?', 'help'],
  ['Esc', '\u001B', 'close'],
  ['q', 'q', 'quit'],
  ['Ctrl-C', '\u0003', 'quit'],
  ['Tab', '\t', 'focus 1'],
  ['Shift-Tab', '\u001B[Z', 'focus -1'],
  ['Enter', '\r', 'detail'],
  ['/', '/', 'filter'],
  ['d', 'd', 'dead letters'],
  ['l', 'l', 'partitions'],
  ['x', 'x', 'export'],
];

/** Keys act by what the screen shows: typed text goes to the filter, R replays only over dead letters. */
const MODE_KEYS: [string, Record<string, unknown>, string, string][] = [
  ['q while typing a filter', { filterDraft: '' }, 'q', 'type q'],
  ['Backspace while typing a filter', { filterDraft: 'ab' }, '\u007F', 'erase'],
  ['Enter while typing a filter', { filterDraft: 'ab' }, '\r', 'apply'],
  ['Esc while typing a filter', { filterDraft: 'ab' }, '\u001B', 'close'],
  ['R over the dead letters', { view: 'deadletters' }, 'R', 'replay'],
  ['Enter over the dead letters', { view: 'deadletters' }, '\r', 'detail'],
  ['y to a question', { confirm: { question: 'Replay?', letter: { partition: 0, offset: '1' } } }, 'y', 'answer true'],
  ['n to a question', { confirm: { question: 'Replay?', letter: { partition: 0, offset: '1' } } }, 'n', 'answer false'],
  ['j in the detail', { view: 'detail' }, 'j', 'move 1'],
];

/** Esc and the next key in one read arrive as Alt+key; they act as the two keys the user pressed. */
const ESC_THEN: [string, Record<string, unknown>, string, string[]][] = [
  ['Esc q over the dead letters', { view: 'deadletters' }, '\u001Bq', ['close', 'quit']],
  ['Esc s in the panels', {}, '\u001Bs', ['close', 'inject user_signup']],
  ['Esc j in the detail', { view: 'detail' }, '\u001Bj', ['close', 'move 1']],
  ['Esc Tab in the panels', {}, '\u001B\t', ['close', 'focus 1']],
  ['Esc ↓ in the detail', { view: 'detail' }, '\u001B\u001B[B', ['close', 'move 1']],
  ['Esc Enter in the panels', {}, '\u001B\r', ['close', 'detail']],
  ['Esc / in the panels', {}, '\u001B/', ['close', 'filter']],
  ['Esc + in the panels', {}, '\u001B+', ['close', 'rate 1']],
  ['Esc ? in the panels', {}, '\u001B?', ['close', 'help']],
  ['Esc Esc in the detail', { view: 'detail' }, '\u001B\u001B', ['close', 'close']],
];

/** The actions `sequence` takes on a dashboard in `state`, once at least `count` of them were taken. */
async function actionsOf(state: Record<string, unknown>, sequence: string, count = 1): Promise<string[]> {
  const { store } = makeStore();
  store.setState(state);
  const actions = recordingActions();
  const r = renderAt(<App store={store} actions={actions} color={false} />, 120, 40);
  await settle();
  r.stdin.write(sequence);
  await waitForFrame(
    () => actions.calls.join('|'),
    (c) => c.length > 0 && c.split('|').length >= count,
    `the action(s) for ${JSON.stringify(sequence)}`,
  );
  return actions.calls;
}

describe('keys', () => {
  it.each(KEYS)('%s → %s', async (_name, sequence, expected) => {
    expect(await actionsOf({}, sequence)).toEqual([expected]);
  });

  it.each(MODE_KEYS)('%s → %s', async (_name, state, sequence, expected) => {
    expect(await actionsOf(state, sequence)).toEqual([expected]);
  });

  it.each(ESC_THEN)('%s', async (_name, state, sequence, expected) => {
    expect(await actionsOf(state, sequence, expected.length)).toEqual(expected);
  });

  it('ignores keys that act elsewhere: s, R and y do nothing in the panels while no question waits', async () => {
    const { store } = makeStore();
    store.setState({ view: 'partitions' });
    const actions = recordingActions();
    const r = renderAt(<App store={store} actions={actions} color={false} />, 120, 40);
    await settle();
    for (const key of ['s', 'R', 'y', 'e', 'x']) r.stdin.write(key);
    r.stdin.write('?');
    await waitForFrame(
      () => actions.calls.join('|'),
      (c) => c.length > 0,
      'the ? action',
    );
    expect(actions.calls).toEqual(['help']);
  });

  it('ignores keys that are bound to nothing', async () => {
    const { store } = makeStore();
    const actions = recordingActions();
    const r = renderAt(<App store={store} actions={actions} color={false} />, 120, 40);
    await settle();
    for (const key of ['X', 'z', 'Q', '1', 'R', 'y']) r.stdin.write(key);
    r.stdin.write('?');
    await waitForFrame(
      () => actions.calls.join('|'),
      (c) => c.length > 0,
      'the ? action',
    );
    expect(actions.calls).toEqual(['help']);
  });
});

describe('one keymap feeds the footer and the help overlay', () => {
  it('the footer names every group of keys where the line has room', async () => {
    const { store } = makeStore();
    const r = renderAt(<App store={store} actions={recordingActions()} color={false} />, 200, 40);
    expect(footerLine(r.frame())).toBe(
      's/b/r inject  ↑↓ move  e/m/p/c/w toggle  Tab focus  Enter detail  / filter  d dead letters  l partitions  S scheduled  x export  space pause  +/- rate  ? help  q quit',
    );
  });

  it('the help overlay lists every binding and the log file', async () => {
    const { store } = makeStore();
    // Tall enough for every line at once (at 40 rows the help scrolls).
    const r = renderAt(<App store={store} actions={recordingActions()} color={false} />, 120, 50);
    store.setState({ help: true });
    const frame = await waitForFrame(r.frame, (f) => f.includes('Keys'), 'the help overlay');
    const bindings = buildKeymap(store.getState().eventTypes, store.getState().channels);
    for (const line of helpLines(bindings)) expect(frame).toContain(line.description);
    expect(frame).toContain('Logs (kafkajs and the app): /tmp/etui.log');
    expect(frame).toContain('on*       Users: on, but the user has no address for the channel');
    expect(footerHint(bindings)).toBe(
      's/b/r inject  ↑↓ move  e/m/p/c/w toggle  Tab focus  Enter detail  / filter  d dead letters  l partitions  S scheduled  x export  space pause  +/- rate  ? help  q quit',
    );
    expect(footerHint(bindings, 'deadletters')).toBe(
      'Esc close  ↑↓ move  Enter open  d dead letters  R replay  ? help  q quit',
    );
    expect(footerHint(bindings, 'filter')).toBe('Esc clear  Enter apply  Ctrl-C quit');
    expect(footerHint(bindings, 'confirm')).toBe('Esc cancel  y/n answer  Ctrl-C quit');
    // Where the line is tight (120 and 80 columns leave 119 and 79), the last hints give way to `…`,
    // never help or quit.
    expect(footerHint(bindings, 'main', 119)).toBe(
      's/b/r inject  ↑↓ move  e/m/p/c/w toggle  Tab focus  Enter detail  / filter  d dead letters  …  ? help  q quit',
    );
    expect(footerHint(bindings, 'main', 79)).toBe(
      's/b/r inject  ↑↓ move  e/m/p/c/w toggle  Tab focus  …  ? help  q quit',
    );
  });
});

/** The footer: the frame's last line. */
const footerLine = (frame: string): string => frame.split('\n').at(-1)!.trimEnd();

/** Each key mode: how to enter it, how its footer starts, and how it says to quit. */
const MODES: [string, (store: DashboardStore) => void, string, string][] = [
  ['main', () => undefined, 's/b/r inject', 'q quit'],
  [
    'main, with a long notice',
    (s) =>
      s.setState({
        notice: { text: `exported to ${'/very/long/path'.repeat(20)}`, tone: 'info', at: s.getState().now },
      }),
    'exported to /very',
    'q quit',
  ],
  ['filter', (s) => s.setState({ filterDraft: 'user-0' }), 'filter /user-0▏', 'Ctrl-C quit'],
  ['filter, a long one', (s) => s.setState({ filterDraft: 'x'.repeat(FILTER_LENGTH) }), 'filter /xxx', 'Ctrl-C quit'],
  [
    'confirm',
    (s) =>
      s.setState({
        view: 'deadletters',
        confirm: {
          question: `y/n: replay ${'a-long-topic-name'.repeat(8)}.dlq/1/0 (delivery-failed, email only) to user_events?`,
          letter: { partition: 1, offset: '0' },
        },
      }),
    'y/n: replay a-long',
    'Ctrl-C quit',
  ],
  ['help', (s) => s.setState({ help: true }), 'Esc close  ↑↓ move', 'q quit'],
  [
    'detail',
    (s) =>
      s.setState({
        view: 'detail',
        detail: {
          key: 'e1',
          from: { eventId: 'e1', type: 'user_signup', userId: 'user-01', where: 'user_events p0@1' },
          data: null,
        },
      }),
    'Esc close  ↑↓ move',
    'q quit',
  ],
  ['deadletters', (s) => s.setState({ view: 'deadletters' }), 'Esc close  ↑↓ move  Enter open', 'q quit'],
  ['letter', (s) => s.setState({ view: 'letter' }), 'Esc close  ↑↓ move  R replay', 'q quit'],
  ['partitions', (s) => s.setState({ view: 'partitions' }), 'Esc close  ↑↓ move', 'q quit'],
];

describe('the footer at any width', () => {
  for (const columns of [80, 120]) {
    it.each(MODES)(
      `at ${columns} columns, in %s, keeps how to get help and how to quit, within the width`,
      async (mode, enter, first, quit) => {
        const { store } = makeStore();
        enter(store);
        const r = renderAt(<App store={store} actions={recordingActions()} color={false} />, columns, 40);
        const frame = await waitForFrame(
          r.frame,
          (f) => footerLine(f).startsWith(first) && footerLine(f).includes(quit),
          `the footer of ${mode}`,
        );
        const footer = footerLine(frame);
        // ? acts in every mode but where it is typed (filter) or a y/n is asked.
        if (quit === 'q quit') expect(footer).toContain('? help');
        expect(footer).toContain(quit);
        for (const line of frame.split('\n')) expect(stringWidth(line), line).toBeLessThanOrEqual(columns - 1);
      },
    );
  }

  it('at every width from 80 to 200, in every mode, the hints end with help and quit and fit', () => {
    const { store } = makeStore();
    const bindings = buildKeymap(store.getState().eventTypes, store.getState().channels);
    for (const mode of [
      'main',
      'filter',
      'confirm',
      'help',
      'detail',
      'deadletters',
      'letter',
      'partitions',
    ] as const) {
      for (let width = 79; width <= 199; width++) {
        const hint = footerHint(bindings, mode, width);
        expect(stringWidth(hint), `${mode} at ${width}`).toBeLessThanOrEqual(width);
        expect(
          hint.endsWith(mode === 'filter' || mode === 'confirm' ? 'Ctrl-C quit' : '? help  q quit'),
          `${mode} at ${width}: ${hint}`,
        ).toBe(true);
      }
    }
  });
});

describe('the help overlay, drawn in a scrolling view', () => {
  it('draws the keys in a cyan column, the log file, where it is, and how to close it under the lines', () => {
    const keys = [
      { keys: 's/b/r', description: 'inject an event' },
      { keys: '↑↓ j/k', description: 'move' },
      { keys: 'q', description: 'quit' },
    ];
    const r = render(
      <HelpOverlay keys={keys} logFile="/tmp/etui.log" theme={makeTheme(true)} width={60} height={8} scroll={1} />,
    );
    const esc = (open: number, close: number) => (s: string) => `\u001b[${open}m${s}\u001b[${close}m`;
    const [cyan, bold, dim] = [esc(36, 39), esc(1, 22), esc(2, 22)];
    const row = (inner: string, pad: number) => `${cyan('║')} ${inner}${' '.repeat(pad)} ${cyan('║')}`;
    expect(r.lastFrame()).toBe(
      [
        cyan(`╔${'═'.repeat(58)}╗`),
        row(bold('Keys · lines 2-5 of 7 (↑↓)'), 30),
        row(`${cyan('↑↓ j/k    ')}move`, 42),
        row(`${cyan('q         ')}quit`, 42),
        row(cyan(' '.repeat(10)), 46),
        row(`${cyan(' '.repeat(10))}Logs (kafkajs and the app): /tmp/etui.log`, 5),
        row(dim('Press Esc or ? to close.'), 32),
        cyan(`╚${'═'.repeat(58)}╝`),
      ].join('\n'),
    );
  });
});
