/**
 * The fault suite's bookkeeping: what should have been sent (from the
 * preferences), what the providers accepted (their outbox in Redis), what the
 * consumers printed, and the counts each case reports.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { Partitioners } from 'kafkajs';
import { outboxKey } from '../../src/adapters/redis/keys.js';
import { DEFAULT_OUTBOX_MAXLEN } from '../../src/config/retention.js';
import { readOutbox, testKafka, writeUsers, type Line, type TestUser } from '../support/pipeline.js';

export const PROFILE =
  process.env.FAULTS_PROFILE === 'full'
    ? { name: 'full', events: 20_000, kills: 5 }
    : { name: 'ci', events: 4_000, kills: 2 };

/** The outbox must hold a whole run for the audit: the providers keep this many entries per channel. */
export const AUDIT_ENV = { EVENTSTREAM_OUTBOX_MAXLEN: '2000000' };

const CHANNELS = ['email', 'sms', 'push', 'console'] as const;

/** Twelve users, every address present, preferences varied so each channel is on for some. */
export async function faultUsers(redis: Redis, prefix: string): Promise<TestUser[]> {
  const users: TestUser[] = Array.from({ length: 12 }, (_, i) => ({
    id: `${prefix}-u${i}`,
    name: `User ${i}`,
    email: `u${i}@example.com`,
    phone: `+1555000${String(i).padStart(2, '0')}`,
    pushToken: `tok-${i}`,
    prefs: {
      email: i % 4 === 3 ? 'off' : 'on',
      sms: i % 2 === 0 ? 'on' : 'off',
      push: i % 3 === 0 ? 'on' : 'off',
      console: i % 5 === 0 ? 'on' : 'off',
    },
  }));
  await writeUsers(redis, users);
  return users;
}

export interface SentEvent {
  id: string;
  userId: string;
}

/** Produces `count` events at about `rate` per second from this process; resolves with those the broker acknowledged. */
export async function produceFlow(
  topic: string,
  users: TestUser[],
  count: number,
  rate: number,
  onError: (error: Error) => void = () => undefined,
  kafka = testKafka(),
): Promise<SentEvent[]> {
  const producer = kafka.producer({
    createPartitioner: Partitioners.DefaultPartitioner,
    retry: { retries: 30, initialRetryTime: 200, maxRetryTime: 2_000 },
  });
  await producer.connect();
  const acked: SentEvent[] = [];
  const batch = Math.max(1, Math.round(rate / 10));
  try {
    for (let n = 0; n < count; n += batch) {
      const started = Date.now();
      const events = Array.from({ length: Math.min(batch, count - n) }, (_, i) => {
        const user = users[(n + i) % users.length]!;
        return {
          id: randomUUID(),
          type: 'user_signup',
          userId: user.id,
          occurredAt: new Date().toISOString(),
          payload: { plan: 'pro' },
        };
      });
      try {
        await producer.send({
          topic,
          messages: events.map((e) => ({ key: e.userId, value: JSON.stringify(e), headers: { 'event-type': e.type } })),
        });
        acked.push(...events.map((e) => ({ id: e.id, userId: e.userId })));
      } catch (error) {
        onError(error as Error);
      }
      const wait = 100 - (Date.now() - started);
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
  } finally {
    await producer.disconnect();
  }
  return acked;
}

/** Every (event, channel) the preferences ask for. */
export function expectedPairs(events: SentEvent[], users: TestUser[]): Set<string> {
  const byId = new Map(users.map((u) => [u.id, u]));
  const pairs = new Set<string>();
  for (const e of events) {
    const user = byId.get(e.userId)!;
    for (const c of CHANNELS) if (user.prefs[c] === 'on') pairs.add(`${e.id}/${c}`);
  }
  return pairs;
}

/** How many times each provider accepted each (event, channel), read back from the outboxes. */
export async function accepted(redis: Redis, eventIds: Set<string>): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const channel of CHANNELS) {
    for (const line of await readOutbox(redis, channel)) {
      const pair = `${line.event}/${channel}`;
      if (eventIds.has(line.event)) counts.set(pair, (counts.get(pair) ?? 0) + 1);
    }
  }
  return counts;
}

/** After an audit: the outboxes back to the length the providers keep by default (the audit raised it). */
export async function trimOutboxes(redis: Redis): Promise<void> {
  for (const channel of CHANNELS) await redis.ltrim(outboxKey(channel), -DEFAULT_OUTBOX_MAXLEN, -1);
}

export interface FaultReport {
  expected: number;
  sent: number;
  duplicateSuppressed: number;
  failed: number;
  deadLettered?: number;
  lost: number;
  sentTwice: number;
}

/** Counts from the consumers' lines and the providers' outboxes, checked against the preferences. */
export async function audit(
  redis: Redis,
  events: SentEvent[],
  users: TestUser[],
  lines: Line[],
): Promise<FaultReport & { lostPairs: string[]; twicePairs: string[] }> {
  const expected = expectedPairs(events, users);
  const counts = await accepted(redis, new Set(events.map((e) => e.id)));
  const deliveries = lines.filter((l) => l.kind === 'delivery');
  const sentLines = new Map<string, number>();
  for (const d of deliveries) {
    if (d.status === 'sent')
      sentLines.set(
        `${String(d.eventId)}/${String(d.channel)}`,
        (sentLines.get(`${String(d.eventId)}/${String(d.channel)}`) ?? 0) + 1,
      );
  }
  const lostPairs = [...expected].filter((p) => !counts.has(p));
  const twicePairs = [...counts]
    .filter(([, n]) => n > 1)
    .map(([p]) => p)
    .concat([...sentLines].filter(([, n]) => n > 1).map(([p]) => `${p} (printed sent twice)`));
  return {
    expected: expected.size,
    sent: [...counts.values()].filter((n) => n >= 1).length,
    duplicateSuppressed: deliveries.filter((d) => d.status === 'duplicate').length,
    failed: deliveries.filter((d) => d.status === 'failed').length,
    lost: lostPairs.length,
    sentTwice: twicePairs.length,
    lostPairs,
    twicePairs,
  };
}

export function printReport(name: string, report: FaultReport): void {
  const { expected, sent, duplicateSuppressed, failed, lost, sentTwice, deadLettered } = report;
  process.stdout.write(
    `[faults:${PROFILE.name}] ${name}: expected ${expected}, sent ${sent}, duplicate-suppressed ${duplicateSuppressed}, failed ${failed}${deadLettered !== undefined ? `, dead-lettered ${deadLettered}` : ''}, lost ${lost}, sent twice ${sentTwice}\n`,
  );
}
