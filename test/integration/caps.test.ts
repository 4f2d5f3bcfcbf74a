/**
 * Frequency caps on the real Kafka and Redis, through the real CLI: 3 consumers of one group draining
 * 1,000 events for one capped user (`cap.sms 10/1h`) send exactly 10 SMS; the same with consumers
 * SIGKILLed mid-drain (after sending, before the ledger's mark or before the commit); a second group
 * re-reading the topic counts nothing twice; a required send is never capped nor counted.
 *
 * One user's events all go to one partition when keyed by user (one consumer would take them all, in
 * order): here they are keyed by event id, so they spread over the partitions and the 3 consumers check
 * the one user's cap at the same time. The outbox is the judge: what the provider accepted.
 */
import { afterAll, beforeAll, describe, it } from 'vitest';
import { runCli, waitFor } from '../support/cli.js';
import {
  brokers,
  CliProcess,
  committedOffsets,
  createTopic,
  event,
  newRedis,
  produceEvents,
  produceRaw,
  readOutbox,
  removeUsers,
  unique,
  writeUsers,
  type Line,
  type TestUser,
} from '../support/pipeline.js';
import { capKey } from '../../src/adapters/redis/keys.js';

const redis = newRedis();
const running: CliProcess[] = [];
const userIds: string[] = [];
const prefix = unique('caps');
const topics = {
  three: unique('caps-3c'),
  crash: unique('caps-kill'),
  required: unique('caps-req'),
  broken: unique('caps-wrongtype'),
};

beforeAll(async () => {
  // one at a time: concurrent creations can see a partition before its leader is known
  await createTopic(topics.three, 3);
  await createTopic(topics.crash, 3);
  await createTopic(topics.required, 1);
  await createTopic(topics.broken, 1);
});

afterAll(async () => {
  await Promise.all(running.map((p) => p.stop('SIGKILL')));
  await removeUsers(redis, userIds);
  for (const id of userIds) await redis.del(capKey(id, 'sms'), capKey(id, 'email'));
  redis.disconnect();
});

function consume(topic: string, group: string, env: NodeJS.ProcessEnv = {}): CliProcess {
  const p = CliProcess.consume(topic, group, [], env);
  running.push(p);
  return p;
}

async function cappedUser(name: string, prefs: Record<string, string>): Promise<string> {
  const id = `${prefix}-${name}`;
  userIds.push(id);
  const user: TestUser = {
    id,
    name,
    email: `${name}@example.com`,
    phone: '+15550400000',
    prefs: { email: 'off', sms: 'on', push: 'off', console: 'off', ...prefs },
  };
  await writeUsers(redis, [user]);
  return id;
}

/** `count` user_signup events for `userId`, keyed by event id: spread over the topic's partitions. */
async function produceSpread(topic: string, userId: string, count: number): Promise<Set<string>> {
  const events = Array.from({ length: count }, () => event('user_signup', userId, { plan: 'pro' }));
  await produceRaw(
    topic,
    events.map((e) => ({ key: e.id, value: JSON.stringify(e), headers: { 'event-type': e.type } })),
  );
  return new Set(events.map((e) => e.id));
}

/** The provider's accepted messages on `channel` for `userId`: event id → times accepted. */
async function accepted(userId: string, channel: string): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const line of await readOutbox(redis, channel))
    if (line.user === userId) counts.set(line.event, (counts.get(line.event) ?? 0) + 1);
  return counts;
}

/** Per event id, the one channel's lines of these consumers. */
const channelLines = (consumers: CliProcess[], channel: string): Line[] =>
  consumers.flatMap((c) => c.deliveries({ channel }));

const tally = (lines: Line[]): Record<string, number> => {
  const out: Record<string, number> = {};
  for (const l of lines) {
    const key = `${String(l.status)}${l.reason ? ` ${String(l.reason)}` : ''}`;
    out[key] = (out[key] ?? 0) + 1;
  }
  return out;
};

async function allCommitted(group: string, topic: string): Promise<true | undefined> {
  const { committed, high } = await committedOffsets(group, topic);
  for (const [partition, end] of high) if ((committed.get(partition) ?? -1n) < end) return undefined;
  return true;
}

