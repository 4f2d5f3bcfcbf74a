/**
 * The integration tests own their services: a redis-server and a Kafka broker of their own, on free
 * ports, started here and stopped after, so the suite passes whatever the machine already runs and
 * writes nothing into it (no test users in a developer's Redis). EVENTSTREAM_TEST_BROKERS names a
 * running broker to use instead of starting one (quicker while developing: `stack up` once, then
 * `EVENTSTREAM_TEST_BROKERS=localhost:9092 npm test`); the tests' topics and groups are unique.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { stackPathsSharingJars, type StackPaths } from '../../src/stack/paths.js';
import { streamProgress } from '../../src/stack/progress.js';
import { stackDown, stackUp } from '../../src/stack/stack.js';
import type { ServiceName } from '../../src/stack/state.js';
import { createKafka } from '../../src/adapters/kafka/client.js';
import { createLogger } from '../../src/log/logger.js';
import { freePort, waitFor } from './cli.js';
import { createTopicsLed } from './topics.js';

/**
 * A new broker creates its group-offsets topic on the first group that joins, and answers "the group
 * coordinator is not available" meanwhile (kafkajs logs it): one group joins here, before any test.
 */
async function warmUp(brokers: string[]): Promise<void> {
  const kafka = createKafka({ brokers, logger: createLogger({ kind: 'silent' }), clientId: 'test-warm-up' });
  const admin = kafka.admin();
  await admin.connect();
  await createTopicsLed(admin, [{ topic: 'test-warm-up', numPartitions: 1 }]);
  await admin.disconnect();
  const consumer = kafka.consumer({ groupId: 'test-warm-up', sessionTimeout: 10_000, heartbeatInterval: 1_000 });
  let joined = false;
  consumer.on(consumer.events.GROUP_JOIN, () => (joined = true));
  await consumer.connect();
  await consumer.subscribe({ topic: 'test-warm-up', fromBeginning: true });
  await consumer.run({ eachMessage: async () => undefined });
  await waitFor('a first consumer group on the test broker', () => joined, 60_000);
  await consumer.disconnect();
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const home = mkdtempSync(path.join(os.tmpdir(), 'etui-test-stack-'));
  const paths: StackPaths = stackPathsSharingJars(home);
  const named = process.env.EVENTSTREAM_TEST_BROKERS;
  const brokers = named ? named.split(',') : [`localhost:${await freePort()}`];
  const redisUrl = `redis://127.0.0.1:${await freePort()}`;
  const services: ServiceName[] = named ? ['redis'] : ['redis', 'kafka'];
  const outcomes = await stackUp(
    { config: { brokers, redisUrl }, paths, progress: streamProgress(process.stderr) },
    services,
  );
  const started: ServiceName[] = outcomes.filter((o) => o.action === 'started').map((o) => o.service);
  for (const o of outcomes) process.stderr.write(`[test stack] ${o.service} ${o.address}: ${o.action}\n`);
  if (named) process.stderr.write(`[test stack] kafka ${named}: named by EVENTSTREAM_TEST_BROKERS, used as it is\n`);
  if (!named) await warmUp(brokers);
  project.provide('brokers', brokers.join(','));
  project.provide('redisUrl', redisUrl);
  return async () => {
    if (started.length > 0) {
      await stackDown({ paths }, started);
      process.stderr.write(`[test stack] stopped what the tests started: ${started.join(', ')}\n`);
    }
    rmSync(home, { recursive: true, force: true });
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    brokers: string;
    redisUrl: string;
  }
}
