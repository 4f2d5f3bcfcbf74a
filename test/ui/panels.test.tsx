/** Each panel shows what the pipeline reported, safely, in the room it has. */
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup } from 'ink-testing-library';
import stripAnsi from 'strip-ansi';
import { App } from '../../src/ui/App.js';
import type { Outcome } from '../../src/telemetry/outcomes.js';
import type { UserRow } from '../../src/ui/store.js';
import { flow, makeStore, recordingActions, T0 } from './fixtures.js';
import { renderAt, waitForFrame } from './render.js';

afterEach(() => cleanup());

const draw = (outcomes: Outcome[], columns = 120, rows = 40, color = false) => {
  const { store, collector } = makeStore(outcomes);
  const r = renderAt(<App store={store} actions={recordingActions()} color={color} />, columns, rows);
  return { ...r, store, collector };
};

/** The SGR styles Ink draws with (bold, dim, inverse, colours). */
const INK_STYLE = /\u001b\[[0-9;]*m/g;
const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202e\u200b]/;

const lineWith = (frame: string, ...parts: string[]): string | undefined =>
  frame.split('\n').find((l) => parts.every((p) => l.includes(p)));

describe('status bar', () => {
  it('shows brokers, topic and partitions, group, assigned partitions, lag, Redis, producer and clock', async () => {
    const { frame, store } = draw([
      { kind: 'connection', service: 'kafka', state: 'connected', detail: '', at: T0 },
      { kind: 'connection', service: 'redis', state: 'connected', detail: '', at: T0 },
      { kind: 'assignment', partitions: [0, 1, 2], at: T0 },
    ]);
    const f = frame();
    expect(f).toMatch(
      /Kafka localhost:9092 connected {2}topic user_events×3 {2}Redis redis:\/\/127\.0\.0\.1:6379 connected/,
    );
    expect(f).toMatch(/group notification-service partitions \[0,1,2\] {2}lag 0 {2}producer 1\/s/);
    expect(f).toMatch(/\d\d:\d\d:\d\d/);
    store.setState({ producer: { rate: 1, paused: true } });
    await waitForFrame(frame, (f) => /producer paused/.test(f), 'the paused producer');
  });

  it('says when Kafka is in error, with the reason and the hint', () => {
    const { frame } = draw([
      {
        kind: 'connection',
        service: 'kafka',
        state: 'error',
        detail: 'localhost:9092 not answering; start it with `eventstream-tui stack up`',
        at: T0,
      },
    ]);
    expect(frame()).toMatch(/Kafka localhost:9092 error/);
    expect(frame()).toMatch(/⚠ Kafka: localhost:9092 not answering; start it with `eventstream-tui stack up`/);
  });

  it("names each channel's transport once one is real, whether it answers, and still fits 80×24", () => {
    const transports: Outcome[] = [
      { kind: 'transport', channel: 'email', via: 'smtp://mail.example.com:587', answers: true, at: T0 },
      { kind: 'transport', channel: 'sms', via: 'mock', at: T0 },
      { kind: 'transport', channel: 'push', via: 'mqtt://broker:1883', answers: false, at: T0 },
      { kind: 'transport', channel: 'console', via: 'mock', at: T0 },
      { kind: 'transport', channel: 'webhook', via: 'mock', at: T0 },
    ];
    const wide = draw(transports).frame();
    expect(wide).toContain(
      'transports  email smtp://mail.example.com:587 answers · push mqtt://broker:1883 unreachable · sms console webhook mock',
    );
    const narrow = draw(transports, 80, 24).frame();
    expect(narrow.split('\n')).toHaveLength(24);
    expect(lineWith(narrow, 'transports  email smtp://mail.example.com:587 answers')).toBeDefined();
    // Every channel on the mock: no such line.
    expect(draw([]).frame()).not.toContain('transports  ');
  });
});

describe('event stream', () => {
  it('shows time, type, user, partition@offset and a payload summary, newest first', () => {
    const { frame } = draw([...flow('e1', 'user-01'), ...flow('e2', 'user-02', 'item_purchased', T0 + 1000)]);
    const f = frame();
    const first = f.search(/item_purchased +user-02/);
    const second = f.search(/user_signup +user-01/);
    expect(first).toBeGreaterThan(0);
    expect(second).toBeGreaterThan(first);
    expect(lineWith(f, 'user_signup', 'user-01', '1@41', 'plan=pro')).toBeDefined();
  });
});

