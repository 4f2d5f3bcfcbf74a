/**
 * A new user's first command: use what answers, start the local stack where
 * nothing does, fall back to the embedded stand-ins (saying why) where the
 * stack cannot start, and never fall back from an address given explicitly.
 */
import { mkdirSync, mkdtempSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { launch, LaunchError, planLaunch } from '../../src/cli/dashboard/launch.js';
import { DEFAULTS, type Config } from '../../src/config/config.js';
import { createLogger } from '../../src/log/logger.js';
import type { PipelineSettings } from '../../src/app/runtime.js';
import { stackPaths } from '../../src/stack/paths.js';
import { probeKafka } from '../../src/adapters/kafka/probe.js';
import { probeRedis } from '../../src/adapters/redis/probe.js';
import { recordingProgress } from '../../src/stack/progress.js';
import { stackDown } from '../../src/stack/stack.js';
import { findOnPath } from '../../src/stack/toolchain.js';
import { freePort, runCli } from '../support/cli.js';

const logger = createLogger({ kind: 'silent' });
const tmp = mkdtempSync(path.join(os.tmpdir(), 'etui-first-run-'));

async function spareConfig(): Promise<Config> {
  let kafkaPort = await freePort();
  while ((await probeKafka('localhost', kafkaPort + 1, 300)).state !== 'closed') kafkaPort = await freePort();
  return { ...DEFAULTS, brokers: [`localhost:${kafkaPort}`], redisUrl: `redis://127.0.0.1:${await freePort()}` };
}

const settingsOf = (config: Config): PipelineSettings => ({
  brokers: config.brokers,
  redisUrl: config.redisUrl,
  topic: config.topic,
  group: config.group,
  partitions: 3,
  fromBeginning: true,
  maxBytes: 1024 * 1024,
  latencyMs: 0,
  failureRate: 0,
  dedupeWindowSeconds: 86400,
});

/** A PATH with only the named programs of this machine. */
function pathWith(name: string, programs: string[]): string {
  const dir = path.join(tmp, name);
  mkdirSync(dir, { recursive: true });
  for (const program of programs) symlinkSync(findOnPath(program)!, path.join(dir, program));
  return dir;
}

describe('deciding what to run on', () => {
  it('uses Kafka and Redis that answer at the defaults', async () => {
    const config: Config = { ...DEFAULTS, brokers: inject('brokers').split(','), redisUrl: inject('redisUrl') };
    expect(await planLaunch(config, {}, {})).toEqual({ kind: 'real' });
  });

  it('plans to start the local stack when nothing answers and nothing was configured', async () => {
    expect(await planLaunch(await spareConfig(), {}, {})).toEqual({ kind: 'stack', services: ['redis', 'kafka'] });
  });

  it('never falls back from an explicit address: --brokers, --redis, KAFKA_BROKERS, REDIS_URL', async () => {
    const config = await spareConfig();
    const viaFlag = await planLaunch(config, { brokers: config.brokers[0] }, {});
    expect(viaFlag.kind).toBe('error');
    expect(viaFlag.kind === 'error' && viaFlag.message).toMatch(
      /Kafka at localhost:\d+ does not answer .*\n.*named explicitly/,
    );
    const viaEnv = await planLaunch(config, {}, { REDIS_URL: config.redisUrl });
    expect(viaEnv.kind === 'error' && viaEnv.message).toMatch(/Redis at redis:\/\/127\.0\.0\.1:\d+ does not answer/);
  });

  it('--embedded forces the stand-ins', async () => {
    expect(await planLaunch(await spareConfig(), { embedded: true }, {})).toEqual({
      kind: 'embedded',
      reason: '--embedded',
    });
  });
});

describe('launching', () => {
  it('starts the local Kafka and Redis when nothing answers, and reports what it started', async () => {
    const config = await spareConfig();
    const paths = stackPaths(path.join(tmp, 'home-stack'));
    const progress = recordingProgress();
    const launched = await launch(
      { kind: 'stack', services: ['redis', 'kafka'] },
      {},
      config,
      settingsOf(config),
      logger,
      progress,
      { paths },
    );
    try {
      expect(launched.mode).toBe('');
      expect(launched.started).toEqual(['redis', 'kafka']);
      expect(progress.lines.join('\n')).toMatch(
        /resolving Apache Kafka 4\.4\.0[\s\S]*KRaft storage[\s\S]*starting broker[\s\S]*✔ kafka: starting broker .*ready/,
      );
      expect((await probeKafka('localhost', Number(config.brokers[0]!.split(':')[1]))).state).toBe('answers');
    } finally {
      launched.backends.redis.disconnect();
      await launched.backends.log.close();
      await stackDown({ paths }, launched.started);
    }
  });

  it('without Java, runs embedded and says why and what to install; the Redis it started is stopped again', async () => {
    const config = await spareConfig();
    const paths = stackPaths(path.join(tmp, 'home-nojava'));
    const launched = await launch(
      { kind: 'stack', services: ['redis', 'kafka'] },
      {},
      config,
      settingsOf(config),
      logger,
      recordingProgress(),
      {
        paths,
        env: { PATH: pathWith('redis-only', ['redis-server']) },
      },
    );
    expect(launched.backends.embedded).toBe(true);
    expect(launched.mode).toBe(
      'EMBEDDED: no Java for the local Kafka. For the real pipeline: apt-get install openjdk-17-jre-headless',
    );
    expect(launched.started).toEqual([]);
    const { host, port } = { host: '127.0.0.1', port: Number(new URL(config.redisUrl).port) };
    expect((await probeRedis(host, port, 500)).state).toBe('closed');
  });

  it('without redis-server, runs embedded and says so', async () => {
    const config = await spareConfig();
    const launched = await launch(
      { kind: 'stack', services: ['redis'] },
      {},
      config,
      settingsOf(config),
      logger,
      recordingProgress(),
      {
        paths: stackPaths(path.join(tmp, 'home-noredis')),
        env: { PATH: pathWith('nothing', []) },
      },
    );
    expect(launched.mode).toMatch(/^EMBEDDED: no redis-server\. For the real pipeline: apt-get install redis-server$/);
  });

  it('--no-embedded turns a stack that cannot start into a clear error', async () => {
    const config = await spareConfig();
    const error = await launch(
      { kind: 'stack', services: ['kafka'] },
      { embedded: false },
      config,
      settingsOf(config),
      logger,
      recordingProgress(),
      {
        paths: stackPaths(path.join(tmp, 'home-strict')),
        env: { PATH: pathWith('nothing-2', []) },
      },
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LaunchError);
    expect((error as Error).message).toMatch(/no `java` found[\s\S]*Java 17 or newer/);
  });
});

describe('the first command with an address that does not answer', () => {
  it.each([
    [['--brokers', 'localhost:1'], {}, /Kafka at localhost:1 does not answer/],
    [[], { KAFKA_BROKERS: 'localhost:1' }, /Kafka at localhost:1 does not answer/],
    [['--redis', 'redis://127.0.0.1:1'], {}, /Redis at redis:\/\/127\.0\.0\.1:1 does not answer/],
  ] as [string[], Record<string, string>, RegExp][])(
    '%j %j stops with a clear error, exit 1, within 15 s',
    async (args, env, message) => {
      const started = Date.now();
      const result = await runCli(args, { ...process.env, ...env });
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(message);
      expect(result.stderr).not.toMatch(/ {4}at /);
      expect(Date.now() - started).toBeLessThan(15_000);
    },
  );
});
