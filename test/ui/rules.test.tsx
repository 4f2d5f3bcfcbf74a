/**
 * The rules in the dashboard, on the embedded pipeline (an in-memory Redis) through the real
 * controller, users feed and views: the preferences editor (Enter on a Users row), the Scheduled view
 * (S) and the Users panel's quiet-hours marker.
 */
import { cleanup } from 'ink-testing-library';
import { afterEach, describe, expect, it } from 'vitest';
import { DashboardController } from '../../src/cli/dashboard/controller.js';
import { UsersFeed } from '../../src/cli/dashboard/users-feed.js';
import { createLogger } from '../../src/log/logger.js';
import { embeddedBackends, Pipeline, type PipelineSettings } from '../../src/app/runtime.js';
import type { ScheduledSend } from '../../src/pipeline/ports.js';
import { App } from '../../src/ui/App.js';
import { buildKeymap, footerHint, helpLines } from '../../src/ui/keymap.js';
import { createDashboardStore, type DashboardStore } from '../../src/ui/store.js';
import { catalog } from './fixtures.js';
import { renderAt, settle, waitForFrame } from './render.js';

const KEY = {
  enter: '\r',
  esc: '\u001B',
  up: '\u001B[A',
  down: '\u001B[B',
  right: '\u001B[C',
  left: '\u001B[D',
};