describe('event stream header', () => {
  it('names the columns, so 2@0 reads as partition@offset', () => {
    const { frame } = draw(flow('e1', 'user-01'));
    expect(frame()).toMatch(/│time {5}type {11}user {5}p@offset {2}summary/);
    expect(frame()).toMatch(/│\d\d:\d\d:\d\d user_signup {4}user-01 {2}1@41 {6}plan=pro/);
  });
});

describe('throughput latency', () => {
  it.each([
    [80, 24],
    [100, 30],
    [120, 40],
    [200, 50],
  ])('shows p50, p95 and p99 whole at %i×%i', async (columns, rows) => {
    const { frame, store } = draw([], columns, rows);
    const snapshot = store.getState().snapshot;
    store.setState({ snapshot: { ...snapshot, latency: { p50: 12, p95: 450, p99: 12_345, samples: 100 } } });
    const latency = lineWith(await waitForFrame(frame, (f) => f.includes('12.3s'), 'the latency'), '12.3s');
    // whole: each figure with its unit, inside the panel's border
    expect(latency).toMatch(
      /│(latency {1,2})?p50 12ms {1,2}p95 450ms {1,2}p99 12\.3s *│|│p50\/95\/99 0\.0\/0\.5\/12\.3s *│/,
    );
  });
});

describe('Redis look-ups', () => {
  it('shows the user, which channels are on, found or unknown, and the latency', () => {
    const { frame } = draw([
      {
        kind: 'lookup',
        eventId: 'e1',
        userId: 'user-01',
        found: true,
        channelsOn: ['email', 'console'],
        latencyMs: 2,
        at: T0,
      },
      { kind: 'lookup', eventId: 'e2', userId: 'ghost', found: false, channelsOn: [], latencyMs: 1, at: T0 + 1 },
    ]);
    expect(lineWith(frame(), 'user-01', 'E··C', 'found', '2ms')).toBeDefined();
    expect(lineWith(frame(), 'ghost', '????', 'unknown', '1ms')).toBeDefined();
  });
});

