/**
 * One bad message never stalls a partition: values Redis refuses for good are dead-lettered
 * (`store-error`) and the rest flows; a dead-letter topic that refuses a letter, or a consumer
 * kafkajs will not restart, ends the process non-zero without committing past it; transaction
 * markers never leave the group one offset behind.
 */
import { Dashboards } from '../support/dashboard.js';
import { AssignerProtocol, type Consumer } from 'kafkajs';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { outboxKey } from '../../src/adapters/redis/keys.js';
import { waitFor } from '../support/cli.js';
import {
  brokers,
  CliProcess,
  committedOffsets,
  createTopic,
  event,
  produceEvents,
  produceRaw,
  readOutbox,
  readTopic,
  redisUrl,
  removeUsers,
  testKafka,
  unique,
  writeUsers,
  type TestUser,
} from '../support/pipeline.js';
import { createTopicsLed } from '../support/topics.js';

const running: CliProcess[] = [];
const cleanups: (() => Promise<unknown>)[] = [];
const dashboards = new Dashboards();
afterAll(async () => {
  dashboards.kill();
  await Promise.all(running.map((p) => p.stop('SIGKILL')));
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

/** A Redis database of this file's own on the shared server: its outboxes may be broken on purpose. */
const DB = 11;
const dbUrl = (): string => `${redisUrl().replace(/\/\d*$/, '')}/${DB}`;

/** A Redis client, one user with these preferences, and a topic of one partition: each test's set-up, undone after. */
async function oneUser(
  url: string,
  name: string,
  prefs: Parameters<typeof user>[1],
): Promise<{ redis: Redis; u: ReturnType<typeof user>; topic: string }> {
  const redis = new Redis(url);
  cleanups.push(async () => redis.quit());
  const u = user(unique(name), prefs);
  await writeUsers(redis, [u]);
  cleanups.push(() => removeUsers(redis, [u.id]));
  const topic = unique(`poison-${name}`);
  await createTopic(topic, 1);
  return { redis, u, topic };
}

function consume(topic: string, group: string, extra: string[] = [], url = redisUrl()): CliProcess {
  const p = new CliProcess([
    'consume',
    '--brokers',
    brokers(),
    '--redis',
    url,
    '--topic',
    topic,
    '--group',
    group,
    ...extra,
  ]);
  running.push(p);
  return p;
}

const user = (id: string, prefs: TestUser['prefs']): TestUser => ({
  id,
  name: id,
  email: `${id}@example.com`,
  phone: '+15550001',
  pushToken: 'tok',
  prefs,
});

describe('poison messages', () => {
  it("a user key of another type (WRONGTYPE) dead-letters that user's event as store-error; the partition goes on and --drain exits", async () => {
    const redis = new Redis(redisUrl());
    cleanups.push(async () => redis.quit());
    const bad = unique('wrongtype');
    const good = user(unique('fine'), { email: 'on', sms: 'off', push: 'off', console: 'off' });
    await writeUsers(redis, [good]);
    await redis.set(`user:${bad}`, 'x'); // another program's key, of another type
    cleanups.push(() => redis.del(`user:${bad}`));
    cleanups.push(() => removeUsers(redis, [good.id]));
    const topic = unique('poison');
    await createTopic(topic, 1);
    const before = event('user_signup', good.id);
    const poisoned = event('user_signup', bad);
    const after = event('user_signup', good.id);
    await produceEvents(topic, [before, poisoned, after]);

    const group = unique('g');
    const c = consume(topic, group, ['--drain']);
    const exit = await waitFor('consume --drain to exit', () => c.child.exitCode !== null && c.exited, 60_000);
    expect((await exit).code).toBe(0);

    expect(c.deliveries({ status: 'sent' }).map((d) => d.eventId)).toEqual([before.id, after.id]);
    const [letter] = await readTopic(`${topic}.dlq`, 1);
    expect(letter!.headers['dlq-reason']).toBe('store-error');
    expect(letter!.headers['dlq-detail']).toContain(`user ${bad}`);
    expect(letter!.headers['dlq-detail']).toContain('WRONGTYPE');
    expect(JSON.parse(letter!.value!.toString()).id).toBe(poisoned.id);
    expect(c.lines.filter((l) => l.kind === 'deadletter')).toMatchObject([{ reason: 'store-error', offset: '1' }]);
    expect(c.stderr).toMatch(/error: redis: Redis refused the look-up of user .*WRONGTYPE/);
    const { committed, high } = await committedOffsets(group, topic);
    expect(committed.get(0)).toBe(high.get(0));
  });

  it('an outbox key of another type fails only that channel (store-error letter with the channel); the other channels deliver', async () => {
    const { redis, u, topic } = await oneUser(dbUrl(), 'both', { email: 'on', sms: 'on', push: 'off', console: 'off' });
    await redis.set(outboxKey('sms'), 'not a list');
    cleanups.push(() => redis.del(outboxKey('sms')));
    const e = event('user_signup', u.id);
    await produceEvents(topic, [e]);

    const c = consume(topic, unique('g'), ['--drain'], dbUrl());
    const exit = await waitFor('consume --drain to exit', () => c.child.exitCode !== null && c.exited, 60_000);
    expect((await exit).code).toBe(0);
    expect(c.deliveries({ channel: 'email' })).toMatchObject([{ status: 'sent' }]);
    expect(c.deliveries({ channel: 'sms' })).toMatchObject([{ status: 'failed', attempts: 1 }]);
    expect(String(c.deliveries({ channel: 'sms' })[0]!.reason)).toMatch(/^store-error: .*WRONGTYPE/);
    expect((await readOutbox(redis, 'email')).filter((l) => l.event === e.id)).toHaveLength(1);
    const [letter] = await readTopic(`${topic}.dlq`, 1);
    expect(letter!.headers).toMatchObject({ 'dlq-reason': 'store-error', 'dlq-channel': 'sms' });
    expect(letter!.headers['dlq-detail']).toMatch(/^sms: .*WRONGTYPE/);
    expect(c.stderr).toContain(`error: redis: Redis refused the provider's keys: WRONGTYPE ${outboxKey('sms')}`);
  });

  it("the provider's records of another type fail that window's sends with an error naming the key, said on stderr; nothing is sent, --drain exits", async () => {
    const { redis, u, topic } = await oneUser(dbUrl(), 'rec', { email: 'on', sms: 'off', push: 'off', console: 'on' });
    const e = event('user_signup', u.id);
    const records = `outbox:{provider}:sent:g${Math.floor(Date.parse(e.occurredAt) / 86_400_000)}`;
    await redis.set(records, 'not a hash');
    cleanups.push(() => redis.del(records));
    await produceEvents(topic, [e]);

    const c = consume(topic, unique('g'), ['--drain'], dbUrl());
    const exit = await waitFor('consume --drain to exit', () => c.child.exitCode !== null && c.exited, 60_000);
    expect((await exit).code).toBe(0);
    for (const channel of ['email', 'console']) {
      const [d] = c.deliveries({ channel });
      expect(d).toMatchObject({ status: 'failed' });
      expect(String(d!.reason)).toBe(`store-error: WRONGTYPE ${records} holds a value of another type, not a hash`);
    }
    // once for the chunk, not once per send
    const said = c.stderr.split('\n').filter((l) => l.startsWith("error: redis: Redis refused the provider's keys"));
    expect(said).toEqual([
      `error: redis: Redis refused the provider's keys: WRONGTYPE ${records} holds a value of another type, not a hash`,
    ]);
    expect(await redis.get(records)).toBe('not a hash');
    expect((await readOutbox(redis, 'email')).filter((l) => l.event === e.id)).toEqual([]);
    const letters = await readTopic(`${topic}.dlq`, 2);
    expect(letters.map((l) => l.headers['dlq-channel']).sort()).toEqual(['console', 'email']);
  });

  it('a dead-letter topic that refuses a letter for good stops the consumer: exit 4, one line naming topic, partition, offset and the error, nothing committed past it', async () => {
    const topic = unique('dlq-refuses');
    const admin = testKafka().admin();
    await admin.connect();
    await createTopicsLed(admin, [
      { topic, numPartitions: 1, configEntries: [{ name: 'max.message.bytes', value: String(1 << 20) }] },
      // a dead-letter topic that takes nothing over 1 KB
      { topic: `${topic}.dlq`, numPartitions: 1, configEntries: [{ name: 'max.message.bytes', value: '1024' }] },
    ]);
    await admin.disconnect();
    await produceRaw(topic, [
      { key: 'k', value: `not json ${'x'.repeat(4000)}` },
      { key: 'k', value: JSON.stringify(event('user_signup', 'nobody')) },
    ]);
    const group = unique('g');
    const c = consume(topic, group);
    const exit = await waitFor('the consumer to stop', () => c.child.exitCode !== null && c.exited, 60_000);
    expect((await exit).code).toBe(4);
    expect(c.stderr).toMatch(
      new RegExp(
        `the dead-letter topic refused the letter for ${topic} partition 0 offset 0 \\(invalid-json\\): .*larger`,
      ),
    );
    expect(c.deliveries()).toEqual([]);
    const { committed } = await committedOffsets(group, topic);
    expect(committed.get(0) ?? -1n).toBeLessThanOrEqual(0n);
  });

  /** A topic whose group another application holds with another assignment protocol: kafkajs will not restart ours. */
  async function groupHeldByAnother(): Promise<{ topic: string; group: string }> {
    const topic = unique('crash');
    await createTopic(topic, 1);
    const group = unique('g');
    // Another application in the same group id, speaking another assignment protocol.
    const other: Consumer = testKafka().consumer({
      groupId: group,
      partitionAssigners: [
        () => ({
          name: 'SomeoneElsesAssigner',
          version: 1,
          protocol: ({ topics }) => ({
            name: 'SomeoneElsesAssigner',
            metadata: AssignerProtocol.MemberMetadata.encode({ version: 1, topics, userData: Buffer.alloc(0) }),
          }),
          assign: async ({ members }) =>
            members.map((m) => ({
              memberId: m.memberId,
              memberAssignment: AssignerProtocol.MemberAssignment.encode({
                version: 1,
                assignment: { [topic]: [0] },
                userData: Buffer.alloc(0),
              }),
            })),
        }),
      ],
    });
    cleanups.push(() => other.disconnect());
    let joined = false;
    other.on(other.events.GROUP_JOIN, () => (joined = true));
    await other.connect();
    await other.subscribe({ topic, fromBeginning: true });
    await other.run({ eachMessage: async () => undefined });
    await waitFor('the other application to join the group', () => joined, 30_000);

    return { topic, group };
  }

  it('a consumer kafkajs will not restart (the group is held by another protocol) ends consume with exit 4 and the reason, not a process that consumes nothing', async () => {
    const { topic, group } = await groupHeldByAnother();
    const c = consume(topic, group);
    const exit = await waitFor('consume to exit', () => c.child.exitCode !== null && c.exited, 60_000);
    expect((await exit).code).toBe(4);
    expect(c.stderr).toMatch(/the Kafka consumer crashed and will not restart: .*protocol/i);
  });

  it('the dashboard whose consumer kafkajs will not restart: says so, names no partition as its own, and q exits 4', async () => {
    const { topic, group } = await groupHeldByAnother();
    const { session } = await dashboards.launch(
      { topic, group },
      {
        what: 'the consumer said stopped',
        until: (s) => /will not restart/.test(s),
        timeoutMs: 60_000,
      },
    );
    // The status bar says the consumer stopped, naming no partition as its own.
    const screen = await session.waitForScreen(
      'the consumer said stopped in the status bar',
      (s) => /partitions \(consumer stopped\)/.test(s),
      10_000,
    );
    expect(screen).not.toMatch(/partitions \[0/);
    session.keys('q');
    expect(await session.exitCode()).toBe(4);
  });

  it('events written in transactions: the commit markers do not leave lag at 1, --drain exits and the group is at the end', async () => {
    const { u, topic } = await oneUser(redisUrl(), 'tx', { email: 'off', sms: 'off', push: 'off', console: 'on' });
    const producer = testKafka().producer({
      transactionalId: unique('tx-producer'),
      idempotent: true,
      maxInFlightRequests: 1,
    });
    await producer.connect();
    const events = [event('user_signup', u.id), event('user_signup', u.id), event('user_signup', u.id)];
    for (const e of events) {
      const tx = await producer.transaction();
      await tx.send({ topic, messages: [{ key: u.id, value: JSON.stringify(e) }] });
      await tx.commit();
    }
    await producer.disconnect();

    const group = unique('g');
    const c = consume(topic, group, ['--drain']);
    const exit = await waitFor('consume --drain to exit', () => c.child.exitCode !== null && c.exited, 60_000);
    expect((await exit).code).toBe(0);
    expect(c.deliveries({ status: 'sent' })).toHaveLength(3);
    const { committed, high } = await committedOffsets(group, topic);
    expect(high.get(0)).toBe(6n); // three events, three commit markers
    expect(committed.get(0)).toBe(6n);
  });
});
