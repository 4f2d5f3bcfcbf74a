/**
 * The schedule of deferred sends through SIGKILL, on the real Kafka and Redis: a consumer killed with
 * deferred sends pending (in the schedule, offsets committed), and one killed in the middle of sending
 * due entries (sent and recorded, not removed: its claims must run out). After a restart each
 * (event, channel) is sent exactly once.
 *
 * "Later" is the pipeline's clock (EVENTSTREAM_CLOCK_OFFSET_MS): the restarted consumer's clock reads
 * past the due time, and past the dead claimer's lease, instead of the test waiting for them.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../support/cli.js';
import {
  CliProcess,
  committedOffsets,
  createTopic,
  event,
  newRedis,
  produceEvents,
  readOutbox,
  removeUsers,
  unique,
  writeUsers,
  type TestUser,
} from '../support/pipeline.js';
import { quietEnd, removeScheduleEntries, scheduleEntries, windowEndingAt } from '../support/rules.js';
import { DUE_SENDS_LEASE_MS } from '../../src/pipeline/due-sends.js';

const redis = newRedis();
const running: CliProcess[] = [];
const userIds: string[] = [];
const pairs: (readonly [string, string])[] = [];

// A case that failed leaves no consumer behind: one whose clock is ahead would claim the next case's entries.
afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.stop('SIGKILL')));
});

afterAll(async () => {
  await Promise.all(running.map((p) => p.stop('SIGKILL')));
  await removeScheduleEntries(redis, pairs);
  await removeUsers(redis, userIds);
  redis.disconnect();
});

function consume(
  topic: string,
  group: string,
  offsetMs: number,
  env: NodeJS.ProcessEnv = {},
  extra: string[] = [],
): CliProcess {
  const p = CliProcess.consume(topic, group, extra, { EVENTSTREAM_CLOCK_OFFSET_MS: String(offsetMs), ...env });
  running.push(p);
  return p;
}

/** Ten users in quiet hours until `end` (Europe/Paris), email and sms on; `perUser` events each. */
async function deferredFlow(end: number, name: string, count: number) {
  const prefix = unique(name);
  const users: TestUser[] = Array.from({ length: 10 }, (_, i) => ({
    id: `${prefix}-u${i}`,
    name: `User ${i}`,
    email: `u${i}@example.com`,
    phone: `+155503000${i}`,
    prefs: {
      email: 'on',
      sms: 'on',
      push: 'off',
      console: 'off',
      tz: 'Europe/Paris',
      quiet: windowEndingAt(end, 'Europe/Paris'),
    },
  }));
  userIds.push(...users.map((u) => u.id));
  await writeUsers(redis, users);
  const events = Array.from({ length: count }, (_, i) => event('item_purchased', users[i % users.length]!.id));
  const mine = events.flatMap((e) => [[e.id, 'email'] as const, [e.id, 'sms'] as const]);
  pairs.push(...mine);
  return { events, mine, ids: new Set<string>(events.map((e) => e.id)) };
}

/** How many times the provider accepted each of `ids`' (event, channel). */
async function accepted(ids: ReadonlySet<string>): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const channel of ['email', 'sms'])
    for (const line of await readOutbox(redis, channel))
      if (ids.has(line.event))
        counts.set(`${line.event}/${channel}`, (counts.get(`${line.event}/${channel}`) ?? 0) + 1);
  return counts;
}

async function expectEachOnce(ids: ReadonlySet<string>, pairCount: number): Promise<void> {
  const counts = await accepted(ids);
  expect([...counts].filter(([, n]) => n !== 1)).toEqual([]);
  expect(counts.size).toBe(pairCount);
}

