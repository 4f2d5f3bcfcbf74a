/**
 * The pipeline end to end on the real Kafka and Redis, through the real CLI:
 * what a user sees on stdout, in the topics and in Redis.
 */
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findOnPath } from '../../src/stack/toolchain.js';
import { runCli, type CliResult } from '../support/cli.js';
import {
  brokers,
  CliProcess,
  consumeArgs,
  committedOffsets,
  createTopic,
  event,
  firstOutcomes,
  newRedis,
  produceEvents,
  produceRaw,
  readOutbox,
  readTopic,
  removeUsers,
  unique,
  writeUsers,
  type Line,
  type TestUser,
} from '../support/pipeline.js';

const redis = newRedis();
const running: CliProcess[] = [];
const consume = (...args: Parameters<typeof CliProcess.consume>): CliProcess => {
  const p = CliProcess.consume(...args);
  running.push(p);
  return p;
};

const prefix = unique('pl');
const alice: TestUser = {
  id: `${prefix}-alice`,
  name: 'Alice',
  email: 'alice@example.com',
  phone: '+15550100',
  pushToken: 'tok-a',
  prefs: { email: 'on', sms: 'on', push: 'off', console: 'on' },
};
const bob: TestUser = {
  id: `${prefix}-bob`,
  name: 'Bob',
  email: 'bob@example.com',
  prefs: { email: 'off', sms: 'on', push: 'on', console: 'off' },
};
const carol: TestUser = {
  id: `${prefix}-carol`,
  name: 'Carol',
  email: 'carol@example.com',
  phone: '+15550102',
  pushToken: 'tok-c',
  prefs: { email: 'on', sms: 'on', push: 'on', console: 'off' },
};

/** Each (event, channel)'s outcome as `<user> <channel> <status> [reason]`, sorted. */
const summary = (lines: Line[]): string[] =>
  firstOutcomes(lines)
    .map(
      (l) =>
        `${String(l.userId).replace(`${prefix}-`, '')} ${String(l.channel)} ${String(l.status)}${l.reason ? ` ${String(l.reason)}` : ''}`,
    )
    .sort();

beforeAll(async () => {
  await writeUsers(redis, [alice, bob, carol]);
});

afterAll(async () => {
  await Promise.all(running.map((p) => p.stop('SIGKILL')));
  await removeUsers(redis, [alice.id, bob.id, carol.id]);
  redis.disconnect();
});

