/**
 * Brings the real Kafka and Redis up for the integration tests when they are not
 * running, and takes down afterwards only what it started itself.
 */
import type { TestProject } from 'vitest/node';
import { resolveConfig } from '../../src/config/config.js';
import { stackPaths } from '../../src/stack/paths.js';
import { streamProgress } from '../../src/stack/progress.js';
import { stackDown, stackUp } from '../../src/stack/stack.js';
import type { ServiceName } from '../../src/stack/state.js';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const config = resolveConfig({});
  const paths = stackPaths();
  const outcomes = await stackUp({ config, paths, progress: streamProgress(process.stderr) });
  const started: ServiceName[] = outcomes.filter((o) => o.action === 'started').map((o) => o.service);
  for (const o of outcomes) process.stderr.write(`[test stack] ${o.service} ${o.address}: ${o.action}\n`);
  project.provide('brokers', config.brokers.join(','));
  project.provide('redisUrl', config.redisUrl);
  return async () => {
    if (started.length > 0) {
      await stackDown({ paths }, started);
      process.stderr.write(`[test stack] stopped what the tests started: ${started.join(', ')}\n`);
    }
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    brokers: string;
    redisUrl: string;
  }
}
