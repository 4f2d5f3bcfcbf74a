/**
 * A Redis Cluster behind the same --redis flag: three real redis-server nodes
 * in cluster mode; the pipeline seeds, looks up and delivers across hash slots.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probeRedis } from '../../src/adapters/redis/probe.js';
import { startDetached, stopPid } from '../../src/stack/processes.js';
import { findOnPath } from '../../src/stack/toolchain.js';
import { freePort, runCli, waitFor } from '../support/cli.js';
import { brokers, createTopic, event, produceEvents, unique } from '../support/pipeline.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'etui-cluster-'));
const pids: number[] = [];
const ports: number[] = [];

beforeAll(async () => {
  const redisServer = findOnPath('redis-server')!;
  const redisCli = findOnPath('redis-cli');
  expect(redisCli, 'redis-cli comes with redis-server').toBeDefined();
  for (let i = 0; i < 3; i++) {
    const port = await freePort();
    const dir = path.join(tmp, `node-${port}`);
    mkdirSync(dir, { recursive: true });
    const node = startDetached(
      redisServer,
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        'nodes.conf',
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        dir,
      ],
      path.join(dir, 'redis.log'),
      dir,
    );
    pids.push(node.pid);
    ports.push(port);
  }
  for (const port of ports)
    await waitFor(`node ${port}`, async () => (await probeRedis('127.0.0.1', port, 300)).state === 'answers', 20_000);
  execFileSync(
    redisCli!,
    ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes'],
    { stdio: 'ignore' },
  );
  await waitFor(
    'the cluster to be ok',
    () =>
      /cluster_state:ok/.test(
        execFileSync(redisCli!, ['-p', String(ports[0]), 'cluster', 'info'], { encoding: 'utf8' }),
      ),
    20_000,
  );
}, 60_000);

afterAll(async () => {
  for (const pid of pids) await stopPid(pid, 10_000);
});

describe('Redis Cluster through the same --redis flag', () => {
  it('seeds, lists users, and delivers every event exactly as on a single Redis', async () => {
    const redis = `redis://127.0.0.1:${ports[0]}`;
    const seeded = await runCli(['seed', '--redis', redis]);
    expect(seeded.stderr).toBe('');
    expect(seeded.stdout).toMatch(/^24 sample users: \d+ fields written/);
    const users = await runCli(['users', '--redis', redis]);
    expect(users.stdout).toMatch(/^user-02\s+Alan Turing\s+on\s+on\s+on\s+off$/m);
    expect(users.stdout).toMatch(/24 users/);

    const topic = unique('cluster');
    await createTopic(topic, 3);
    const events = ['user-01', 'user-02', 'user-03', 'user-04', 'user-05', 'user-06'].map((u) =>
      event('user_signup', u),
    );
    await produceEvents(topic, events);
    const consumed = await runCli(
      ['consume', '--drain', '--brokers', brokers(), '--redis', redis, '--topic', topic, '--group', unique('g')],
      process.env,
      60_000,
    );
    expect(consumed.code).toBe(0);
    const lines = consumed.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const deliveries = lines.filter((l) => l.kind === 'delivery');
    expect(deliveries).toHaveLength(24);
    // user-02: email, sms and push on, console off
    expect(
      deliveries
        .filter((d) => d.userId === 'user-02')
        .map((d) => `${String(d.channel)} ${String(d.status)}`)
        .sort(),
    ).toEqual(['console skipped', 'email sent', 'push sent', 'sms sent']);

    // run again under another group: everything is a duplicate (ledger and provider records across slots)
    const again = await runCli(
      ['consume', '--drain', '--brokers', brokers(), '--redis', redis, '--topic', topic, '--group', unique('g')],
      process.env,
      60_000,
    );
    const replay = again.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => l.kind === 'delivery');
    expect(replay.filter((d) => d.status === 'sent')).toEqual([]);
    expect(replay.filter((d) => d.status === 'duplicate').length).toBe(
      deliveries.filter((d) => d.status === 'sent').length,
    );
  });
});
