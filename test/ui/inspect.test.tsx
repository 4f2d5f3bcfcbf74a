/**
 * The inspect keys on the embedded pipeline (an in-process log, an in-memory Redis), through the real
 * controller, collector and views: what a person sees after Tab, Enter, /, d, R, l and x.
 */
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cleanup } from 'ink-testing-library';
import { afterEach, describe, expect, it } from 'vitest';
import { LayoutWatch } from '../../src/cli/dashboard/cluster.js';
import { DashboardController } from '../../src/cli/dashboard/controller.js';
import { inspectSource } from '../../src/cli/dashboard/inspect.js';
import { tickUpdate } from '../../src/cli/dashboard/tick.js';
import { createLogger } from '../../src/log/logger.js';
import { embeddedBackends, Pipeline, type PipelineSettings } from '../../src/app/runtime.js';
import { Collector } from '../../src/telemetry/collector.js';
import { App } from '../../src/ui/App.js';
import { createDashboardStore, type DashboardStore } from '../../src/ui/store.js';
import { catalog } from './fixtures.js';
import { renderAt, settle, waitForFrame } from './render.js';

const KEY = { tab: '\t', shiftTab: '\u001B[Z', enter: '\r', esc: '\u001B', down: '\u001B[B', backspace: '\u007F' };

interface Rig {
  store: DashboardStore;
  pipeline: Pipeline;
  collector: Collector;
  dir: string;
  frame: () => string;
  press: (...keys: string[]) => Promise<void>;
  stop: () => Promise<void>;
}

let rig: Rig | undefined;
afterEach(async () => {
  cleanup();
  await rig?.stop();
  rig = undefined;
});

async function start(columns = 120, rows = 40): Promise<Rig> {
  const settings: PipelineSettings = {
    brokers: ['embedded'],
    redisUrl: 'redis://embedded',
    topic: 'inspect',
    group: 'inspect-group',
    partitions: 3,
    fromBeginning: true,
    maxBytes: 1024 * 1024,
    latencyMs: 0,
    failureRate: 0,
    dedupeWindowSeconds: 86400,
  };
  const pipeline = new Pipeline(settings, catalog, createLogger({ kind: 'silent' }), embeddedBackends());
  const collector = new Collector();
  pipeline.telemetry.subscribe(collector.listener);
  await pipeline.ensureTopics();
  await pipeline.seedIfEmpty();
  await pipeline.startConsumer();
  await pipeline.startProducer(0);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'etui-inspect-'));
  const store = createDashboardStore({
    info: { brokers: 'embedded', topic: 'inspect', group: 'inspect-group', redisUrl: '', logFile: '', mode: '' },
    channels: catalog.channels.map((c) => ({ name: c.name, label: c.label, toggleKey: c.toggleKey })),
    eventTypes: [...catalog.eventTypes.values()].map((e) => ({ type: e.type, key: e.key, color: e.color })),
  });
  const source = inspectSource(pipeline, collector, () => dir);
  const layout = new LayoutWatch(store, () => () => pipeline.log.topicLayout('inspect'), {
    intervalMs: 200,
    viewIntervalMs: 200,
  });
  const controller = new DashboardController(
    store,
    () => pipeline,
    () => undefined,
    () => source,
    layout,
  );
  const tick = setInterval(() => {
    store.setState(tickUpdate(store.getState(), collector));
    layout.poll();
  }, 50);
  const partitions = setInterval(() => void controller.refreshPartitions(), 200);
  const r = renderAt(<App store={store} actions={controller} color={false} />, columns, rows);
  await settle();
  return {
    store,
    pipeline,
    collector,
    dir,
    frame: r.frame,
    press: async (...keys) => {
      for (const k of keys) {
        r.stdin.write(k);
        await settle();
      }
    },
    stop: async () => {
      clearInterval(tick);
      clearInterval(partitions);
      await pipeline.stop();
    },
  };
}

const lineWith = (frame: string, ...parts: string[]): string | undefined =>
  frame.split('\n').find((l) => parts.every((p) => l.includes(p)));

