/**
 * One behaviour suite, two back ends: the pipeline on Kafka and Redis, and the
 * embedded mode on its in-process stand-ins, must behave the same.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { loadCatalog } from '../../src/domain/catalog.js';
import { createLogger } from '../../src/log/logger.js';
import type { LogBatch } from '../../src/pipeline/event-log.js';
import {
  embeddedBackends,
  Pipeline,
  realBackends,
  type Backends,
  type PipelineSettings,
} from '../../src/app/runtime.js';
import type { DeliveryOutcome, Outcome } from '../../src/telemetry/outcomes.js';
import { waitFor } from '../support/cli.js';

const logger = createLogger({ kind: 'silent' });
const catalog = await loadCatalog();

const settingsFor = (): PipelineSettings => ({
  brokers: inject('brokers').split(','),
  redisUrl: inject('redisUrl'),
  topic: `behaviour-${randomUUID().slice(0, 8)}`,
  group: `behaviour-${randomUUID().slice(0, 8)}`,
  partitions: 3,
  fromBeginning: true,
  maxBytes: 1024,
  latencyMs: 0,
  failureRate: 0,
  dedupeWindowSeconds: 86400,
});

const BACKENDS: [string, (s: PipelineSettings) => Backends][] = [
  ['Kafka and Redis', (s) => realBackends(s, logger)],
  ['embedded stand-ins', () => embeddedBackends()],
];

describe.each(BACKENDS)('the pipeline on %s', (_name, makeBackends) => {
  const settings = settingsFor();
  const backends = makeBackends(settings);
  const open: Pipeline[] = [];
  const outcomes: Outcome[] = [];
  const prefix = `bh-${randomUUID().slice(0, 6)}`;
  const ada = `${prefix}-ada`;
  const bob = `${prefix}-bob`;

  const start = async (group = settings.group): Promise<Pipeline> => {
    const p = new Pipeline({ ...settings, group }, catalog, logger, backends);
    open.push(p);
    if (!backends.embedded && backends.redis.status === 'wait') await backends.redis.connect();
    p.telemetry.subscribe((o) => outcomes.push(o));
    await p.ensureTopics();
    await p.startConsumer();
    return p;
  };
  const deliveries = (eventId: string): DeliveryOutcome[] =>
    outcomes.filter((o): o is DeliveryOutcome => o.kind === 'delivery' && o.eventId === eventId);
  const settled = (eventId: string, n = catalog.channels.length): Promise<DeliveryOutcome[]> =>
    waitFor(`${n} outcomes for ${eventId}`, () => deliveries(eventId).length >= n && deliveries(eventId), 30_000);
  const send = async (p: Pipeline, value: string | Buffer, key: string): Promise<void> => {
    const producer = await p.log.producer();
    await producer.send(settings.topic, [{ key, value, headers: { 'event-type': 'test' } }]);
    await producer.disconnect();
  };
  const event = (type: string, userId: string) => ({
    id: randomUUID(),
    type,
    userId,
    occurredAt: new Date().toISOString(),
    payload: {},
  });

  afterAll(async () => {
    for (const p of open) await p.consumer?.stop();
    await backends.redis.del(`user:${ada}`, `prefs:${ada}`, `user:${bob}`, `prefs:${bob}`);
    await backends.log.close();
    backends.redis.disconnect();
  });

  it('delivers on each channel that is on and has an address, and skips the others with a reason', async () => {
    await backends.redis.hset(`user:${ada}`, { name: 'Ada', email: 'ada@example.com', phone: '+1555' });
    await backends.redis.hset(`prefs:${ada}`, { email: 'on', sms: 'on', push: 'on', console: 'off' });
    const p = await start();
    const e = event('user_signup', ada);
    await send(p, JSON.stringify(e), ada);
    const result = await settled(e.id);
    expect(result.map((d) => `${d.channel} ${d.status} ${d.reason ?? ''}`.trim()).sort()).toEqual([
      'console skipped opted-out',
      'email sent',
      'push skipped no-address',
      'sms sent',
      'webhook skipped opted-out',
    ]);
    const unknown = event('password_reset', `${prefix}-nobody`);
    await send(p, JSON.stringify(unknown), unknown.userId);
    expect((await settled(unknown.id)).every((d) => d.status === 'skipped' && d.reason === 'unknown-user')).toBe(true);
  });

  it('a preference changed in Redis governs the next event', async () => {
    const p = open[0]!;
    await backends.redis.hset(`prefs:${ada}`, 'sms', 'off');
    const e = event('item_purchased', ada);
    await send(p, JSON.stringify(e), ada);
    const sms = (await settled(e.id)).find((d) => d.channel === 'sms');
    expect(sms).toMatchObject({ status: 'skipped', reason: 'opted-out' });
  });

  it('dead-letters a malformed message with its reason, and delivers the next good event', async () => {
    const p = open[0]!;
    await send(p, '{"not": "an event"', 'bad-key');
    const good = event('user_signup', ada);
    await send(p, JSON.stringify(good), ada);
    await settled(good.id);
    expect(outcomes.find((o) => o.kind === 'deadletter')).toMatchObject({ reason: 'invalid-json', key: 'bad-key' });
    // the dead letter is in <topic>.dlq with the original bytes and the reason
    const dlq: LogBatch['messages'] = [];
    const reader = backends.log.consumer({
      group: `reader-${randomUUID()}`,
      topic: `${settings.topic}.dlq`,
      fromBeginning: true,
      events: {
        connected: () => undefined,
        disconnected: () => undefined,
        assigned: () => undefined,
        crashed: () => undefined,
      },
    });
    void reader.run(async (batch, control) => {
      dlq.push(...batch.messages);
      await control.commit((BigInt(batch.messages.at(-1)!.offset) + 1n).toString());
    });
    await waitFor('the dead letter', () => dlq.length > 0, 30_000);
    await reader.stop();
    expect(dlq[0]!.value?.toString()).toBe('{"not": "an event"');
    expect(String(dlq[0]!.headers?.['dlq-reason'])).toBe('invalid-json');
  });

  it('an event delivered again (a crash before the commit, a rebalance) comes out as duplicate, never a second sent', async () => {
    const first = open[0]!;
    const e = event('user_signup', ada);
    await send(first, JSON.stringify(e), ada);
    await settled(e.id);
    // a second group reads the whole topic again: every event it finds was delivered already
    await start(`${settings.group}-replay`);
    await waitFor('the replay of the event', () => deliveries(e.id).length >= 2 * catalog.channels.length, 30_000);
    const replayed = deliveries(e.id).slice(catalog.channels.length);
    expect(replayed.filter((d) => d.status === 'sent')).toEqual([]);
    expect(
      replayed
        .filter((d) => d.status === 'duplicate')
        .map((d) => d.channel)
        .sort(),
    ).toEqual(['email']);
  });

  it('commits as it goes: the group catches up with the end of every partition and its lag is 0', async () => {
    const p = open[0]!;
    const ends = await p.log.topicOffsets(settings.topic);
    await waitFor('the group to catch up', () => p.caughtUp(ends), 30_000);
    expect((await p.lag()).lag).toBe(0);
  });
});