describe('the schedule through SIGKILL', () => {
  it('killed with deferred sends pending (offsets committed), restarted after their due time: each sent once', async () => {
    // The windows end 70 s from now: room for a commit slow under load before the kill, which must come
    // before the due time (the restarted consumer's clock is set past it, so nothing waits for it).
    const clock = quietEnd(70_000);
    const { events, mine, ids } = await deferredFlow(clock.end, 'sk-pending', 100);
    const topic = unique('sk-pending');
    const group = unique('sk-pending-group');
    await createTopic(topic, 3);
    const victim = consume(topic, group, clock.offsetMs);
    await victim.waitForAssignment();
    await produceEvents(topic, events);
    await victim.waitForLines('200 deferrals', (l) => l.filter((x) => x.status === 'deferred').length >= 200, 30_000);
    // the deferrals are in the schedule and their offsets committed
    expect(await scheduleEntries(redis, mine)).toHaveLength(200);
    let seen = '';
    await waitFor(
      'the offsets committed',
      async () => {
        const { committed, high } = await committedOffsets(group, topic);
        seen = [...high].map(([p, h]) => `partition ${p}: committed ${committed.get(p) ?? 'none'} of ${h}`).join('; ');
        return [...high].every(([p, h]) => (committed.get(p) ?? -1n) >= h) || undefined;
      },
      55_000,
    ).catch((error: Error) => {
      throw new Error(`${error.message} (${seen})\n--- the consumer's stderr ---\n${victim.stderr.slice(-3000)}`);
    });
    expect(Date.now(), 'killed before the due time').toBeLessThan(clock.endReal());
    await victim.stop('SIGKILL');
    expect(victim.lines.filter((l) => l.status === 'sent')).toEqual([]);

    // Restarted with its clock a minute past the due time.
    const restarted = consume(topic, group, clock.offsetMs + 60_000);
    await restarted.waitForLines(
      '200 deferred sends',
      (l) => l.filter((x) => x.deferred === true).length >= 200,
      60_000,
    );
    // nothing consumed again from Kafka: the offsets were committed
    expect(restarted.lines.filter((l) => l.status === 'deferred')).toEqual([]);
    expect(restarted.deliveries({ status: 'sent' })).toHaveLength(200);
    await expectEachOnce(ids, 200);
    await waitFor('the schedule emptied', async () => (await scheduleEntries(redis, mine)).length === 0 || undefined);
    // its clock is ahead: left running, it would claim the next case's entries before that case's consumer
    await restarted.stop();
  });

  it('killed in the middle of sending due entries (sent, recorded, not removed): after the lease, each sent once', async () => {
    const clock = quietEnd(30_000);
    const { events, mine, ids } = await deferredFlow(clock.end, 'sk-due', 100);
    const topic = unique('sk-due');
    const group = unique('sk-due-group');
    // six partitions: the due entries go out as six chunks, one per source partition; the kill comes after the first
    await createTopic(topic, 6);
    const victim = consume(topic, group, clock.offsetMs, { EVENTSTREAM_CRASH_AT: 'due-before-done' });
    await victim.waitForAssignment();
    await produceEvents(topic, events);
    await victim.waitForLines('200 deferrals', (l) => l.filter((x) => x.status === 'deferred').length >= 200, 30_000);
    const { signal } = await waitFor(
      'the kill at due-before-done',
      () => victim.child.signalCode !== null && victim.exited,
      60_000,
    ).catch((error: Error) => {
      throw new Error(`${error.message}\n--- the consumer's stderr ---\n${victim.stderr.slice(-3000)}`);
    });
    expect(signal).toBe('SIGKILL');
    // the provider took the first chunk's sends (the outcomes are printed after the schedule's done: none were)
    const sentBefore = [...(await accepted(ids)).values()];
    expect(sentBefore.every((n) => n === 1)).toBe(true);
    expect(sentBefore.length).toBeGreaterThan(0);
    expect(sentBefore.length).toBeLessThan(200);
    // every entry still there, claimed: scored by the dead claimer's lease
    const claimed = await scheduleEntries(redis, mine);
    expect(claimed).toHaveLength(200);
    expect(Math.min(...claimed.map((c) => c.score))).toBeGreaterThan(clock.end);

    // Restarted with its clock past the lease: the entries are claimed again; what was sent is a duplicate.
    const restarted = consume(topic, group, clock.offsetMs + DUE_SENDS_LEASE_MS + 5_000);
    await restarted.waitForLines(
      '200 deferred outcomes',
      (l) => l.filter((x) => x.deferred === true).length >= 200,
      60_000,
    );
    const outcomes = restarted.deliveries().filter((l) => l.deferred === true);
    expect(outcomes.filter((l) => l.status === 'sent')).toHaveLength(200 - sentBefore.length);
    expect(outcomes.filter((l) => l.status === 'duplicate')).toHaveLength(sentBefore.length);
    await expectEachOnce(ids, 200);
    await waitFor('the schedule emptied', async () => (await scheduleEntries(redis, mine)).length === 0 || undefined);
    // its clock is ahead: left running, it would claim the next case's entries before that case's consumer
    await restarted.stop();
  });
});
