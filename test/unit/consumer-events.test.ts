import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../../src/domain/catalog.js';
import { createLogger } from '../../src/log/logger.js';
import { NotificationConsumer } from '../../src/pipeline/consumer.js';
import type { EventLog, GroupConsumerEvents } from '../../src/pipeline/event-log.js';
import type { Outcome } from '../../src/telemetry/outcomes.js';
import { Telemetry } from '../../src/telemetry/telemetry.js';

/** A consumer on a log that only records the events hooks it was given, and what it publishes. */
async function consumerEvents(): Promise<{
  events: GroupConsumerEvents;
  published: Outcome[];
  consumer: NotificationConsumer;
}> {
  let events: GroupConsumerEvents | undefined;
  const log = {
    consumer: (options: { events: GroupConsumerEvents }) => {
      events = options.events;
      return { run: async () => undefined, stop: async () => undefined };
    },
  } as unknown as EventLog;
  const telemetry = new Telemetry();
  const published: Outcome[] = [];
  telemetry.subscribe((o) => published.push(o));
  const consumer = new NotificationConsumer({
    log,
    topic: 't',
    group: 'g',
    fromBeginning: true,
    logger: createLogger({ kind: 'silent' }),
    telemetry,
    catalog: await loadCatalog(),
    store: { lookupBatch: async () => ({ users: new Map(), delivered: new Map() }), markDelivered: async () => {} },
    provider: { send: async () => 'accepted', sendMany: async () => [] },
    deadLetters: { send: async () => {} },
    maxBytes: 1 << 20,
  });
  return { events: events!, published, consumer };
}

describe('the consumer reports what kafkajs went through', () => {
  it('a new topic or coordinator not ready yet, while kafkajs restarts the consumer: joining, not an error', async () => {
    const { events, published } = await consumerEvents();
    events.crashed('This server does not host this topic-partition', true);
    events.crashed('The group coordinator is not available', true);
    expect(published.filter((o) => o.kind === 'error')).toEqual([]);
    expect(published.at(-1)).toMatchObject({
      kind: 'connection',
      service: 'kafka',
      state: 'connecting',
      detail: 'waiting for the broker (The group coordinator is not available)',
    });
  });

  it('anything else, or a crash it will not restart from, is an error on screen', async () => {
    const { events, published } = await consumerEvents();
    events.crashed('Connection error: connect ECONNREFUSED 127.0.0.1:9092', true);
    events.crashed('This server does not host this topic-partition', false);
    expect(published.filter((o) => o.kind === 'error').map((o) => o.kind === 'error' && o.message)).toEqual([
      'consumer crashed: Connection error: connect ECONNREFUSED 127.0.0.1:9092 (restarting)',
      'the Kafka consumer crashed and will not restart: This server does not host this topic-partition',
    ]);
    expect(published.filter((o) => o.kind === 'connection').at(-1)).toMatchObject({ state: 'error' });
  });

  it('a crash it will not restart from stops the consumer for good (the command exits non-zero); its own stop does not', async () => {
    const crashed = await consumerEvents();
    crashed.events.crashed('The group member needs to have a valid member id', false);
    await expect(crashed.consumer.fatal).resolves.toMatchObject({
      message: 'the Kafka consumer crashed and will not restart: The group member needs to have a valid member id',
    });

    const stopped = await consumerEvents();
    await stopped.consumer.stop();
    stopped.events.crashed('The consumer was stopped', false);
    const settled = await Promise.race([stopped.consumer.fatal.then(() => 'fatal'), Promise.resolve('not fatal')]);
    expect(settled).toBe('not fatal');
    expect(stopped.published.filter((o) => o.kind === 'error')).toEqual([]);
  });
});
