/**
 * The replay the dashboard will offer, end to end on the embedded back ends (the same pipeline code as
 * on Kafka and Redis): senders that fail dead-letter an event per channel; once they heal, replaying
 * one channel's letter sends that channel once, however often it is replayed.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { outboxKey } from '../../src/adapters/redis/keys.js';
import { loadCatalog } from '../../src/domain/catalog.js';
import { createLogger } from '../../src/log/logger.js';
import { DeadLetterReader, replayDeadLetters, type DeadLetterRecord } from '../../src/pipeline/dead-letters.js';
import { embeddedBackends, Pipeline, type PipelineSettings } from '../../src/app/runtime.js';
import type { DeliveryOutcome } from '../../src/telemetry/outcomes.js';
import { waitFor } from '../support/cli.js';

const catalog = await loadCatalog();
const logger = createLogger({ kind: 'silent' });
const backends = embeddedBackends();
const settings: PipelineSettings = {
  brokers: ['embedded:0'],
  redisUrl: 'redis://embedded',
  topic: 'events',
  group: 'replay-test',
  partitions: 2,
  fromBeginning: true,
  maxBytes: 1024 * 1024,
  latencyMs: 0,
  failureRate: 1,
  dedupeWindowSeconds: 3600,
};
const pipelines: Pipeline[] = [];

afterAll(async () => {
  for (const p of pipelines) await p.consumer?.stop();
  await backends.log.close();
  backends.redis.disconnect();
});

async function consumer(failureRate: number): Promise<{ pipeline: Pipeline; deliveries: DeliveryOutcome[] }> {
  const pipeline = new Pipeline({ ...settings, failureRate }, catalog, logger, backends);
  pipelines.push(pipeline);
  const deliveries: DeliveryOutcome[] = [];
  pipeline.telemetry.subscribe((o) => {
    if (o.kind === 'delivery') deliveries.push(o);
  });
  await pipeline.ensureTopics();
  await pipeline.startConsumer();
  return { pipeline, deliveries };
}

describe('replaying a failed delivery', () => {
  it('sends the letter’s channel once, leaves the other failed channel to its own letter', async () => {
    await backends.redis.hset('user:eve', { name: 'Eve', email: 'eve@example.com', phone: '+1555' });
    await backends.redis.hset('prefs:eve', { email: 'on', sms: 'on', push: 'off', console: 'off' });
    const failing = await consumer(1);
    const event = { id: randomUUID(), type: 'user_signup', userId: 'eve', occurredAt: new Date().toISOString() };
    const producer = await failing.pipeline.log.producer();
    await producer.send(settings.topic, [{ key: 'eve', value: JSON.stringify({ ...event, payload: {} }) }]);
    const reader = new DeadLetterReader(backends.log, failing.pipeline.dlqTopic);
    const list = async (): Promise<DeadLetterRecord[]> => {
      const out: DeadLetterRecord[] = [];
      await reader.list({ reason: 'delivery-failed' }, (l) => out.push(l));
      return out;
    };
    const letters = await waitFor('a letter per failed channel', async () => (await list()).length === 2 && list());
    await failing.pipeline.consumer!.stop();

    const healthy = await consumer(0);
    const sms = letters.find((l) => l.channel === 'sms')!;
    const outcomes = (channel: string): string[] =>
      healthy.deliveries.filter((d) => d.channel === channel).map((d) => `${d.status} ${d.reason}`);
    for (let round = 1; round <= 2; round++) {
      await replayDeadLetters(producer, await reader.at([{ partition: sms.dlqPartition, offset: sms.dlqOffset }]), {
        to: settings.topic,
      });
      await waitFor(`replay ${round} settled`, () => outcomes('sms').length === round);
    }
    expect(outcomes('sms')).toEqual(['sent null', 'duplicate already-sent']);
    expect(outcomes('email')).toEqual(['skipped not-replayed', 'skipped not-replayed']);
    const sent = async (channel: string): Promise<number> =>
      (await backends.redis.lrange(outboxKey(channel), 0, -1)).filter((l) => l.includes(event.id)).length;
    expect([await sent('sms'), await sent('email')]).toEqual([1, 0]);
  });
});