describe('deliveries', () => {
  it('shows channel, recipient, status with reason, and the message text', () => {
    const base = {
      kind: 'delivery' as const,
      eventId: 'e1',
      type: 'user_signup',
      userId: 'user-02',
      latencyMs: 3,
      attempts: 1,
      at: T0,
    };
    const { frame } = draw([
      {
        ...base,
        channel: 'email',
        status: 'sent',
        reason: null,
        address: 'alan@example.com',
        text: 'Subject: Welcome to Eventstream',
      },
      { ...base, channel: 'sms', status: 'skipped', reason: 'opted-out' },
      { ...base, channel: 'push', status: 'duplicate', reason: 'already-sent', address: 'ptk_1' },
      { ...base, channel: 'console', status: 'failed', reason: 'provider down', address: 'Alan' },
      {
        kind: 'deadletter',
        reason: 'invalid-json',
        detail: 'Unexpected end of JSON input',
        topic: 'user_events',
        partition: 2,
        offset: '17',
        key: 'k1',
        at: T0,
      },
    ]);
    const f = frame();
    expect(lineWith(f, 'email', 'alan@example.com', 'sent', 'Subject: Welc')).toBeDefined();
    expect(lineWith(f, 'sms', 'user-02', 'skipped opted-out')).toBeDefined();
    expect(lineWith(f, 'push', 'duplicate already-sent')).toBeDefined();
    expect(lineWith(f, 'console', 'failed provider down')).toBeDefined();
    expect(lineWith(f, 'dlq', 'k1', 'dead letter', 'invalid-json')).toBeDefined();
  });

  it('colours each status (and not when colour is off)', () => {
    const outcome: Outcome = {
      kind: 'delivery',
      eventId: 'e1',
      type: 'user_signup',
      userId: 'u',
      channel: 'email',
      status: 'failed',
      reason: 'x',
      latencyMs: 1,
      attempts: 4,
      at: T0,
    };
    const coloured = draw([outcome], 120, 40, true).lastFrame() ?? '';
    expect(coloured).toMatch(/\u001b\[31mfailed x/);
    cleanup();
    const plain = draw([outcome], 120, 40, false).lastFrame() ?? '';
    expect(plain).not.toMatch(/\u001b\[3[0-7]m|\u001b\[9[0-7]m/);
  });
});

describe('throughput', () => {
  it('shows per-second rates with 60 s sparklines, totals and latency percentiles', async () => {
    const outcomes: Outcome[] = [];
    for (let s = 0; s < 5; s++)
      for (let i = 0; i <= s; i++) outcomes.push(...flow(`e${s}-${i}`, 'user-01', 'user_signup', T0 + s * 1000 + i));
    // one more event in the sixth second closes the fifth
    outcomes.push({
      kind: 'produced',
      eventId: 'late',
      type: 'user_signup',
      userId: 'user-01',
      at: T0 + 5500,
    });
    const { frame } = draw(outcomes);
    const f = await waitForFrame(frame, (text) => /produced\s+5\/s/.test(text), 'the rates after 5 seconds');
    expect(f).toMatch(/produced\s+5\/s\s+[▁▂▃▄▅▆▇█ ]*█/);
    expect(f).toMatch(/delivered\s+5\/s/);
    expect(f).toMatch(/sent 15 · skipped 15 · dup 0/);
    expect(f).toMatch(/latency {2}p50 7ms {2}p95 7ms {2}p99 7ms/);
  });
});

describe('users', () => {
  it('lists users with channel states, marks a missing address, and highlights the selected one', async () => {
    const { frame, store } = draw([]);
    expect(lineWith(frame(), '▸user-01 Ada Lovelace', 'on  off off on')).toBeDefined();
    expect(lineWith(frame(), 'user-03 Grace Hopper', 'on  on* on  off')).toBeDefined();
    store.setState({ selected: 2 });
    await waitForFrame(frame, (f) => lineWith(f, '▸user-03') !== undefined, 'the selection to move');
    expect(lineWith(frame(), '▸user-01')).toBeUndefined();
  });

  it('a million users: the count, the rows read around the selection, a row not read yet, and a broken user', async () => {
    const { frame, store } = draw([]);
    const row = (n: number): UserRow => ({
      id: `gen-${String(n + 1).padStart(7, '0')}`,
      name: `Generated User ${n + 1}`,
      prefs: { email: 'on', sms: 'off', push: 'on', console: 'off' },
      reachable: { email: true, sms: true, push: true, console: true },
    });
    // Rows 500..599 read; the selection at 520; row 518 is a user whose prefs hash is a string.
    const rows = Array.from({ length: 100 }, (_, i) => row(500 + i));
    rows[18] = {
      ...rows[18]!,
      name: '',
      prefs: {},
      reachable: {},
      broken: 'prefs:gen-0000519 holds a value of another type',
    };
    store.setState({ users: rows, usersFrom: 500, userCount: 100_000, userTotal: 1_000_000, selected: 520 });
    const f = await waitForFrame(frame, (t) => t.includes('Users (1,000,000)'), 'the count');
    expect(lineWith(f, '▸gen-0000521 Generate', 'on  off on  off')).toBeDefined();
    expect(lineWith(f, 'gen-0000519', 'prefs:gen-0000519 holds')).toBeDefined();
    // Moved to rows not read yet: placeholders, never another user's row.
    store.setState({ selected: 700 });
    const moved = await waitForFrame(frame, (t) => /▸…/.test(t), 'the placeholder row');
    expect(moved).not.toContain('gen-0000');
    // A search: what it found, of how many.
    store.setState({
      selected: 0,
      usersFrom: 0,
      users: [row(41)],
      userCount: 1,
      userSearch: { query: 'gen-0000042', state: 'done', matches: 1, capped: false },
    });
    await waitForFrame(frame, (t) => t.includes('Users "gen-0000042": 1 match of 1,000,000'), 'the search title');
  });
});

describe('hostile strings from Kafka and Redis', () => {
  it('never reach the terminal: escapes, OSC, bidi and control characters are shown escaped, long strings cut to the cell', async () => {
    const evil = 'ev\u001b[31mil\u001b]0;pwned\u0007\u202Egnp.exe\u200B\r\n' + 'x'.repeat(500);
    const { lastFrame, store } = draw([
      {
        kind: 'consumed',
        eventId: 'e',
        type: 'user_signup',
        userId: evil,
        partition: 0,
        offset: '1',
        summary: evil,
        at: T0,
      },
      {
        kind: 'delivery',
        eventId: 'e',
        type: 'user_signup',
        userId: evil,
        channel: 'email',
        status: 'sent',
        reason: null,
        latencyMs: 1,
        attempts: 1,
        address: evil,
        text: evil,
        at: T0,
      },
    ]);
    store.setState((s) => ({ users: [{ ...s.users[0]!, name: evil }, ...s.users.slice(1)] }));
    const raw = await waitForFrame(
      () => lastFrame() ?? '',
      (f) => (f.match(/ev\\u001/g) ?? []).length >= 4,
      'the hostile user name, escaped',
    );
    // Ink's own styling is the only escape sequence on the screen; none of the text's gets through.
    expect(raw).not.toContain('\u001b[31mil');
    expect(raw.replace(INK_STYLE, '')).not.toMatch(CONTROL);
    expect(raw).toContain('ev\\u001b[31mil');
    for (const line of raw.split('\n')) expect(line.length).toBeLessThanOrEqual(119 * 2);
  });

  it('shows an id with a colour sequence escaped, never as another, real user', async () => {
    const spoof = 'user-\u001b[31m01';
    const { lastFrame, store } = draw(flow('e1', spoof));
    store.setState((s) => ({
      users: [{ ...s.users[0]!, id: spoof }, ...s.users.slice(1)],
      notice: { text: `sms toggle for ${spoof} queued`, tone: 'info', at: T0 },
    }));
    const raw = await waitForFrame(
      () => lastFrame() ?? '',
      (f) => f.includes('toggle for user-\\u001b[31m01 queued'),
      'the notice',
    );
    expect(raw).not.toContain('\u001b[31m01');
    expect(raw.replace(INK_STYLE, '')).not.toMatch(CONTROL);
    const f = stripAnsi(raw);
    // Each cell shows as much of the escape as it has room for: the Users panel and the notice all of it.
    expect(lineWith(f, '▸user-\\u001b[31m01 Ad')).toBeDefined();
    expect(lineWith(f, 'sms toggle for user-\\u001b[31m01 queued')).toBeDefined();
    // A narrow id column keeps the id's end, where ids of one kind differ: still not user-01.
    expect(lineWith(f, 'user_signup', '…b[31m01', '1@41')).toBeDefined();
    expect(lineWith(f, 'sms', 'user-\\u001b[31m…', 'skipped opted-out')).toBeDefined();
    expect(lineWith(f, '…\\u001b[31m01', 'found')).toBeDefined();
    // No row reads as the real user-01.
    expect(f).not.toMatch(/user-01/);
  });
});

describe('terminal manners', () => {
  it('fits 80×24 and reflows when the terminal is resized', () => {
    const r = draw(flow('e1', 'user-01'), 120, 40);
    const widest = (f: string): number => Math.max(...f.split('\n').map((l) => [...l].length));
    expect(widest(r.frame())).toBeLessThanOrEqual(120);
    r.resize(80, 24);
    r.rerender(<App store={r.store} actions={recordingActions()} color={false} />);
    const small = r.frame();
    expect(widest(small)).toBeLessThanOrEqual(80);
    expect(small.split('\n').length).toBeLessThanOrEqual(24);
    for (const title of ['Event stream', 'Deliveries', 'Redis look-ups', 'Throughput', 'Users'])
      expect(small).toContain(title);
  });

  it('asks for a bigger terminal below the minimum instead of drawing garbage', () => {
    const r = draw([], 50, 12);
    expect(r.frame().replace(/\s+/g, ' ')).toMatch(/needs at least 60×16; this terminal is 50×12/);
  });
});