describe('consume: deliveries follow the preferences in Redis', () => {
  it('sends on each enabled channel with an address and skips the others with a reason', async () => {
    const topic = unique('events');
    const group = unique('group');
    await createTopic(topic);
    await produceEvents(topic, [
      event('user_signup', alice.id, { plan: 'pro' }),
      event('item_purchased', bob.id),
      event('password_reset', `${prefix}-nobody`),
    ]);
    const p = consume(topic, group);
    await p.waitForLines('15 (event, channel) outcomes', (lines) => firstOutcomes(lines).length >= 15);
    expect(summary(p.lines)).toEqual(
      [
        'alice email sent',
        'alice sms sent',
        'alice push skipped opted-out',
        'alice console sent',
        'alice webhook skipped opted-out',
        'bob email skipped opted-out',
        'bob sms skipped no-address',
        'bob push skipped no-address',
        'bob console skipped opted-out',
        'bob webhook skipped opted-out',
        'nobody email skipped unknown-user',
        'nobody sms skipped unknown-user',
        'nobody push skipped unknown-user',
        'nobody console skipped unknown-user',
        'nobody webhook skipped unknown-user',
      ].sort(),
    );
    const sent = p.deliveries({ status: 'sent' })[0]!;
    expect(Object.keys(sent).sort()).toEqual(
      ['attempts', 'channel', 'eventId', 'kind', 'latencyMs', 'reason', 'status', 'type', 'userId'].sort(),
    );
    expect(typeof sent.latencyMs).toBe('number');
    // the console channel prints a human-readable line on stderr, never on stdout (each pipe read in its own time)
    await p.waitForStderr('the console line', (s) =>
      /\[console\] Alice: Welcome, Alice! Your pro account is ready\./.test(s),
    );
    // the provider kept what it accepted in Redis, readable with redis-cli
    const outbox = await readOutbox(redis, 'email');
    const aliceEventId = p.deliveries({ userId: alice.id, channel: 'email' })[0]!.eventId;
    // exactly the documented fields (docs/contracts.md), once
    expect(outbox.filter((line) => line.event === aliceEventId)).toEqual([
      {
        event: aliceEventId,
        user: alice.id,
        to: alice.email,
        text: expect.stringContaining('Alice') as unknown,
        at: expect.any(Number) as unknown,
      },
    ]);
    // lookups are reported per event
    expect(p.lines.filter((l) => l.kind === 'lookup' && l.userId === alice.id)[0]).toMatchObject({
      found: true,
      channelsOn: ['email', 'sms', 'console'],
    });
  });

  it('a channel left out of prefs:<id> is off: only the channel written `on` is sent', async () => {
    // Every channel has its address; the preferences hash names email alone (docs/contracts.md: missing = off).
    const dave = `${prefix}-dave`;
    await writeUsers(redis, [
      {
        id: dave,
        name: 'Dave',
        email: 'dave@example.com',
        phone: '+15550103',
        pushToken: 'tok-d',
        prefs: { email: 'on' },
      },
    ]);
    expect(await redis.hgetall(`prefs:${dave}`)).toEqual({ email: 'on' });
    try {
      const topic = unique('events');
      await createTopic(topic);
      const sent = event('user_signup', dave);
      await produceEvents(topic, [sent]);
      const p = consume(topic, unique('group'));
      await p.waitForLines('the five outcomes', (lines) => firstOutcomes(lines).length >= 5);
      expect(summary(p.lines)).toEqual(
        [
          'dave email sent',
          'dave sms skipped opted-out',
          'dave push skipped opted-out',
          'dave console skipped opted-out',
          'dave webhook skipped opted-out',
        ].sort(),
      );
      expect(p.lines.find((l) => l.kind === 'lookup' && l.userId === dave)).toMatchObject({
        found: true,
        channelsOn: ['email'],
      });
      // What a provider got: one email, no SMS and no push; and no console line.
      expect((await readOutbox(redis, 'email')).filter((m) => m.event === sent.id)).toHaveLength(1);
      expect((await readOutbox(redis, 'sms')).filter((m) => m.event === sent.id)).toEqual([]);
      expect((await readOutbox(redis, 'push')).filter((m) => m.event === sent.id)).toEqual([]);
      expect(p.stderr).not.toMatch(/\[console\] Dave/);
      // The hash still holds only what was written: nothing filled the missing fields in.
      expect(await redis.hgetall(`prefs:${dave}`)).toEqual({ email: 'on' });
    } finally {
      await removeUsers(redis, [dave]);
    }
  });

  it('a preference flipped with a plain Redis client governs the next event', async () => {
    const topic = unique('events');
    const group = unique('group');
    await createTopic(topic);
    await writeUsers(redis, [carol]);
    const p = consume(topic, group);
    await produceEvents(topic, [event('user_signup', carol.id)]);
    await p.waitForLines(
      'the first event delivered',
      (lines) => lines.filter((l) => l.kind === 'delivery').length >= 4,
    );
    expect(p.deliveries({ channel: 'sms' })[0]).toMatchObject({ status: 'sent' });
    await redis.hset(`prefs:${carol.id}`, 'sms', 'off');
    await produceEvents(topic, [event('item_purchased', carol.id)]);
    await p.waitForLines(
      'the second event delivered',
      (lines) => lines.filter((l) => l.kind === 'delivery').length >= 8,
    );
    const sms = p.deliveries({ channel: 'sms' });
    expect(sms.map((l) => [l.type, l.status, l.reason])).toEqual([
      ['user_signup', 'sent', null],
      ['item_purchased', 'skipped', 'opted-out'],
    ]);
  });

  it('an event written by kcat in the contract shape is consumed like our own', async () => {
    const kcat = findOnPath('kcat');
    expect(kcat, 'kcat is installed by .ci/run').toBeDefined();
    const topic = unique('events');
    await createTopic(topic);
    const e = event('password_reset', alice.id, { code: '424242' });
    execFileSync(kcat!, ['-b', brokers(), '-P', '-t', topic, '-k', alice.id, '-H', 'event-type=password_reset'], {
      input: JSON.stringify(e),
    });
    const p = consume(topic, unique('group'));
    await p.waitForLines('the kcat event delivered', (lines) => lines.filter((l) => l.kind === 'delivery').length >= 4);
    expect(p.deliveries({ eventId: e.id, channel: 'sms' })[0]).toMatchObject({
      status: 'sent',
      type: 'password_reset',
    });
    await p.waitForStderr('the console line', (s) => /\[console\] Alice: Password reset code: 424242/.test(s));
  });
});

