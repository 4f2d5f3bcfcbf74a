/**
 * "A node dies" (docs/guarantees.md): the pipeline on a Redis primary with one replica behind a
 * Sentinel; the primary is SIGKILLed mid-drain, the Sentinel promotes the replica, the consumer follows
 * it and finishes. Repeats are counted where they would hurt, at a real webhook receiver (by
 * `webhook-id`), with `--redis-wait-replicas` off and on.
 */
import { randomUUID } from 'node:crypto';
import { Partitioners } from 'kafkajs';
import { afterAll, describe, expect, it } from 'vitest';
import { idempotencyKey } from '../../src/adapters/transport/transport.js';
import {
  brokers,
  CliProcess,
  committedOffsets,
  createTopic,
  readTopic,
  testKafka,
  unique,
  writeUsers,
  type TestUser,
} from '../support/pipeline.js';
import { waitFor } from '../support/cli.js';
import { startSentinelSet, type SentinelSet } from '../support/sentinel.js';
import { startWebhookReceiver, type WebhookReceiver } from '../support/transports.js';

const EVENTS = 9_000;
const USERS = 40;
const SECRET = `whsec_${Buffer.from('redis-failover-test-secret-0123').toString('base64')}`;

const sets: SentinelSet[] = [];
const receivers: WebhookReceiver[] = [];
const running: CliProcess[] = [];

afterAll(async () => {
  await Promise.all(running.map((p) => p.stop('SIGKILL')));
  await Promise.all(receivers.map((r) => r.close()));
  await Promise.all(sets.map((s) => s.stop()));
});

