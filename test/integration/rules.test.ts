/**
 * The notification rules on the real Kafka and Redis, through the real CLI: per-type preferences,
 * required channels, quiet hours that defer to the durable schedule, and the deferred send at the
 * window's end, once.
 *
 * Every consumer of this file runs with the same EVENTSTREAM_CLOCK_OFFSET_MS: the pipeline's clock
 * reads a quiet window's end (`clock.end`) about 50 s after the file starts, so every case's deferred
 * sends fall due together and the cases share that wait (they run concurrently). The schedule is shared
 * by every consumer on this Redis (it is one schedule, like the dedupe ledger): the cases assert on
 * the lines of all the file's consumers and on the outboxes, never on which consumer sent.
 */
import { afterAll, beforeAll, describe, it } from 'vitest';
import { runCli, waitFor } from '../support/cli.js';
import {
  CliProcess,
  consumeArgs,
  createTopic,
  event,
  newRedis,
  produceEvents,
  readOutbox,
  removeUsers,
  unique,
  writeUsers,
  type Line,
  type TestUser,
} from '../support/pipeline.js';
import { quietEnd, removeScheduleEntries, scheduleEntries, windowEndingAt } from '../support/rules.js';

const redis = newRedis();
const running: CliProcess[] = [];
const userIds: string[] = [];
const pairs: (readonly [string, string])[] = [];
const prefix = unique('rules');

/** The pipeline's clock reads the windows' end 50 s after the cases start: time for three consumers to join a group. */
let clock = quietEnd(50_000);
const offsetEnv = (shiftMs = 0): NodeJS.ProcessEnv => ({
  EVENTSTREAM_CLOCK_OFFSET_MS: String(clock.offsetMs + shiftMs),
});
/** Every consumer uses the same dedupe window (the ledger's generations depend on it). */
const DEDUPE = ['--dedupe-window', '1m'];

function consume(topic: string, group: string, extra: string[] = [], shiftMs = 0): CliProcess {
  const p = CliProcess.consume(topic, group, [...DEDUPE, ...extra], offsetEnv(shiftMs));
  running.push(p);
  return p;
}

/** The delivery lines of every consumer of the file for these events, with when each was read. */
function deliveries(eventIds: ReadonlySet<string>): (Line & { arrived: number })[] {
  return running.flatMap((p) =>
    p.lines.flatMap((l, i) =>
      l.kind === 'delivery' && eventIds.has(String(l.eventId)) ? [{ ...l, arrived: p.arrivedAt[i]! }] : [],
    ),
  );
}

const summary = (lines: Line[]): string[] =>
  lines
    .map(
      (l) =>
        `${String(l.userId).replace(`${prefix}-`, '')} ${String(l.channel)} ${String(l.status)}${l.reason ? ` ${String(l.reason)}` : ''}${l.deferred ? ' (deferred)' : ''}`,
    )
    .sort();

async function users(list: TestUser[]): Promise<void> {
  userIds.push(...list.map((u) => u.id));
  await writeUsers(redis, list);
}

/** How many times the provider accepted each (event, channel) of `eventIds`: `<event>/<channel>` → count. */
async function accepted(eventIds: ReadonlySet<string>): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const channel of ['email', 'sms', 'push', 'console'])
    for (const line of await readOutbox(redis, channel))
      if (eventIds.has(line.event))
        counts.set(`${line.event}/${channel}`, (counts.get(`${line.event}/${channel}`) ?? 0) + 1);
  return counts;
}

/** The cases' topics, created one after another before they start (concurrent creations upset kafkajs' admin). */
const topics = { rules: unique('rules'), dedupe: unique('rules-dd'), crowd: unique('rules-3c') };

beforeAll(async () => {
  await createTopic(topics.rules, 3);
  await createTopic(topics.dedupe, 1);
  await createTopic(topics.crowd, 6);
  clock = quietEnd(50_000);
  process.stdout.write(
    `[rules] the pipeline's clock is ${Math.round(clock.offsetMs / 1000)} s ahead; windows end at ${new Date(clock.end).toISOString()}\n`,
  );
});

afterAll(async () => {
  await Promise.all(running.map((p) => p.stop('SIGKILL')));
  await removeScheduleEntries(redis, pairs);
  await removeUsers(redis, userIds);
  redis.disconnect();
});