describe('bad input goes to the dead-letter topic and blocks nothing', () => {
  it('each kind of malformed message lands in <topic>.dlq with its reason, and the next good event is delivered', async () => {
    const topic = unique('events');
    await createTopic(topic, 1);
    const good = event('user_signup', alice.id);
    const tooLarge = JSON.stringify(event('user_signup', alice.id, { blob: 'x'.repeat(2048) }));
    const bad: { name: string; value: Buffer | string; reason: string }[] = [
      { name: 'invalid JSON', value: '{"id": "x", ', reason: 'invalid-json' },
      { name: 'invalid UTF-8', value: Buffer.from([0x7b, 0xc3, 0x28, 0x7d]), reason: 'invalid-utf8' },
      {
        name: 'schema violation',
        value: JSON.stringify({ id: 'x', type: 'user_signup', userId: 7 }),
        reason: 'schema',
      },
      { name: 'unknown type', value: JSON.stringify(event('rocket_launch', alice.id)), reason: 'unknown-type' },
      { name: 'over the size limit', value: tooLarge, reason: 'too-large' },
    ];
    await produceRaw(topic, [
      ...bad.map((b) => ({ key: b.name, value: b.value, headers: { origin: 'test' } })),
      { key: alice.id, value: JSON.stringify(good) },
    ]);
    const p = consume(topic, unique('group'), ['--max-bytes', '1024']);
    await p.waitForLines('the good event delivered after the bad ones', (lines) =>
      lines.some((l) => l.kind === 'delivery' && l.eventId === good.id && l.channel === 'email'),
    );
    expect(p.lines.filter((l) => l.kind === 'deadletter').map((l) => l.reason)).toEqual(bad.map((b) => b.reason));

    const letters = await readTopic(`${topic}.dlq`, bad.length);
    expect(letters.map((l) => l.key)).toEqual(bad.map((b) => b.name));
    for (const [i, letter] of letters.entries()) {
      expect(letter.value?.equals(Buffer.isBuffer(bad[i]!.value) ? bad[i]!.value : Buffer.from(bad[i]!.value))).toBe(
        true,
      );
      expect(letter.headers['dlq-reason']).toBe(bad[i]!.reason);
      expect(letter.headers['dlq-source-topic']).toBe(topic);
      expect(letter.headers['dlq-source-partition']).toBe('0');
      expect(letter.headers['dlq-source-offset']).toBe(String(i));
      expect(letter.headers['dlq-detail']?.length).toBeGreaterThan(0);
      expect(letter.headers.origin).toBe('test');
    }
    expect(p.child.exitCode).toBeNull();
  });
});

describe('failing senders', () => {
  it('retries with backoff, then reports failed and dead-letters the event with the channel; nothing is dropped silently', async () => {
    const topic = unique('events');
    await createTopic(topic, 1);
    const e = event('user_signup', carol.id);
    await writeUsers(redis, [carol]);
    await produceEvents(topic, [e]);
    const p = consume(topic, unique('group'), ['--failure-rate', '1']);
    await p.waitForLines(
      'the sends to fail',
      (lines) => lines.filter((l) => l.kind === 'delivery' && l.status === 'failed').length >= 3,
    );
    expect(p.deliveries({ status: 'failed' }).map((l) => [l.channel, l.attempts, l.reason])).toEqual(
      expect.arrayContaining([
        ['email', 4, 'email provider rejected the send (simulated failure)'],
        ['sms', 4, 'sms provider rejected the send (simulated failure)'],
        ['push', 4, 'push provider rejected the send (simulated failure)'],
      ]),
    );
    const letters = await readTopic(`${topic}.dlq`, 3);
    expect(letters.map((l) => l.headers['dlq-channel']).sort()).toEqual(['email', 'push', 'sms']);
    expect(
      letters.every((l) => l.headers['dlq-reason'] === 'delivery-failed' && l.value?.toString() === JSON.stringify(e)),
    ).toBe(true);
  });
});

