/**
 * The Redis password outside argv, and the dashboard's background work kept bounded: against a
 * redis-server of this file's own (a password; command statistics no other test disturbs) and the
 * shared Kafka.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UsersFeed } from '../../src/cli/dashboard/users-feed.js';
import { hostPort, resolveConfig } from '../../src/config/config.js';
import { createLogger } from '../../src/log/logger.js';
import { Pipeline, pipelineSettings } from '../../src/app/runtime.js';
import { probeRedis } from '../../src/adapters/redis/probe.js';
import { isAlive, startDetached, stopPid } from '../../src/stack/processes.js';
import { redisConfString } from '../../src/stack/stack.js';
import { findOnPath } from '../../src/stack/toolchain.js';
import { freePort, runCli, waitFor } from '../support/cli.js';
import { brokers, unique } from '../support/pipeline.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'etui-secrets-'));
// Every character a password may hold and a URL or a config file would mangle.
const PASSWORD = `p@ss w:rd%/"\\${randomUUID().slice(0, 8)}`;
const pids: number[] = [];
let port = 0;
let admin: Redis;

const url = (): string => `redis://127.0.0.1:${port}`;
const withPassword = (env: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({
  ...process.env,
  REDIS_PASSWORD: PASSWORD,
  ...env,
});
const noTrace = (text: string): void => expect(text).not.toMatch(/ {4}at .*\(|node:internal/);

beforeAll(async () => {
  port = await freePort();
  // The test's own server takes its password from a file too.
  const config = path.join(tmp, 'redis.conf');
  writeFileSync(config, `requirepass ${redisConfString(PASSWORD)}\n`, { mode: 0o600 });
  const redis = startDetached(
    findOnPath('redis-server')!,
    [config, '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    path.join(tmp, 'redis.log'),
    tmp,
  );
  pids.push(redis.pid);
  await waitFor('the password Redis', async () => (await probeRedis('127.0.0.1', port, 500)).state === 'answers');
  admin = new Redis({ port, host: '127.0.0.1', password: PASSWORD, maxRetriesPerRequest: 1 });
});

afterAll(async () => {
  admin?.disconnect();
  for (const pid of pids) await stopPid(pid, 10_000);
});

describe('the Redis password from REDIS_PASSWORD or --redis-password-file', () => {
  it('reaches Redis from either, never appears in any output, and its absence is a clear error', async () => {
    const missing = await runCli(['users', '--redis', url()]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^error: Redis at redis:\/\/127.0.0.1:\d+ refused the connection: NOAUTH/m);
    expect(missing.stderr).toMatch(/REDIS_PASSWORD or --redis-password-file/);
    noTrace(missing.stderr);

    const seeded = await runCli(['seed', '--redis', url()], withPassword());
    expect(seeded.code, seeded.stderr).toBe(0);
    expect(seeded.stdout).toMatch(/^24 sample users/);

    const file = path.join(tmp, 'password');
    writeFileSync(file, `${PASSWORD}\n`, { mode: 0o600 });
    const listed = await runCli(['users', '--redis', url(), '--redis-password-file', file]);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toMatch(/^user-01\s+Ada Lovelace/m);

    const wrong = await runCli(['users', '--redis', url()], withPassword({ REDIS_PASSWORD: 'not-it-at-all' }));
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/WRONGPASS/);
    noTrace(wrong.stderr);

    const both = await runCli(['users', '--redis', `redis://:other-secret@127.0.0.1:${port}`], withPassword());
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/carries a password and REDIS_PASSWORD gives one too/);

    for (const result of [missing, seeded, listed, wrong, both]) {
      expect(result.stdout + result.stderr).not.toContain(PASSWORD);
      expect(result.stdout + result.stderr).not.toMatch(/not-it-at-all|other-secret/);
    }
  });

  it('stack up gives redis-server its password in a 0600 config file, not on its command line', async () => {
    const home = mkdtempSync(path.join(os.tmpdir(), 'etui-secrets-home-'));
    const stackPort = await freePort();
    const env = withPassword({ EVENTSTREAM_HOME: home });
    const flags = ['--redis', `redis://127.0.0.1:${stackPort}`];
    const up = await runCli(['stack', 'up', 'redis', ...flags], env, 60_000);
    expect(up.code, up.stderr).toBe(0);
    const pid = Number(/Redis \S+: started \(pid (\d+)/.exec(up.stdout)?.[1]);
    pids.push(pid);
    try {
      // what `ps` shows every user of the machine
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
      expect(cmdline).toMatch(/redis-server/);
      expect(cmdline).not.toContain(PASSWORD);
      expect(cmdline).not.toMatch(/requirepass/);
      const config = path.join(home, `redis-${stackPort}`, 'redis.conf');
      expect(statSync(config).mode & 0o777).toBe(0o600);
      // the server asks for the password, and takes this one
      expect((await probeRedis('127.0.0.1', stackPort, 1000)).detail).toMatch(/NOAUTH/);
      const listed = await runCli(['seed', ...flags], env);
      expect(listed.code, listed.stderr).toBe(0);
      for (const out of [up.stdout, up.stderr, listed.stdout, listed.stderr]) expect(out).not.toContain(PASSWORD);
      const down = await runCli(['stack', 'down', 'redis', ...flags], env, 30_000);
      expect(down.stdout).toContain(`Redis 127.0.0.1:${stackPort}: stopped (pid ${pid})`);
      expect(isAlive(pid)).toBe(false);
    } finally {
      await stopPid(pid, 10_000);
    }
  });
});

describe("the dashboard's background work", () => {
  it('the Users refresh starts no read while one is in flight, and never reads the whole set', async () => {
    const config = resolveConfig({ redis: url() }, { REDIS_PASSWORD: PASSWORD });
    const pipeline = await Pipeline.open(pipelineSettings(config, {}), createLogger({ kind: 'silent' }));
    try {
      await waitFor('Redis ready', () => pipeline.redis.status === 'ready');
      await pipeline.seedIfEmpty();
      await admin.config('RESETSTAT');
      const feed = new UsersFeed(pipeline, () => 0);
      const calls = async (command: string): Promise<number> =>
        Number(new RegExp(`cmdstat_${command}:calls=(\\d+)`).exec(await admin.info('commandstats'))?.[1] ?? 0);
      // the 500 ms timer firing five times while Redis takes its time: one read, and one more after it
      await Promise.all(Array.from({ length: 5 }, () => feed.refresh()));
      await waitFor('the read asked for meanwhile', async () => (await calls('scard')) === 2);
      expect(feed.take()?.users.length).toBeGreaterThanOrEqual(24);
      // and once it is done, the next tick reads again
      await feed.refresh();
      await waitFor('the next read', async () => (await calls('scard')) === 3);
      expect(await calls('smembers')).toBe(0);
    } finally {
      await pipeline.stop();
    }
  });

  it('connect retries while Redis is away leak no Kafka connection', async () => {
    const closed = await freePort();
    const config = resolveConfig(
      { brokers: brokers(), redis: `redis://127.0.0.1:${closed}`, topic: unique('retry') },
      {},
    );
    const settings = pipelineSettings(config, {}, 'etui-retry-test');
    const pipeline = await Pipeline.open(settings, createLogger({ kind: 'silent' }));
    const brokerPort = hostPort(config.brokers[0]!).port;
    try {
      const counts: number[] = [];
      for (let attempt = 0; attempt < 4; attempt++) {
        // as the dashboard's connect loop does every 2 s: Kafka answers, Redis does not
        await expect(pipeline.startAll(1)).rejects.toThrow();
        counts.push(connectionsTo(brokerPort));
      }
      // kafkajs closes a client's sockets as it disconnects: give them a moment, then none is left over
      await waitFor(
        `connections to the broker back to ${counts[0]} (after each try: ${counts.join(', ')})`,
        () => connectionsTo(brokerPort) <= counts[0]!,
        10_000,
      );
      expect(pipeline.consumer).toBeUndefined();
    } finally {
      await pipeline.stop();
    }
  });
});

/** Established TCP connections from this process to `port`, as the kernel lists them. */
function connectionsTo(port: number): number {
  const inodes = new Set<string>();
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      const socket = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/self/fd/${fd}`));
      if (socket) inodes.add(socket[1]!);
    } catch {
      // closed meanwhile
    }
  }
  let count = 0;
  for (const table of ['/proc/self/net/tcp', '/proc/self/net/tcp6']) {
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields.length < 10) continue;
      const remotePort = parseInt(fields[2]!.split(':')[1]!, 16);
      if (remotePort === port && fields[3] === '01' && inodes.has(fields[9]!)) count++;
    }
  }
  return count;
}