describe.concurrent('caps on the real Kafka and Redis', () => {
  it('3 consumers of one group, 1,000 events for one user with cap.sms 10/1h: exactly 10 SMS; a second group re-reading counts nothing twice', async ({
    expect,
  }) => {
    const userId = await cappedUser('three', { 'cap.sms': '10/1h' });
    const topic = topics.three;
    const group = unique('caps-3c-group');
    const consumers = [consume(topic, group), consume(topic, group), consume(topic, group)];
    await Promise.all(consumers.map((c) => c.waitForAssignment()));
    const ids = await produceSpread(topic, userId, 1000);
    await waitFor(
      "1,000 events' sms outcomes",
      () => channelLines(consumers, 'sms').filter((l) => ids.has(String(l.eventId))).length >= 1000 || undefined,
      45_000,
    );
    const lines = channelLines(consumers, 'sms').filter((l) => ids.has(String(l.eventId)));
    expect(tally(lines)).toEqual({ sent: 10, 'skipped throttled': 990 });
    // the work was shared: every consumer settled some of the user's events
    expect(consumers.map((c) => c.deliveries({ channel: 'sms' }).length).every((n) => n > 0)).toBe(true);
    const throttled = lines.filter((l) => l.reason === 'throttled');
    expect(new Set(throttled.map((l) => l.detail))).toEqual(new Set(['10 of 10 in the last hour']));
    const outbox = await accepted(userId, 'sms');
    expect(outbox.size).toBe(10);
    expect([...outbox.values()].every((n) => n === 1)).toBe(true);
    expect(await redis.zcard(capKey(userId, 'sms'))).toBe(10);
    const ttl = await redis.pttl(capKey(userId, 'sms'));
    expect(ttl).toBeGreaterThan(3_500_000);
    expect(ttl).toBeLessThanOrEqual(3_600_000);

    // Another group re-reads the whole topic: the 10 sent are duplicates (the ledger, before any cap
    // check), the 990 throttled again, nothing counted twice, nothing sent again.
    const again = consume(topic, unique('caps-3c-again'));
    await again.waitForLines(
      'the re-read',
      () => again.deliveries({ channel: 'sms' }).filter((l) => ids.has(String(l.eventId))).length >= 1000,
      45_000,
    );
    expect(tally(again.deliveries({ channel: 'sms' }))).toEqual({
      'duplicate already-sent': 10,
      'skipped throttled': 990,
    });
    expect(await redis.zcard(capKey(userId, 'sms'))).toBe(10);
    expect((await accepted(userId, 'sms')).size).toBe(10);
  });

  it('consumers SIGKILLed mid-drain (after sending: before the mark, before the commit), then 3 more: still exactly 10 SMS', async ({
    expect,
  }) => {
    const userId = await cappedUser('crash', { 'cap.sms': '10/1h' });
    const topic = topics.crash;
    const group = unique('caps-kill-group');
    const ids = await produceSpread(topic, userId, 1000);
    // Each dies at its first crash point, after a chunk's caps were counted and its sends made (before
    // the mark, or before the commit), maybe while another partition's chunk is counted and not sent.
    const victims = [
      consume(topic, group, { EVENTSTREAM_CRASH_AT: 'before-mark' }),
      consume(topic, group, { EVENTSTREAM_CRASH_AT: 'before-commit' }),
      consume(topic, group, { EVENTSTREAM_CRASH_AT: 'before-mark' }),
    ];
    const exits = await Promise.all(victims.map((v) => v.exited));
    expect(exits.map((e) => e.signal)).toEqual(['SIGKILL', 'SIGKILL', 'SIGKILL']);
    // What they counted before dying; some may not have been sent (a victim's other partition reached
    // its crash point first: the crash between counting and sending). Whatever was sent was counted.
    const countedBefore = new Set(await redis.zrange(capKey(userId, 'sms'), 0, -1));
    expect(countedBefore.size).toBeGreaterThan(0);
    expect(countedBefore.size).toBeLessThanOrEqual(10);
    const beforeRestart = await accepted(userId, 'sms');
    for (const id of beforeRestart.keys()) expect(countedBefore.has(id)).toBe(true);

    const survivors = [consume(topic, group), consume(topic, group), consume(topic, group)];
    await waitFor('the group to commit every offset', () => allCommitted(group, topic), 50_000);
    const outbox = await accepted(userId, 'sms');
    expect(outbox.size).toBe(10);
    expect([...outbox.values()].every((n) => n === 1)).toBe(true);
    expect(await redis.zcard(capKey(userId, 'sms'))).toBe(10);
    // every send counted before the kills was allowed again and sent (never throttled by the redelivery)
    for (const id of countedBefore) expect(outbox.has(id)).toBe(true);
    // The redelivered chunks: what was counted and sent before is a duplicate (never throttled), what
    // was throttled stays throttled; no event is both sent and throttled.
    const lines = channelLines(survivors, 'sms').filter((l) => ids.has(String(l.eventId)));
    const sentOrDuplicate = new Set(lines.filter((l) => l.status !== 'skipped').map((l) => String(l.eventId)));
    for (const id of sentOrDuplicate) expect(outbox.has(id)).toBe(true);
    const throttled = new Set(lines.filter((l) => l.reason === 'throttled').map((l) => String(l.eventId)));
    expect([...throttled].filter((id) => outbox.has(id))).toEqual([]);
    expect(sentOrDuplicate.size + throttled.size).toBe(1000);
  });

  it('a required send (password_reset email) is never capped and does not count', async ({ expect }) => {
    const userId = await cappedUser('required', { email: 'on', sms: 'off', 'cap.email': '1/1h' });
    const topic = topics.required;
    const resets = Array.from({ length: 5 }, () => event('password_reset', userId, { resetUrl: 'https://x/r' }));
    const signups = Array.from({ length: 3 }, () => event('user_signup', userId, { plan: 'pro' }));
    await produceEvents(topic, [...resets, ...signups]);
    const p = consume(topic, unique('caps-req-group'));
    await p.waitForLines('8 email outcomes', () => p.deliveries({ channel: 'email' }).length >= 8, 30_000);
    const byType = (type: string) =>
      p
        .deliveries({ channel: 'email', type })
        .map((l) => `${String(l.status)} ${String(l.reason)}`)
        .sort(); // a chunk's skips are printed before its sends
    expect(byType('password_reset')).toEqual(Array(5).fill('sent null'));
    expect(byType('user_signup')).toEqual(['sent null', 'skipped throttled', 'skipped throttled']);
    expect(
      new Set(p.deliveries({ channel: 'email', type: 'user_signup', status: 'sent' }).map((l) => l.eventId)),
    ).toEqual(new Set([signups[0]!.id]));
    expect(p.deliveries({ channel: 'email', reason: 'throttled' }).map((l) => l.detail)).toEqual([
      '1 of 1 in the last hour',
      '1 of 1 in the last hour',
    ]);
    expect(await redis.zcard(capKey(userId, 'email'))).toBe(1);
    expect((await accepted(userId, 'email')).size).toBe(6);
  });

  it("a cap key of another type: that user's capped sends are dead-lettered store-error, the others go on; replayed once it is mended, counted once", async ({
    expect,
  }) => {
    const broken = await cappedUser('broken', { 'cap.sms': '2/1h' });
    const healthy = await cappedUser('healthy', { 'cap.sms': '2/1h' });
    await redis.set(capKey(broken, 'sms'), 'another program wrote this');
    const topic = topics.broken;
    const events = [broken, healthy, broken, healthy, broken, healthy].map((u) => event('user_signup', u));
    await produceEvents(topic, events);
    const p = consume(topic, unique('caps-wt-group'));
    const sms = (userId: string) => p.deliveries({ channel: 'sms', userId });
    const summary = (userId: string) =>
      sms(userId)
        .map((l) => `${String(l.status)} ${String(l.reason)}`)
        .sort();
    await p.waitForLines('6 sms outcomes', () => p.deliveries({ channel: 'sms' }).length >= 6, 30_000);
    expect(summary(healthy)).toEqual(['sent null', 'sent null', 'skipped throttled']);
    expect(summary(broken)).toEqual(
      Array(3).fill(
        `failed store-error: WRONGTYPE cap:{${broken}}:sms holds a value of another type, not a sorted set`,
      ),
    );
    expect(p.stderr).toMatch(new RegExp(`Redis refused the caps of user ${broken}: WRONGTYPE`));

    // Mended; the letters replayed: the cap counts them now (2 sent, 1 throttled). Replayed again: the 2
    // sent are duplicates (the ledger), the third throttled again, nothing counted twice.
    await redis.del(capKey(broken, 'sms'));
    const replay = () =>
      runCli(['dlq', 'replay', '--brokers', brokers(), '--topic', topic, '--all', '--reason', 'store-error']);
    const first = await replay();
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toMatch(/replayed 3 dead letters/);
    await p.waitForLines('the replayed sends', () => sms(broken).length >= 6, 30_000);
    expect(summary(broken).slice(3)).toEqual(['sent null', 'sent null', 'skipped throttled']);
    const second = await replay();
    expect(second.code, second.stderr).toBe(0);
    await p.waitForLines('the second replay', () => sms(broken).length >= 9, 30_000);
    expect(
      sms(broken)
        .slice(6)
        .map((l) => `${String(l.status)} ${String(l.reason)}`)
        .sort(),
    ).toEqual(['duplicate already-sent', 'duplicate already-sent', 'skipped throttled']);
    expect(await redis.zcard(capKey(broken, 'sms'))).toBe(2);
    expect((await accepted(broken, 'sms')).size).toBe(2);
  });
});