describe.concurrent('rules on the real Kafka and Redis', () => {
  it('quiet hours, required, type and channel choices, an opt-out at the due time, malformed prefs', async ({
    expect,
  }) => {
    const zone = 'Asia/Kolkata'; // UTC+05:30: the window is read in the user's zone
    const quiet = windowEndingAt(clock.end, zone);
    const address = (n: string) => ({ email: `${n}@example.com`, phone: '+15550100', pushToken: `tok-${n}` });
    const sleeper: TestUser = {
      id: `${prefix}-sleeper`,
      name: 'Sleeper',
      ...address('sleeper'),
      prefs: { email: 'on', sms: 'on', push: 'off', console: 'off', tz: zone, quiet },
    };
    const locked: TestUser = {
      id: `${prefix}-locked`,
      name: 'Locked Out',
      ...address('locked'),
      prefs: { email: 'off', sms: 'off', push: 'off', console: 'off', tz: zone, quiet },
    };
    const picky: TestUser = {
      id: `${prefix}-picky`,
      name: 'Picky',
      ...address('picky'),
      prefs: { email: 'on', sms: 'on', push: 'off', console: 'off', 'item_purchased.sms': 'off' },
    };
    const leaver: TestUser = {
      id: `${prefix}-leaver`,
      name: 'Leaver',
      ...address('leaver'),
      prefs: { email: 'off', sms: 'on', push: 'off', console: 'off', tz: zone, quiet },
    };
    const garbled: TestUser = {
      id: `${prefix}-garbled`,
      name: 'Garbled',
      ...address('garbled'),
      prefs: { email: 'on', sms: 'off', push: 'off', console: 'off', tz: 'Mars/Base', quiet: '25:99-x' },
    };
    await users([sleeper, locked, picky, leaver, garbled]);
    const topic = topics.rules;
    const p = consume(topic, unique('rules-group'));
    await p.waitForAssignment();
    const purchase = event('item_purchased', sleeper.id, { orderId: 'o-1', item: 'lamp', amount: 12 });
    const reset = event('password_reset', locked.id, { code: '424242' });
    const typed = event('item_purchased', picky.id, { orderId: 'o-2' });
    const gone = event('user_signup', leaver.id, { plan: 'pro' });
    const bad = event('user_signup', garbled.id, { plan: 'pro' });
    const all = [purchase, reset, typed, gone, bad];
    pairs.push(...all.flatMap((e) => ['email', 'sms', 'push', 'console'].map((c) => [e.id, c] as const)));
    await produceEvents(topic, all);
    const ids = new Set<string>(all.map((e) => e.id));

    // At once: what is not deferred, and the deferrals with their due time.
    await waitFor('25 delivery lines', () => deliveries(ids).length >= 25, 30_000);
    expect(Date.now(), 'the events were consumed before the windows ended').toBeLessThan(clock.endReal());
    expect(summary(deliveries(ids))).toEqual(
      [
        'sleeper email deferred quiet-hours',
        'sleeper sms deferred quiet-hours',
        'sleeper push skipped opted-out',
        'sleeper console skipped opted-out',
        'sleeper webhook skipped opted-out',
        // required: email whatever the preferences; urgent: not held by quiet hours
        'locked email sent',
        'locked sms skipped opted-out',
        'locked push skipped opted-out',
        'locked console skipped opted-out',
        'locked webhook skipped opted-out',
        'picky email sent',
        'picky sms skipped type-opted-out',
        'picky push skipped opted-out',
        'picky console skipped opted-out',
        'picky webhook skipped opted-out',
        'leaver email skipped opted-out',
        'leaver sms deferred quiet-hours',
        'leaver push skipped opted-out',
        'leaver console skipped opted-out',
        'leaver webhook skipped opted-out',
        // tz and quiet ignored: not deferred, sent with a warning
        'garbled email sent',
        'garbled sms skipped opted-out',
        'garbled push skipped opted-out',
        'garbled console skipped opted-out',
        'garbled webhook skipped opted-out',
      ].sort(),
    );
    const deferred = deliveries(ids).filter((l) => l.status === 'deferred');
    for (const d of deferred) expect(d.dueAt).toBe(new Date(clock.end).toISOString());
    for (const d of deliveries(new Set([bad.id]))) expect(d.warning).toBe('prefs-invalid: tz, quiet');
    // the schedule holds the deferrals, due at the window's end
    const pending = await scheduleEntries(redis, [
      [purchase.id, 'email'],
      [purchase.id, 'sms'],
      [gone.id, 'sms'],
    ]);
    expect(pending.map((e) => [e.score, e.entry?.userId])).toEqual([
      [clock.end, sleeper.id],
      [clock.end, sleeper.id],
      [clock.end, leaver.id],
    ]);
    // the password reset reached the email of a user with every channel off, at once, code and all
    const resetMail = (await readOutbox(redis, 'email')).filter((l) => l.event === reset.id);
    expect(resetMail).toEqual([expect.objectContaining({ to: locked.email, text: expect.stringContaining('424242') })]);

    // The leaver turns SMS off before the window ends (redis-cli HSET, as another program would).
    await redis.hset(`prefs:${leaver.id}`, 'sms', 'off');

    // At the window's end: each deferred send once, marked deferred, within 5 s; the opt-out skipped.
    const later = (l: Line) => l.deferred === true;
    await waitFor('3 deferred sends settled', () => deliveries(ids).filter(later).length >= 3, 60_000);
    expect(summary(deliveries(ids).filter(later))).toEqual(
      [
        'sleeper email sent (deferred)',
        'sleeper sms sent (deferred)',
        'leaver sms skipped opted-out (deferred)',
      ].sort(),
    );
    for (const l of deliveries(ids).filter(later)) {
      expect(l.arrived, 'not before the window ends').toBeGreaterThanOrEqual(clock.endReal());
      expect(l.arrived - clock.endReal(), 'within 5 s of the due time').toBeLessThan(5_000);
    }
    const counts = await accepted(ids);
    expect(Object.fromEntries(counts)).toEqual({
      [`${purchase.id}/email`]: 1,
      [`${purchase.id}/sms`]: 1,
      [`${reset.id}/email`]: 1,
      [`${typed.id}/email`]: 1,
      [`${bad.id}/email`]: 1,
    });
    // nothing left in the schedule for them, once every consumer has had its turn
    await waitFor(
      'the schedule emptied of the cases entries',
      async () =>
        (await scheduleEntries(redis, pairs)).filter((e) => ids.has(String(e.entry?.eventId))).length === 0 ||
        undefined,
    );
    // nothing more later: no second send of anything
    expect(deliveries(ids).filter((l) => l.status === 'sent')).toHaveLength(5);
  });

  it('a deferral of 2 minutes (pipeline time) with --dedupe-window 1m, redelivered to two other groups: one entry, one send', async ({
    expect,
  }) => {
    const reader: TestUser = {
      id: `${prefix}-reader`,
      name: 'Reader',
      email: 'reader@example.com',
      prefs: {
        email: 'on',
        sms: 'off',
        push: 'off',
        console: 'off',
        tz: 'Europe/Paris',
        quiet: windowEndingAt(clock.end, 'Europe/Paris', 240),
      },
    };
    await users([reader]);
    const topic = topics.dedupe;
    const e = event('user_signup', reader.id, { plan: 'pro' });
    pairs.push([e.id, 'email']);
    const ids = new Set<string>([e.id]);
    await produceEvents(topic, [e]);
    // Consumed with the clock 2 minutes behind the others: due 2.5-3 minutes after it was deferred.
    const group = unique('dd-group');
    const first = consume(topic, group, [], -120_000);
    await first.waitForLines('the deferral', (l) => l.some((x) => x.kind === 'delivery'), 30_000);
    expect(first.deliveries({ eventId: e.id, channel: 'email' })).toEqual([
      expect.objectContaining({ channel: 'email', status: 'deferred', dueAt: new Date(clock.end).toISOString() }),
    ]);
    const [entry] = await scheduleEntries(redis, [[e.id, 'email']]);
    expect(entry?.score).toBe(clock.end);
    expect(clock.end - Number(entry?.entry?.deferredAt)).toBeGreaterThan(120_000);

    // Another group reads the topic from the beginning before the due time: deferred again onto the same entry.
    const second = consume(topic, unique('dd-other'), [], -120_000);
    await second.waitForLines('the second deferral', (l) => l.some((x) => x.kind === 'delivery'), 30_000);
    expect(second.deliveries({ eventId: e.id, channel: 'email' }).map((l) => l.status)).toEqual(['deferred']);
    expect(await scheduleEntries(redis, [[e.id, 'email']])).toEqual([entry]);
    await Promise.all([first.stop(), second.stop()]);

    // The first group restarts on the file's clock (any consumer on this Redis may send it): sent once.
    consume(topic, group);
    await waitFor('the deferred send', () => deliveries(ids).some((l) => l.deferred === true), 90_000);
    expect(summary(deliveries(ids).filter((l) => l.deferred === true))).toEqual(['reader email sent (deferred)']);

    // A third group re-reads the topic after the send: a duplicate, no entry, no send.
    const third = consume(topic, unique('dd-third'));
    await third.waitForLines('the redelivery', (l) => l.some((x) => x.kind === 'delivery'), 30_000);
    expect(
      third.deliveries({ eventId: e.id, channel: 'email' }).map((l) => `${String(l.status)} ${String(l.reason)}`),
    ).toEqual(['duplicate already-sent']);
    expect(await scheduleEntries(redis, [[e.id, 'email']])).toEqual([]);
    expect(Object.fromEntries(await accepted(ids))).toEqual({ [`${e.id}/email`]: 1 });
  });

  it('3 consumers of one group share the schedule: 300 deferred sends due at once, each sent once', async ({
    expect,
  }) => {
    const crowd: TestUser[] = Array.from({ length: 30 }, (_, i) => ({
      id: `${prefix}-crowd${i}`,
      name: `Crowd ${i}`,
      email: `crowd${i}@example.com`,
      phone: `+1555020${String(i).padStart(2, '0')}`,
      prefs: {
        email: 'on',
        sms: 'on',
        push: 'off',
        console: 'off',
        tz: 'America/New_York',
        quiet: windowEndingAt(clock.end, 'America/New_York'),
      },
    }));
    await users(crowd);
    const topic = topics.crowd;
    const group = unique('3c-group');
    const consumers = [consume(topic, group), consume(topic, group), consume(topic, group)];
    await Promise.all(consumers.map((c) => c.waitForAssignment()));
    const events = Array.from({ length: 150 }, (_, i) =>
      event('user_signup', crowd[i % crowd.length]!.id, { plan: 'pro' }),
    );
    pairs.push(...events.flatMap((e) => [[e.id, 'email'] as const, [e.id, 'sms'] as const]));
    const ids = new Set<string>(events.map((e) => e.id));
    await produceEvents(topic, events);
    await waitFor('300 deferrals', () => deliveries(ids).filter((l) => l.status === 'deferred').length >= 300, 45_000);
    expect(Date.now(), 'deferred before the windows ended').toBeLessThan(clock.endReal());
    // Another group drains the topic (its clock a minute behind: still in the windows): it defers onto
    // the same 300 entries, exits once caught up without waiting for them, and its stats line counts
    // the deferrals and the pending schedule.
    const drained = await runCli(
      consumeArgs(topic, unique('3c-drain'), [...DEDUPE, '--drain', '--output', 'stats']),
      { ...process.env, ...offsetEnv(-60_000) },
      45_000,
    );
    expect(drained.code, drained.stderr.slice(-2000)).toBe(0);
    const stats = drained.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, number>)
      .at(-1)!;
    expect(stats).toMatchObject({ kind: 'stats', consumed: 150, deferred: 300, sent: 0 });
    expect(stats.scheduled).toBeGreaterThanOrEqual(300);
    await waitFor('300 deferred sends', () => deliveries(ids).filter((l) => l.deferred === true).length >= 300, 90_000);
    const counts = await accepted(ids);
    const twice = [...counts].filter(([, n]) => n !== 1);
    expect(twice).toEqual([]);
    expect(counts.size).toBe(300);
    const later = deliveries(ids).filter((l) => l.deferred === true);
    expect(later.filter((l) => l.status !== 'sent').map((l) => `${String(l.status)} ${String(l.reason)}`)).toEqual([]);
    expect(new Set(later.map((l) => `${String(l.eventId)}/${String(l.channel)}`)).size).toBe(300);
    await waitFor(
      'the schedule emptied of the 300',
      async () =>
        (await scheduleEntries(redis, pairs)).filter((x) => ids.has(String(x.entry?.eventId))).length === 0 ||
        undefined,
    );
  });
});