/**
 * Restarts a consumer of `group` after a crash, waits for the redelivered event to settle, checks that
 * nothing was sent again, and returns its duplicates as "channel reason", sorted.
 */
async function restartAndReadDuplicates(topic: string, group: string): Promise<string[]> {
  const restarted = consume(topic, group);
  await restarted.waitForLines(
    'the redelivered event settled',
    (lines) => lines.filter((l) => l.kind === 'delivery').length >= 4,
  );
  expect(restarted.deliveries({ status: 'sent' })).toEqual([]);
  return restarted
    .deliveries({ status: 'duplicate' })
    .map((l) => `${String(l.channel)} ${String(l.reason)}`)
    .sort();
}

describe('crashes: at-least-once in, once per channel out', () => {
  it('a consumer killed before committing, then restarted, reports duplicate and never a second sent', async () => {
    const topic = unique('events');
    const group = unique('group');
    await createTopic(topic, 1);
    const e = event('user_signup', alice.id);
    await produceEvents(topic, [e]);
    const crashing = consume(topic, group, [], { EVENTSTREAM_CRASH_AT: 'before-commit' });
    const { signal } = await crashing.exited;
    expect(signal).toBe('SIGKILL');
    expect(
      crashing
        .deliveries({ status: 'sent' })
        .map((l) => l.channel)
        .sort(),
    ).toEqual(['console', 'email', 'sms']);

    expect(await restartAndReadDuplicates(topic, group)).toEqual([
      'console already-sent',
      'email already-sent',
      'sms already-sent',
    ]);
  });

  it("a crash after the provider accepted but before the ledger was written: the provider's idempotency key makes it a duplicate", async () => {
    const topic = unique('events');
    const group = unique('group');
    await createTopic(topic, 1);
    const e = event('item_purchased', carol.id);
    await writeUsers(redis, [carol]);
    await produceEvents(topic, [e]);
    const crashing = consume(topic, group, [], { EVENTSTREAM_CRASH_AT: 'before-mark' });
    expect((await crashing.exited).signal).toBe('SIGKILL');
    expect(await restartAndReadDuplicates(topic, group)).toEqual([
      'email provider-already-accepted',
      'push provider-already-accepted',
      'sms provider-already-accepted',
    ]);
    for (const channel of ['email', 'sms', 'push']) {
      const outbox = await readOutbox(redis, channel);
      expect(
        outbox.filter((line) => line.event === e.id),
        `${channel} outbox holds the event once`,
      ).toHaveLength(1);
    }
  });
});