describe('inspect keys', () => {
  it('Tab focuses the Event stream (double border); ↓ holds it and counts new rows; Enter shows the event and its trace; Esc closes', async () => {
    rig = await start();
    const { pipeline, press, frame } = rig;
    expect(frame()).toMatch(/║Users \(/);
    await pipeline.producer!.inject('user_signup', 'user-02');
    await pipeline.producer!.inject('item_purchased', 'user-01');
    await waitForFrame(frame, (f) => /item_purchased\s+user-01/.test(f), 'two events in the stream');
    await press(KEY.tab);
    await waitForFrame(frame, (f) => /║Event stream/.test(f) && /╭─+╮\s*$|│Users \(/m.test(f), 'the stream focused');
    await press(KEY.down);
    await waitForFrame(frame, (f) => f.includes('Event stream (held, 0 new)'), 'the stream held');
    await pipeline.producer!.inject('password_reset', 'user-03');
    await waitForFrame(frame, (f) => f.includes('Event stream (held, 1 new)'), 'one new row counted');
    await press(KEY.enter);
    const detail = await waitForFrame(
      frame,
      (f) => f.includes('event id') && f.includes('Redis look-up') && /email\s+sent/.test(f),
      'the detail of the user_signup with its trace',
    );
    expect(detail).toContain('type      user_signup');
    expect(detail).toContain('user      user-02');
    expect(detail).toMatch(/topic\s+inspect\s+partition \d\s+offset \d+/);
    expect(detail).toContain('event-type: user_signup');
    expect(detail).toMatch(/"plan": "/);
    expect(detail).toMatch(/Redis look-up\s+user found · channels on: email, sms, push/);
    expect(detail).toMatch(/accepted: Subject: Welcome/);
    await press(KEY.esc);
    await waitForFrame(
      frame,
      (f) => f.includes('Event stream (held, 1 new)') && !f.includes('event id'),
      'the panels again',
    );
  });

  it('/ filters the stream, deliveries and look-ups; the status bar shows it; Esc clears it', async () => {
    rig = await start();
    const { pipeline, press, frame } = rig;
    await pipeline.producer!.inject('user_signup', 'user-02');
    await pipeline.producer!.inject('item_purchased', 'user-01');
    await waitForFrame(
      frame,
      (f) => /item_purchased\s+user-01/.test(f) && /user_signup\s+user-02/.test(f),
      'both events',
    );
    // Tab: the Event stream focused (with the Users panel focused, / searches the user ids).
    await press(KEY.tab, '/', 'u', 's', 'e', 'r', '-', '0', '2');
    await waitForFrame(frame, (f) => f.includes('filter /user-02'), 'the filter being typed in the footer');
    await press(KEY.backspace, '2', KEY.enter);
    const filtered = await waitForFrame(
      frame,
      (f) => f.includes('filter "user-02"') && !/user-01/.test(f.split('Users (')[0]!),
      'only user-02 rows',
    );
    expect(filtered).toMatch(/user_signup\s+user-02/);
    expect(filtered).toMatch(/user-02\s+\S+\s+found/);
    await press('/', 'x', 'y', 'z', 'q', KEY.enter);
    await waitForFrame(frame, (f) => f.includes('no event matches the filter'), 'nothing matches user-02xyzq');
    await press(KEY.esc);
    await waitForFrame(
      frame,
      (f) => /item_purchased\s+user-01/.test(f) && !f.includes('filter "'),
      'the filter cleared',
    );
  });
});

describe('Enter on a panel the filter left empty', () => {
  it('says the filter hides the rows (not that there are none), in the Event stream and in Deliveries', async () => {
    rig = await start();
    const { pipeline, press, frame } = rig;
    await pipeline.producer!.inject('user_signup', 'user-02');
    await waitForFrame(
      frame,
      (f) => /user_signup\s+user-02/.test(f) && /email\s+\S+\s+sent/.test(f),
      'the event delivered',
    );
    // Tab first: with the Users panel focused, / searches the user ids.
    await press(KEY.tab, '/', 'x', 'y', 'z', KEY.enter);
    await waitForFrame(frame, (f) => f.includes('no event matches the filter'), 'the filter applied');
    await press(KEY.enter);
    await waitForFrame(
      frame,
      (f) => f.includes('no event matches the filter "xyz" (Esc clears it)'),
      'the Event stream saying the filter hides its rows',
    );
    expect(frame()).not.toContain('no event in the stream yet');
    await press(KEY.tab, KEY.enter);
    await waitForFrame(
      frame,
      (f) => f.includes('no delivery matches the filter "xyz" (Esc clears it)'),
      'Deliveries saying the filter hides its rows',
    );
    expect(frame()).not.toContain('no delivery yet');
    // Esc clears it, as said, and Enter opens the row again.
    await press(KEY.esc);
    await waitForFrame(frame, (f) => /email\s+\S+\s+sent/.test(f), 'the rows back');
    await press(KEY.enter);
    await waitForFrame(frame, (f) => f.includes('event id') && f.includes('user-02'), 'the detail');
  });
});

describe('an id with a colour sequence', () => {
  it('is shown escaped in the stream and the detail, never as the real user it would read as', async () => {
    rig = await start();
    const { pipeline, press, frame } = rig;
    await pipeline.producer!.inject('user_signup', 'user-\u001b[31m01');
    await waitForFrame(frame, (f) => /user_signup\s+…\S*\[31m01/.test(f), 'the event in the stream, escaped');
    await press(KEY.tab, KEY.enter);
    const detail = await waitForFrame(frame, (f) => f.includes('event id'), 'the detail');
    expect(detail).toContain('user      user-\\u001b[31m01');
    expect(detail).toContain('key       user-\\u001b[31m01');
    expect(detail).not.toMatch(/user-01/);
  });
});

describe('dead letters, partitions, export', () => {
  it('d lists the dead letters read from the log; Enter shows one escaped; R asks y/n and replays it to its source topic', async () => {
    rig = await start();
    const { pipeline, press, frame } = rig;
    const producer = await pipeline.log.producer();
    await producer.send('inspect', [
      { key: 'k-bad', value: '{"id": "x", \u001b[31mnot json', headers: { origin: 'test' } },
    ]);
    await waitForFrame(frame, (f) => /dlq\s+k-bad\s+dead letter/.test(f), 'the dead letter in Deliveries');
    await press('d');
    const list = await waitForFrame(
      frame,
      (f) => f.includes('Dead letters of inspect.dlq: newest 1 of 1') && /\d\/0\s+invalid-json/.test(f),
      'the letter listed',
    );
    for (const heading of ['part/off', 'reason', 'channel', 'key', 'source', 'detail']) expect(list).toContain(heading);
    // The letter's partition follows its key, in the dead-letter topic as in the source topic.
    const p = /(\d)\/0\s+invalid-json/.exec(list)![1]!;
    expect(lineWith(list, `${p}/0`, 'invalid-json', 'k-bad', `${p}@0`)).toBeDefined();
    await press(KEY.enter);
    const one = await waitForFrame(frame, (f) => f.includes('Value ('), 'the letter opened');
    expect(one).toContain('origin: test');
    expect(one).toContain('dlq-reason: invalid-json');
    // The escape character is shown escaped, never sent to the terminal.
    expect(one).toContain('\\u001b[31mnot json');
    await press('R');
    await waitForFrame(
      frame,
      (f) => f.includes(`y/n: replay inspect.dlq/${p}/0 (invalid-json) to inspect?`),
      'the question',
    );
    await press('n');
    await waitForFrame(frame, (f) => f.includes('replay cancelled'), 'cancelled');
    await press('R', 'y');
    await waitForFrame(
      frame,
      (f) => f.includes(`replayed inspect.dlq/${p}/0 (invalid-json) to inspect`),
      'the replay said',
    );
    // Replayed to the source topic: consumed again, and (still not JSON) dead-lettered again.
    const ends = await pipeline.log.topicOffsets('inspect');
    expect(ends.reduce((n, e) => n + Number(e.high), 0)).toBe(2);
    await press(KEY.esc);
    await waitForFrame(frame, (f) => f.includes('Dead letters of inspect.dlq'), 'back to the list');
    await waitForFrame(
      frame,
      (f) => {
        if (!f.includes('newest 2 of 2')) void press('d');
        return f.includes('newest 2 of 2');
      },
      'the replayed letter dead-lettered again',
      5000,
    );
    await press(KEY.esc);
    await waitForFrame(frame, (f) => f.includes('Event stream'), 'the panels again');
    await producer.disconnect();
  });

  it('l shows one row per partition: committed, end, lag, owner, events/s, leader, replicas, isr', async () => {
    rig = await start();
    const { pipeline, press, frame } = rig;
    for (const u of ['user-01', 'user-02', 'user-03', 'user-04']) await pipeline.producer!.inject('user_signup', u);
    await press('l');
    const view = await waitForFrame(
      frame,
      (f) => f.includes('Partitions of inspect') && f.includes('total lag 0') && !f.includes('…  '),
      'the partitions, caught up',
    );
    for (const heading of ['partition', 'committed', 'end', 'lag', 'owner', 'events/s', 'leader', 'replicas', 'isr'])
      expect(view).toContain(heading);
    const ends = await pipeline.log.topicOffsets('inspect');
    for (const e of ends) {
      // The in-process log is one node: it leads every partition, its only replica, in sync.
      expect(view).toMatch(
        new RegExp(
          `║\\s*${e.partition}\\s+${e.high}\\s+${e.high}\\s+0\\s+embedded@pid ${process.pid}\\s+\\d+\\s+1 in-process\\s+1\\s+1\\s+║`,
        ),
      );
    }
    await press(KEY.esc);
    await waitForFrame(frame, (f) => f.includes('Event stream'), 'the panels again');
  });

  it('x writes the stream and deliveries as filtered now to eventstream-export-<time>.jsonl and names it', async () => {
    rig = await start();
    const { pipeline, press, frame, dir } = rig;
    await pipeline.producer!.inject('user_signup', 'user-02');
    await pipeline.producer!.inject('item_purchased', 'user-01');
    await waitForFrame(
      frame,
      (f) => /item_purchased\s+user-01/.test(f) && /user_signup\s+user-02/.test(f),
      'both events',
    );
    await press(KEY.tab, '/', 'user-01', KEY.enter, 'x');
    const said = await waitForFrame(
      frame,
      (f) => /exported to eventstream-export-\d{8}T\d{6}Z\.jsonl: 1 event\(s\), \d+ deliver/.test(f),
      'the export said',
    );
    const files = readdirSync(dir).filter((f) => /^eventstream-export-.*\.jsonl$/.test(f));
    expect(files).toHaveLength(1);
    expect(said).toContain(files[0]);
    const lines = readFileSync(path.join(dir, files[0]!), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.every((l) => l.userId === 'user-01')).toBe(true);
    expect(lines[0]).toMatchObject({ kind: 'consumed', type: 'item_purchased', userId: 'user-01' });
    const delivery = lines.find((l) => l.kind === 'delivery');
    expect(Object.keys(delivery!).sort()).toEqual(
      ['attempts', 'channel', 'eventId', 'kind', 'latencyMs', 'reason', 'status', 'type', 'userId'].sort(),
    );
  });
});

describe('at 80×24', () => {
  const fits = (f: string): void => {
    const lines = f.split('\n');
    expect(lines.length).toBeLessThanOrEqual(24);
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(80);
  };

  it('every view fits, and the help scrolls to its last line', async () => {
    rig = await start(80, 24);
    const { pipeline, press, frame, store } = rig;
    const producer = await pipeline.log.producer();
    await producer.send('inspect', [{ key: 'k', value: 'not json at all' }]);
    await producer.disconnect();
    await pipeline.producer!.inject('user_signup', 'user-02');
    await waitForFrame(frame, (f) => /user_signup\s+user-02/.test(f), 'the event');
    fits(frame());
    await press('?');
    await waitForFrame(frame, (f) => /Keys · lines 1-\d+ of \d+ \(↑↓\)/.test(f), 'the help, scrollable');
    fits(frame());
    for (let i = 0; i < 40; i++) await press('j');
    // Its last line reachable (the notes after the keys counted where the scroll stops).
    const end = await waitForFrame(
      frame,
      (f) => f.includes('☾         Users: in quiet hours now'),
      'the end of the help',
    );
    fits(end);
    const scrolled = store.getState().scroll;
    await press('k');
    // Never past the end: one ↑ scrolls back one line at once.
    expect(store.getState().scroll).toBe(scrolled - 1);
    await press(KEY.esc, KEY.tab, KEY.enter);
    await waitForFrame(frame, (f) => f.includes('Trace'), 'the detail');
    fits(frame());
    await press(KEY.esc, 'd');
    await waitForFrame(frame, (f) => /invalid-json/.test(f) && f.includes('part/off'), 'the dead letters');
    fits(frame());
    await press(KEY.enter);
    await waitForFrame(frame, (f) => f.includes('not json at all'), 'the letter');
    fits(frame());
    await press(KEY.esc, KEY.esc, 'l');
    await waitForFrame(frame, (f) => f.includes('total lag'), 'the partitions');
    fits(frame());
  });

  it('Enter on a dead letter in Deliveries shows where it was and why; an event no longer kept says so', async () => {
    rig = await start(80, 24);
    const { pipeline, press, frame, store } = rig;
    const producer = await pipeline.log.producer();
    await producer.send('inspect', [{ key: 'k-bad', value: '{"broken"' }]);
    await producer.disconnect();
    await waitForFrame(frame, (f) => /dlq\s+k-bad/.test(f), 'the dead letter in Deliveries');
    await press(KEY.tab, KEY.tab, KEY.enter);
    const detail = await waitForFrame(frame, (f) => f.includes('dead-lettered: invalid-json'), 'the letter detail');
    expect(detail).toContain('a message that never became an event');
    expect(detail).toMatch(/topic\s+inspect\s+partition \d\s+offset 0/);
    expect(detail).toContain('key       k-bad');
    await press(KEY.esc);
    // A row whose event the collector no longer keeps (it keeps the newest 2,000).
    store.setState({
      focus: 'stream',
      held: {
        stream: [
          {
            seq: 1,
            at: Date.now(),
            eventId: 'evicted-1',
            type: 'user_signup',
            userId: 'user-09',
            partition: 1,
            offset: '5',
            summary: '',
          },
        ],
        deliveries: null,
      },
      cursor: { stream: 0, deliveries: 0 },
    });
    await press(KEY.enter);
    const gone = await waitForFrame(frame, (f) => f.includes('no longer in memory'), 'the note');
    expect(gone).toContain('event id  evicted-1');
    expect(gone).toContain('user      user-09');
  });
});