/** The process's exit, or a failure after `ms` with the tail of its stderr (never a silent hang). */
async function exitWithin(p: CliProcess, ms: number, what: string): Promise<number | null> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${what} did not exit within ${ms / 1000} s\n${p.stderr.slice(-6000)}`)),
      ms,
    );
  });
  try {
    return (await Promise.race([p.exited, late])).code;
  } finally {
    clearTimeout(timer);
  }
}

async function produce(topic: string, users: TestUser[]): Promise<string[]> {
  const producer = testKafka().producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  const ids: string[] = [];
  try {
    for (let n = 0; n < EVENTS; n += 1000) {
      const events = Array.from({ length: Math.min(1000, EVENTS - n) }, (_, i) => ({
        id: randomUUID(),
        type: 'user_signup',
        userId: users[(n + i) % users.length]!.id,
        occurredAt: new Date().toISOString(),
        payload: { plan: 'pro' },
      }));
      await producer.send({
        topic,
        messages: events.map((e) => ({ key: e.userId, value: JSON.stringify(e), headers: { 'event-type': e.type } })),
      });
      ids.push(...events.map((e) => e.id));
    }
  } finally {
    await producer.disconnect();
  }
  return ids;
}

interface FailoverReport {
  lost: number;
  repeats: number;
  repeatedIds: number;
  maxPerId: number;
  /** Events not committed when the primary died: the chunks in flight. */
  inFlight: number;
  /** Repeats of events that had been committed before the kill. */
  repeatsOfCommitted: number;
  /** Webhooks sent again when a second group read the topic afterwards: idempotency records lost. */
  resentOnReread: number;
  seconds: number;
}

async function failover(wait: boolean): Promise<FailoverReport> {
  const started = Date.now();
  const set = await startSentinelSet();
  sets.push(set);
  const receiver = await startWebhookReceiver();
  receivers.push(receiver);
  const primary = await set.primaryPort();
  const admin = set.node(primary);
  const prefix = unique('failover');
  const users: TestUser[] = Array.from({ length: USERS }, (_, i) => ({
    id: `${prefix}-u${i}`,
    name: `User ${i}`,
    email: `u${i}@example.com`,
    prefs: { email: 'off', sms: 'off', push: 'off', console: 'off', webhook: 'on' },
  }));
  await writeUsers(admin, users);
  admin.disconnect();
  const topic = unique('failover');
  const group = unique('failover-group');
  await createTopic(topic, 3);
  const ids = await produce(topic, users);

  // A draining consumer of the topic through the Sentinel set, delivering to the receiver.
  const drain = (groupId: string, extra: string[] = []): CliProcess =>
    new CliProcess(
      [
        'consume',
        '--brokers',
        brokers(),
        '--redis',
        set.url,
        '--topic',
        topic,
        '--group',
        groupId,
        '--webhook-url',
        receiver.url,
        '--drain',
        ...extra,
      ],
      { WEBHOOK_SECRET: SECRET },
    );
  const consumer = drain(group, wait ? ['--redis-wait-replicas', '1', '--redis-wait-timeout', '300ms'] : []);
  running.push(consumer);
  // Mid-drain, once a chunk or more is committed (so that both kinds are there: events committed
  // before the kill, and the chunks in flight), the primary dies without a word.
  const before = await waitFor(
    'a committed chunk',
    async () => {
      const offsets = await committedOffsets(group, topic);
      const committed = [...offsets.committed.values()].reduce((a, b) => a + (b > 0n ? b : 0n), 0n);
      return committed >= 1000n ? offsets : undefined;
    },
    120_000,
    50,
  ).catch((error: Error) => {
    throw new Error(`${error.message}\n${consumer.stderr.slice(-8000)}`);
  });
  set.kill(primary);
  const receivedAtKill = receiver.received();
  const promoted = await set.failedOver(primary);
  expect(promoted).not.toBe(primary);
  const code = await exitWithin(consumer, 100_000, 'the consumer draining through the failover');
  expect(code, consumer.stderr.slice(-3000)).toBe(0);
  const reprocessed = (consumer.stderr.match(/processing it again/g) ?? []).length;
  const shortWaits = (consumer.stderr.match(/committed anyway/g) ?? []).length;

  // Where a lost record would hurt next: the topic read again by a second group. Every event's
  // idempotency record should answer `duplicate`; each one lost in the failover is a second webhook.
  const firstRun = new Map(receiver.counts);
  const again = drain(`${group}-again`);
  running.push(again);
  const second = await exitWithin(again, 60_000, 'the second group re-reading the topic');
  expect(second, again.stderr.slice(-3000)).toBe(0);
  let resentOnReread = 0;
  for (const [key, n] of receiver.counts) resentOnReread += n - (firstRun.get(key) ?? 0);

  // Each webhook-id back to its event's partition and offset.
  const offsetOf = new Map<string, { partition: number; offset: bigint }>();
  for (const m of await readTopic(topic, EVENTS)) {
    const id = (JSON.parse(m.value!.toString()) as { id: string }).id;
    offsetOf.set(idempotencyKey(id, 'webhook'), { partition: m.partition, offset: BigInt(m.offset) });
  }
  const committedBefore = (key: string): boolean => {
    const at = offsetOf.get(key)!;
    return at.offset < (before.committed.get(at.partition) ?? 0n);
  };
  const expected = ids.map((id) => idempotencyKey(id, 'webhook'));
  const lost = expected.filter((k) => !firstRun.has(k)).length;
  let repeats = 0;
  let repeatedIds = 0;
  let repeatsOfCommitted = 0;
  for (const [key, n] of firstRun) {
    if (n < 2) continue;
    repeats += n - 1;
    repeatedIds++;
    if (committedBefore(key)) repeatsOfCommitted += n - 1;
  }
  const inFlight = expected.filter((k) => !committedBefore(k)).length;
  const report: FailoverReport = {
    lost,
    repeats,
    repeatedIds,
    maxPerId: Math.max(...firstRun.values()),
    resentOnReread,
    inFlight,
    repeatsOfCommitted,
    seconds: (Date.now() - started) / 1000,
  };
  expect(receivedAtKill, 'the kill came before the drain ended').toBeLessThan(EVENTS);
  process.stdout.write(
    `[faults] Redis primary SIGKILLed mid-drain, WAIT ${wait ? 'on (1 replica, 300ms)' : 'off'}: ${EVENTS} webhooks, lost ${lost}, repeats ${repeats} (${repeatedIds} webhook-ids, at most ${report.maxPerId} times each; ${repeatsOfCommitted} of events committed before the kill), uncommitted at the kill ${inFlight}, received before it ${receivedAtKill}; chunks processed again ${reprocessed}, WAITs short ${shortWaits}; a second group re-reading the topic sent ${resentOnReread} again; ${report.seconds.toFixed(1)} s\n`,
  );
  // Nothing lost, whatever the setting: every event reached the receiver, each under its one key.
  expect(lost).toBe(0);
  expect(new Set(firstRun.keys())).toEqual(new Set(expected));
  return report;
}

describe('a Redis node dies: primary SIGKILLed mid-drain, the Sentinel promotes the replica', () => {
  it('without WAIT: the consumer follows the failover and finishes; nothing lost', async () => {
    await failover(false);
  });

  it('with --redis-wait-replicas 1: nothing lost; repeats only of the chunks in flight, each under its one webhook-id', async () => {
    const report = await failover(true);
    expect(report.repeatsOfCommitted).toBe(0);
    expect(report.resentOnReread).toBe(0);
    expect(report.repeats).toBeLessThanOrEqual(report.inFlight);
  });
});