describe('scale-out and shutdown', () => {
  it('two consume processes in one group split the partitions and together send each (event, channel) once', async () => {
    const topic = unique('events');
    const group = unique('group');
    await createTopic(topic, 6);
    const a = consume(topic, group);
    await a.waitForAssignment();
    const b = consume(topic, group);
    await b.waitForAssignment();
    await a.waitForLines('a rebalance', () => (a.stderr.match(/"kind":"assignment"/g) ?? []).length >= 2, 30_000);
    const pa = await a.waitForAssignment();
    const pb = await b.waitForAssignment();
    expect(pa.length).toBeGreaterThan(0);
    expect(pb.length).toBeGreaterThan(0);
    expect([...pa, ...pb].sort()).toEqual([0, 1, 2, 3, 4, 5]);

    const users = [alice, carol];
    const events = Array.from({ length: 60 }, (_, i) => event('user_signup', `${users[i % 2]!.id}`));
    // many keys so every partition gets some: the key is the user id, so vary users
    const extra: TestUser[] = Array.from({ length: 12 }, (_, i) => ({
      id: `${prefix}-u${i}`,
      name: `U${i}`,
      email: `u${i}@example.com`,
      prefs: { email: 'on', sms: 'off', push: 'off', console: 'off' },
    }));
    await writeUsers(redis, extra);
    const spread = extra.map((u) => event('user_signup', u.id));
    await produceEvents(topic, [...events, ...spread]);
    const expectedSent = 30 * 3 + 30 * 3 + 12; // alice: email, sms, console; carol: email, sms, push; extra: email
    await carolPrefs();
    const sentPairs = (): string[] =>
      [...a.deliveries({ status: 'sent' }), ...b.deliveries({ status: 'sent' })].map(
        (l) => `${String(l.eventId)}/${String(l.channel)}`,
      );
    await a.waitForLines('every event delivered by the pair', () => sentPairs().length >= expectedSent, 60_000);
    expect(sentPairs()).toHaveLength(expectedSent);
    expect(new Set(sentPairs()).size).toBe(expectedSent);
    expect(a.deliveries().length).toBeGreaterThan(0);
    expect(b.deliveries().length).toBeGreaterThan(0);
    await removeUsers(
      redis,
      extra.map((u) => u.id),
    );
  });

  it('SIGINT exits 0 within 5 s with offsets committed for everything delivered', async () => {
    const topic = unique('events');
    const group = unique('group');
    await createTopic(topic, 3);
    const p = consume(topic, group);
    await produceEvents(
      topic,
      Array.from({ length: 30 }, () => event('password_reset', alice.id)),
    );
    await p.waitForLines(
      '30 events delivered',
      (lines) => lines.filter((l) => l.kind === 'delivery' && l.channel === 'email').length >= 30,
    );
    const started = Date.now();
    const { code } = await p.stop('SIGINT');
    expect(code).toBe(0);
    expect(Date.now() - started).toBeLessThan(5_000);
    const { committed, high } = await committedOffsets(group, topic);
    const withData = [...high].filter(([, end]) => end > 0n);
    expect(withData.length).toBeGreaterThan(0);
    for (const [partition, end] of withData) expect(committed.get(partition), `partition ${partition}`).toBe(end);
  });

  it('consume --drain exits 0 once it has caught up with the end of every partition', async () => {
    const topic = unique('events');
    await createTopic(topic, 3);
    await produceEvents(
      topic,
      Array.from({ length: 9 }, () => event('user_signup', carol.id)),
    );
    const { result, stats } = await drain(topic, unique('group'), 60_000);
    expect(result.code).toBe(0);
    expect(stats.at(-1)).toMatchObject({ kind: 'stats', consumed: 9, deadletter: 0 });
    expect(stats.at(-1)!.sent! + stats.at(-1)!.skipped!).toBe(45); // 9 events × 5 channels
  });

  it('consume --from latest --drain with a new group is caught up once it has joined: exit 0, nothing consumed', async () => {
    const topic = unique('events');
    await createTopic(topic, 3);
    await produceEvents(
      topic,
      Array.from({ length: 6 }, () => event('user_signup', carol.id)),
    );
    const { result, stats } = await drain(topic, unique('group'), 30_000, ['--from', 'latest']);
    expect(result.code, result.stderr).toBe(0);
    expect(stats.at(-1)).toMatchObject({ kind: 'stats', consumed: 0 });
  });
});

/** `consume --drain --output stats` of `topic` as group `group`: its result and its stats lines. */
async function drain(
  topic: string,
  group: string,
  timeoutMs: number,
  extra: string[] = [],
): Promise<{ result: CliResult; stats: Record<string, number>[] }> {
  const result = await runCli(
    consumeArgs(topic, group, ['--drain', ...extra, '--output', 'stats']),
    process.env,
    timeoutMs,
  );
  const stats = result.stdout
    .trim()
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as Record<string, number>);
  return { result, stats };
}

async function carolPrefs(): Promise<void> {
  await redis.hset(`prefs:${carol.id}`, { email: 'on', sms: 'on', push: 'on', console: 'off' });
}