interface Rig {
  store: DashboardStore;
  pipeline: Pipeline;
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

async function start(columns = 120, rows = 40, before: (p: Pipeline) => Promise<void> = async () => {}): Promise<Rig> {
  const settings: PipelineSettings = {
    brokers: ['embedded'],
    redisUrl: 'redis://embedded',
    topic: 'rules-ui',
    group: 'rules-ui-group',
    partitions: 1,
    fromBeginning: true,
    maxBytes: 1024 * 1024,
    latencyMs: 0,
    failureRate: 0,
    dedupeWindowSeconds: 86400,
  };
  const pipeline = new Pipeline(settings, catalog, createLogger({ kind: 'silent' }), embeddedBackends());
  // ioredis-mock instances share their data: each test starts from the seed alone (an in-memory Redis).
  await pipeline.redis.flushall();
  await pipeline.seedIfEmpty();
  await before(pipeline);
  const store = createDashboardStore({
    info: { brokers: 'embedded', topic: 'rules-ui', group: 'rules-ui-group', redisUrl: '', logFile: '', mode: '' },
    channels: catalog.channels.map((c) => ({ name: c.name, label: c.label, toggleKey: c.toggleKey })),
    eventTypes: [...catalog.eventTypes.values()].map((e) => ({ type: e.type, key: e.key, color: e.color })),
  });
  const controller = new DashboardController(
    store,
    () => pipeline,
    () => undefined,
  );
  const users = new UsersFeed(
    pipeline,
    () => controller.prefsVersion,
    undefined,
    () => ({ selected: store.getState().selected, search: '' }),
  );
  let stopped = false;
  const tick = setInterval(() => {
    const patch = users.take();
    store.setState({ now: Date.now(), ...patch });
  }, 50);
  const read = setInterval(() => {
    if (!stopped) void users.refresh().catch(() => undefined);
  }, 100);
  const views = setInterval(() => void controller.refreshViews(), 200);
  await users.refresh();
  const r = renderAt(<App store={store} actions={controller} color={false} />, columns, rows);
  await waitForFrame(r.frame, (f) => f.includes('Ada Lovelace'), 'the users read');
  return {
    store,
    pipeline,
    frame: r.frame,
    press: async (...keys) => {
      for (const k of keys) {
        r.stdin.write(k);
        await settle();
      }
    },
    stop: async () => {
      stopped = true;
      clearInterval(tick);
      clearInterval(read);
      clearInterval(views);
      await pipeline.stop();
    },
  };
}

const lineWith = (frame: string, ...parts: string[]): string | undefined =>
  frame.split('\n').find((l) => parts.every((p) => l.includes(p)));

describe('the preferences editor', () => {
  it('Enter on a Users row shows the channels, the type × channel grid, the zone and the windows', async () => {
    rig = await start(120, 40, async (p) => {
      await p.redis.hset(
        'prefs:user-01',
        'tz',
        'Europe/Paris',
        'quiet',
        'mon-fri 22:00-07:00',
        'user_signup.push',
        'off',
      );
    });
    const { press, frame } = rig;
    await press(KEY.enter);
    const f = await waitForFrame(
      frame,
      (t) => t.includes('Preferences of user-01 (Ada Lovelace)') && t.includes('item_purchased'),
      'the editor',
    );
    expect(lineWith(f, 'email', 'sms', 'push', 'console')).toBeDefined();
    // user-01: email and console on, sms and push off (the fixture's sample preferences).
    expect(lineWith(f, 'channel', 'on', 'off')).toBeDefined();
    expect(lineWith(f, 'user_signup', 'def·on', 'off')).toBeDefined();
    expect(lineWith(f, 'password_reset', 'required', 'def·on')).toBeDefined();
    expect(f).toMatch(/zone\s+Europe\/Paris/);
    expect(f).toMatch(/quiet\s+mon-fri 22:00-07:00/);
    expect(f).toMatch(
      /now\s+(in quiet hours now \(mon-fri 22:00-07:00\) until \S+|not in quiet hours; the next window starts)/,
    );
  });

  it('space writes the cell to Redis at once: default → off → on → default; a required cell refuses; Esc closes', async () => {
    rig = await start();
    const { press, frame, pipeline, store } = rig;
    await press(KEY.enter);
    await waitForFrame(
      frame,
      (t) => t.includes('Preferences of user-01') && t.includes('item_purchased'),
      'the editor',
    );
    // ↓↓: item_purchased (user_signup is the first type); →: sms.
    await press(KEY.down, KEY.down, KEY.right, ' ');
    await waitForFrame(frame, (t) => t.includes('HSET prefs:user-01 item_purchased.sms off'), 'the write said');
    expect(await pipeline.redis.hget('prefs:user-01', 'item_purchased.sms')).toBe('off');
    await waitForFrame(
      frame,
      (t) => /item_purchased\s+def·on\s+off\s+def·on/.test(t),
      'the cell shows off, read again',
    );
    await press(' ');
    await waitForFrame(frame, (t) => /item_purchased\s+def·on\s+on\s+def·on/.test(t), 'on');
    expect(await pipeline.redis.hget('prefs:user-01', 'item_purchased.sms')).toBe('on');
    await press(' ');
    await waitForFrame(frame, (t) => t.includes('HDEL prefs:user-01 item_purchased.sms'), 'back to the default');
    expect(await pipeline.redis.hget('prefs:user-01', 'item_purchased.sms')).toBeNull();
    // ↓ ←: password_reset on email, required: refused, nothing written.
    await press(KEY.down, KEY.left, ' ');
    await waitForFrame(frame, (t) => t.includes('password_reset.email is required'), 'the refusal');
    expect(await pipeline.redis.hget('prefs:user-01', 'password_reset.email')).toBeNull();
    // The channel row: ↑↑↑ then → → to push (off for user-01): on.
    await press(KEY.up, KEY.up, KEY.up, KEY.right, KEY.right, ' ');
    await waitForFrame(frame, (t) => t.includes('HSET prefs:user-01 push on'), 'the channel switched');
    expect(await pipeline.redis.hget('prefs:user-01', 'push')).toBe('on');
    await press(KEY.esc);
    await waitForFrame(frame, (t) => t.includes('Users (') && !t.includes('Preferences of'), 'the panels again');
    expect(store.getState().view).toBe('main');
  });

  it('caps and digest windows are cells too: space steps them through a few values, any other value steps to none', async () => {
    rig = await start(120, 40, async (p) => {
      await p.redis.hset('prefs:user-01', 'cap.push', '5/2h');
    });
    const { press, frame, pipeline } = rig;
    await press(KEY.enter);
    const f = await waitForFrame(frame, (t) => /cap\s+none\s+none\s+5\/2h\s+none/.test(t), 'the caps row');
    expect(f).toMatch(/digest item_purchased\s+none/);
    expect(f).not.toMatch(/digest (user_signup|password_reset)/);
    // ↓×4: past the three types to the caps; →: sms. Space: 1/1h, then 3/1h.
    await press(KEY.down, KEY.down, KEY.down, KEY.down, KEY.right, ' ');
    await waitForFrame(frame, (t) => t.includes('HSET prefs:user-01 cap.sms 1/1h'), 'the cap written');
    expect(await pipeline.redis.hget('prefs:user-01', 'cap.sms')).toBe('1/1h');
    await waitForFrame(frame, (t) => /cap\s+none\s+1\/1h\s+5\/2h/.test(t), 'the cap shown, read again');
    await press(' ');
    await waitForFrame(frame, (t) => /cap\s+none\s+3\/1h\s+5\/2h/.test(t), '3/1h');
    expect(await pipeline.redis.hget('prefs:user-01', 'cap.sms')).toBe('3/1h');
    // → push: 5/2h, written by prefs set, is not a step: space removes it.
    await press(KEY.right, ' ');
    await waitForFrame(frame, (t) => t.includes('HDEL prefs:user-01 cap.push'), 'the cap removed');
    expect(await pipeline.redis.hget('prefs:user-01', 'cap.push')).toBeNull();
    // ↓: the digest window of item_purchased: 1m, then 10m.
    await press(KEY.down, ' ');
    await waitForFrame(frame, (t) => t.includes('HSET prefs:user-01 digest.item_purchased 1m'), 'the digest window');
    await waitForFrame(frame, (t) => /digest item_purchased\s+1m/.test(t), 'shown');
    await press(' ');
    await waitForFrame(frame, (t) => /digest item_purchased\s+10m/.test(t), '10m');
    expect(await pipeline.redis.hget('prefs:user-01', 'digest.item_purchased')).toBe('10m');
    // The cursor stops at the last row.
    await press(KEY.down, KEY.down, ' ');
    await waitForFrame(frame, (t) => /digest item_purchased\s+1h/.test(t), 'still the digest row: 1h');
  });

  it('a prefs key of another type (WRONGTYPE) is said, naming the key; space writes nothing', async () => {
    rig = await start();
    const { press, frame, pipeline } = rig;
    // The in-memory Redis does not refuse a hash command on a string: its replies are what Redis says.
    const wrongType = (): Promise<never> =>
      Promise.reject(new Error('WRONGTYPE Operation against a key holding the wrong kind of value'));
    let writes = 0;
    pipeline.store.rawPreferences = wrongType;
    pipeline.store.writePreference = () => {
      writes++;
      return wrongType();
    };
    await press(KEY.down, KEY.enter);
    await waitForFrame(
      frame,
      (t) =>
        t.includes('Preferences of user-02') &&
        t.includes('prefs:user-02 holds a value of another type, not a hash (WRONGTYPE)') &&
        t.includes('redis-cli TYPE prefs:user-02'),
      'the error naming the key',
    );
    await press(' ');
    await waitForFrame(frame, (t) => t.includes('not changed'), 'nothing changed');
    expect(writes).toBe(0);
    await press(KEY.esc);
    await waitForFrame(frame, (t) => t.includes('Users ('), 'closed, the dashboard running');
  });

  it('a hostile zone or window written by another program is shown escaped and named invalid', async () => {
    rig = await start(120, 40, async (p) => {
      await p.redis.hset('prefs:user-01', 'tz', 'Mars/\u001b[31mBase', 'quiet', '25:99-x');
    });
    const { press, frame } = rig;
    await press(KEY.enter);
    const f = await waitForFrame(frame, (t) => t.includes('prefs-invalid'), 'the invalid fields');
    expect(f).toContain('Mars/\\u001b[31mBase');
    expect(f).toContain('prefs-invalid: tz, quiet');
    expect(f).toMatch(/zone\s+UTC/);
  });
});

describe('the Scheduled view', () => {
  const entry = (n: number, dueAt: number): ScheduledSend => ({
    eventId: `evt-sched-${n}`,
    channel: 'sms',
    userId: 'user-03',
    type: 'item_purchased',
    dueAt,
    zone: 'Europe/Paris',
    reason: 'quiet-hours',
    deferredAt: Date.now(),
    event: '{}',
    occurredAtMs: Date.now(),
    topic: 'rules-ui',
    partition: 0,
    offset: String(n),
    timestamp: String(Date.now()),
  });

  it('S lists the pending deferred sends, soonest first, with the count in the title; it is in the help and the footer', async () => {
    rig = await start(120, 40, async (p) => {
      await p.schedule.add([entry(2, Date.now() + 5 * 3600_000), entry(1, Date.now() + 90_000)]);
    });
    const { press, frame, store } = rig;
    expect(footerHint(buildKeymap(store.getState().eventTypes, store.getState().channels))).toContain('S scheduled');
    await press('S');
    const f = await waitForFrame(frame, (t) => t.includes('Scheduled (2)'), 'the view with its count');
    const first = f.split('\n').findIndex((l) => l.includes('evt-sched-1'));
    const second = f.split('\n').findIndex((l) => l.includes('evt-sched-2'));
    expect(first).toBeGreaterThan(0);
    expect(second).toBeGreaterThan(first);
    expect(lineWith(f, 'Europe/Paris', 'in 1m', 'user-03', 'item_purchased', 'sms', 'evt-sched-1')).toBeDefined();
    expect(f).toMatch(/Europe\/Paris\s+in (4h59m|5h00m)\s+user-03\s+item_purchased\s+sms\s+evt-sched-2/);
    // Read again every second while open.
    await rig.pipeline.schedule.add([entry(3, Date.now() + 3600_000)]);
    await waitForFrame(frame, (t) => t.includes('Scheduled (3)') && t.includes('evt-sched-3'), 'the new entry');
    const bindings = buildKeymap(store.getState().eventTypes, store.getState().channels);
    expect(helpLines(bindings).some((l) => l.keys === 'S' && l.description.startsWith('scheduled'))).toBe(true);
    expect(footerHint(bindings, 'scheduled')).toBe('Esc close  ↑↓ move  S scheduled  ? help  q quit');
    await press(KEY.esc);
    await waitForFrame(frame, (t) => t.includes('Users (') && !t.includes('Scheduled ('), 'closed');
  });

  it('shows an open digest with how many events it holds so far', async () => {
    const now = Date.now();
    rig = await start(120, 40, async (p) => {
      const joins = [1, 2, 3].map((n) => ({
        userId: 'user-03',
        type: 'item_purchased',
        windowMs: 600_000,
        eventId: `evt-member-${n}`,
        event: JSON.stringify({ id: `evt-member-${n}`, type: 'item_purchased', userId: 'user-03', payload: {} }),
        occurredAtMs: now,
      }));
      const [joined] = await p.digests.join(joins, now);
      await p.schedule.add([
        {
          ...entry(9, joined!.dueAt),
          eventId: joined!.digestId,
          channel: 'email',
          reason: 'digest',
          digest: { id: joined!.digestId, type: 'item_purchased' },
        },
      ]);
    });
    await rig.press('S');
    const f = await waitForFrame(
      rig.frame,
      (t) => t.includes('Scheduled (1)') && t.includes('digest of 3'),
      'the digest row',
    );
    expect(f).toMatch(/in (9|10)m\s+user-03\s+item_purchased\s+email\s+digest of 3 · digest:item_purchas/);
  });

  it('says when nothing waits', async () => {
    rig = await start();
    await rig.press('S');
    await waitForFrame(rig.frame, (t) => t.includes('Scheduled (0)') && t.includes('no deferred send waits'), 'empty');
  });
});

describe('the Users panel', () => {
  it("the same windows in two zones: the marker follows each user's zone (the cache of quiet states is per zone and windows)", async () => {
    // A window of the next 8 hours in UTC: the same window in a zone 12 hours away is not now.
    const hour = new Date().getUTCHours();
    const hh = (h: number) => String(((h % 24) + 24) % 24).padStart(2, '0');
    const window = `${hh(hour)}:00-${hh(hour + 8)}:00`;
    rig = await start(120, 40, async (p) => {
      await p.redis.hset('prefs:user-03', 'tz', 'UTC', 'quiet', window);
      await p.redis.hset('prefs:user-04', 'tz', 'Etc/GMT+12', 'quiet', window);
      await p.redis.hset('prefs:user-05', 'tz', 'UTC', 'quiet', window);
    });
    const f = await waitForFrame(
      rig.frame,
      (t) => /user-03 Grace Hop\S*\s+☾/.test(t) && /user-05 .*☾/.test(t),
      'the markers of the UTC users',
    );
    expect(lineWith(f, 'user-04')).not.toContain('☾');
  });

  it('marks the users in quiet hours now (☾), not the others', async () => {
    rig = await start(120, 40, async (p) => {
      await p.redis.hset('prefs:user-03', 'tz', 'UTC', 'quiet', '00:00-23:59');
    });
    const f = await waitForFrame(rig.frame, (t) => /user-03 Grace Hop\S*\s+☾/.test(t), 'the marker');
    expect(lineWith(f, 'user-01')).not.toContain('☾');
    expect(f).toContain('☾ quiet now');
    // The editor says it in words.
    await rig.press(KEY.down, KEY.down, KEY.enter);
    await waitForFrame(
      rig.frame,
      (t) => /now\s+in quiet hours now \(00:00-23:59\) until (\w{3} )?23:59 UTC/.test(t),
      'until when',
    );
  });
});
