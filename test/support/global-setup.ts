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
import { probeKafka } from '../../src/stack/probe.js';
import { stackPaths, type StackPaths } from '../../src/stack/paths.js';
import { streamProgress } from '../../src/stack/progress.js';
import { stackDown, stackUp } from '../../src/stack/stack.js';
import type { ServiceName } from '../../src/stack/state.js';
import { freePort } from './cli.js';

/** A free port whose neighbour (the KRaft controller's) is free too. */
async function freeKafkaPort(): Promise<number> {
  for (;;) {
    const port = await freePort();
    if ((await probeKafka('localhost', port + 1, 300)).state === 'closed') return port;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const home = mkdtempSync(path.join(os.tmpdir(), 'etui-test-stack-'));
  // A home of its own (its record of what it started, data, logs), sharing the Kafka jars already
  // resolved for the user's stack so nothing is fetched twice.
  const shared = stackPaths();
  const paths: StackPaths = {
    ...stackPaths(home),
    kafkaDist: shared.kafkaDist,
    kafkaLibs: shared.kafkaLibs,
    kafkaLibsComplete: shared.kafkaLibsComplete,
  };
  const named = process.env.EVENTSTREAM_TEST_BROKERS;
  const brokers = named ? named.split(',') : [`localhost:${await freeKafkaPort()}`];
  const redisUrl = `redis://127.0.0.1:${await freePort()}`;
  const services: ServiceName[] = named ? ['redis'] : ['redis', 'kafka'];
  const outcomes = await stackUp(
    { config: { brokers, redisUrl }, paths, progress: streamProgress(process.stderr) },
    services,
  );
  const started: ServiceName[] = outcomes.filter((o) => o.action === 'started').map((o) => o.service);
  for (const o of outcomes) process.stderr.write(`[test stack] ${o.service} ${o.address}: ${o.action}\n`);
  if (named) process.stderr.write(`[test stack] kafka ${named}: named by EVENTSTREAM_TEST_BROKERS, used as it is\n`);
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
