/**
 * A Redis Cluster behind the same --redis flag: three real redis-server nodes
 * in cluster mode; the pipeline seeds, looks up and delivers across hash slots.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probeRedis } from '../../src/adapters/redis/probe.js';
import { startDetached, stopPid } from '../../src/stack/processes.js';
import { findOnPath } from '../../src/stack/toolchain.js';
import { canListen, runCli, waitFor } from '../support/cli.js';
import { Redis as RedisClient, Cluster } from 'ioredis';
import {
  brokers,
  CliProcess,
  consumeArgs,
  createTopic,
  event,
  firstOutcomes,
  produceEvents,
  unique,
} from '../support/pipeline.js';
import { quietEnd, scheduleEntries, windowEndingAt } from '../support/rules.js';
import { capKey, outboxKey } from '../../src/adapters/redis/keys.js';
import { RedisCapCounter } from '../../src/adapters/redis/caps.js';
import { keySlot } from '../../src/adapters/redis/client.js';

const run = promisify(execFile);
const tmp = mkdtempSync(path.join(os.tmpdir(), 'etui-cluster-'));
const pids: number[] = [];
const ports: number[] = [];

// Deadlines for a loaded two-core machine (other test files, other builds): a node answers PING within
// a second when idle; the cluster is ok a few seconds after `--cluster create`.
const NODE_ANSWERS_MS = 60_000;
const CLUSTER_OK_MS = 90_000;
/** Ports taken between the check and the bind (another process on the machine): a node is tried again. */
const NODE_ATTEMPTS = 3;
/** A node's cluster bus listens on its port + 10000. */
const BUS_OFFSET = 10_000;

/**
 * A port for a cluster node whose bus port is free too. Both stay below the kernel's ephemeral range
 * (32768 and up), where a client's outgoing connection can take a port before a server binds it: the
 * node port from 20000, its bus port below 32700.
 */
async function nodePort(): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 2_700);
    if (ports.includes(port)) continue;
    if ((await canListen(port)) && (await canListen(port + BUS_OFFSET))) return port;
  }
}

const logTail = (file: string): string => {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').slice(-10).join('\n');
  } catch {
    return '(no log)';
  }
};

const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Starts one cluster node and polls its PING until it answers; a node that exits first is started again on another port. */
async function startNode(redisServer: string): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    const port = await nodePort();
    const dir = path.join(tmp, `node-${port}`);
    mkdirSync(dir, { recursive: true });
    const log = path.join(dir, 'redis.log');
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
      log,
      dir,
    );
    pids.push(node.pid);
    let exit: number | null | undefined;
    void node.exited.then((code) => (exit = code));
    const name = `cluster node 127.0.0.1:${port} (pid ${node.pid}, attempt ${attempt} of ${NODE_ATTEMPTS})`;
    const deadline = Date.now() + NODE_ANSWERS_MS;
    for (;;) {
      if ((await probeRedis('127.0.0.1', port, 1000)).state === 'answers') {
        ports.push(port);
        return port;
      }
      if (exit !== undefined) break;
      if (Date.now() > deadline) {
        throw new Error(`${name} did not answer PING within ${NODE_ANSWERS_MS / 1000} s; ${log}:\n${logTail(log)}`);
      }
      await pause(200);
    }
    const why = `${name} exited (code ${String(exit)}) before it answered PING; ${log}:\n${logTail(log)}`;
    if (attempt >= NODE_ATTEMPTS) throw new Error(why);
  }
}

/** What `cluster info` says on a node: its state, the slots it sees served, the nodes it knows. */
async function clusterInfo(redisCli: string, port: number): Promise<string> {
  const { stdout } = await run(redisCli, ['-p', String(port), 'cluster', 'info'], { timeout: 5_000 });
  return stdout;
}

beforeAll(
  async () => {
    const redisServer = findOnPath('redis-server')!;
    const redisCli = findOnPath('redis-cli');
    expect(redisCli, 'redis-cli comes with redis-server').toBeDefined();
    for (let i = 0; i < 3; i++) await startNode(redisServer);
    await run(
      redisCli!,
      ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes'],
      { timeout: CLUSTER_OK_MS },
    ).catch((error: Error & { stdout?: string; stderr?: string }) => {
      throw new Error(
        `redis-cli --cluster create failed: ${error.message}\n${error.stdout ?? ''}${error.stderr ?? ''}`,
      );
    });
    // Every node, not only the one the test connects to: a client may be sent to any of them.
    const ok = /cluster_state:ok/;
    const deadline = Date.now() + CLUSTER_OK_MS;
    for (const port of ports) {
      let last = '';
      for (;;) {
        last = await clusterInfo(redisCli!, port).catch((error: Error) => error.message);
        if (ok.test(last) && /cluster_slots_ok:16384/.test(last) && /cluster_known_nodes:3/.test(last)) break;
        if (Date.now() > deadline) {
          const state = last.split('\n').filter((l) => /cluster_(state|slots_ok|known_nodes)/.test(l));
          throw new Error(
            `cluster node 127.0.0.1:${port} not ok within ${CLUSTER_OK_MS / 1000} s: ${state.join(' ').trim() || last}; ${path.join(tmp, `node-${port}`, 'redis.log')}:\n${logTail(path.join(tmp, `node-${port}`, 'redis.log'))}`,
          );
        }
        await pause(200);
      }
    }
  },
  3 * NODE_ANSWERS_MS + 2 * CLUSTER_OK_MS,
);

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
    expect(users.stdout).toMatch(/^user-02\s+Alan Turing\s+on\s+on\s+on\s+off\s+on$/m);
    expect(users.stderr).toMatch(/24 users/);

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
    // A group that rebalances mid-drain (a heartbeat missed on a loaded machine) reads a chunk again:
    // its sends come back as `duplicate`, never sent twice. The first line of each pair is its outcome.
    const deliveries = firstOutcomes(lines);
    expect(deliveries).toHaveLength(30); // 6 events × 5 channels
    // user-02: email, sms, push and webhook on, console off (no --webhook-url: the webhook goes to the mock)
    expect(
      deliveries
        .filter((d) => d.userId === 'user-02')
        .map((d) => `${String(d.channel)} ${String(d.status)}`)
        .sort(),
    ).toEqual(['console skipped', 'email sent', 'push sent', 'sms sent', 'webhook sent']);

    // run again under another group: everything is a duplicate (ledger and provider records across slots)
    const again = await runCli(
      ['consume', '--drain', '--brokers', brokers(), '--redis', redis, '--topic', topic, '--group', unique('g')],
      process.env,
      60_000,
    );
    // Its first line per pair (a rebalance may have it read a chunk again too).
    const againLines = again.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(againLines.filter((d) => d.kind === 'delivery' && d.status === 'sent')).toEqual([]);
    const replay = firstOutcomes(againLines);
    expect(replay.filter((d) => d.status === 'duplicate').length).toBe(
      deliveries.filter((d) => d.status === 'sent').length,
    );
  });

  it('defers a send through the schedule on the cluster and sends it once at the window end', async () => {
    const redisUrl = `redis://127.0.0.1:${ports[0]}`;
    const cluster = new Cluster([{ host: '127.0.0.1', port: ports[0]! }]);
    const running: CliProcess[] = [];
    try {
      const clock = quietEnd(25_000);
      const id = unique('cluster-night');
      // one key at a time: a user's keys live in several slots
      await cluster.hset(`user:${id}`, { name: 'Night Owl', email: 'owl@example.com' });
      await cluster.hset(`prefs:${id}`, {
        email: 'on',
        sms: 'off',
        push: 'off',
        console: 'off',
        tz: 'Asia/Tokyo',
        quiet: windowEndingAt(clock.end, 'Asia/Tokyo'),
      });
      await cluster.sadd('users', id);
      const topic = unique('cluster-rules');
      await createTopic(topic, 3);
      const e = event('user_signup', id, { plan: 'pro' });
      await produceEvents(topic, [e]);
      const args = consumeArgs(topic, unique('g'), []).map((a, i, all) => (all[i - 1] === '--redis' ? redisUrl : a));
      const env = { EVENTSTREAM_CLOCK_OFFSET_MS: String(clock.offsetMs) };
      const first = new CliProcess(args, env);
      running.push(first);
      await first.waitForLines(
        'the deferral',
        (l) => l.some((x) => x.eventId === e.id && x.channel === 'email'),
        60_000,
      );
      expect(first.deliveries({ eventId: e.id, channel: 'email' })).toEqual([
        expect.objectContaining({ status: 'deferred', dueAt: new Date(clock.end).toISOString() }),
      ]);
      expect((await scheduleEntries(cluster as unknown as RedisClient, [[e.id, 'email']])).map((x) => x.score)).toEqual(
        [clock.end],
      );
      // a second consumer (another group, reading from the beginning) defers onto the same entry
      const second = new CliProcess(
        consumeArgs(topic, unique('g'), []).map((a, k, all) => (all[k - 1] === '--redis' ? redisUrl : a)),
        env,
      );
      running.push(second);
      await second.waitForLines(
        'the second deferral',
        (l) => l.some((x) => x.eventId === e.id && x.channel === 'email'),
        60_000,
      );
      expect(second.deliveries({ eventId: e.id, channel: 'email' }).map((l) => l.status)).toEqual(['deferred']);
      expect(await scheduleEntries(cluster as unknown as RedisClient, [[e.id, 'email']])).toHaveLength(1);
      // at the window's end one of the two sends it, once
      const later = () => running.flatMap((p) => p.deliveries({ eventId: e.id, channel: 'email', deferred: true }));
      await first.waitForLines('the deferred send', () => later().length > 0, 60_000);
      await waitFor(
        'the schedule emptied',
        async () =>
          (await scheduleEntries(cluster as unknown as RedisClient, [[e.id, 'email']])).length === 0 || undefined,
      );
      expect(later().map((l) => l.status)).toEqual(['sent']);
      expect(running.flatMap((p) => p.deliveries({ eventId: e.id, status: 'sent' }))).toHaveLength(1);
      expect((await cluster.lrange(outboxKey('email'), 0, -1)).filter((l) => l.includes(e.id))).toHaveLength(1);
    } finally {
      await Promise.all(running.map((p) => p.stop('SIGKILL')));
      cluster.disconnect();
    }
  });

  it('caps on the cluster: one script call per slot the users fall in, exact per user; a capped user through the consumer', async () => {
    const redisUrl = `redis://127.0.0.1:${ports[0]}`;
    const cluster = new Cluster([{ host: '127.0.0.1', port: ports[0]! }]);
    const keys: string[] = [];
    try {
      // The counter alone: 12 users (several slots), 3 checks each in one chunk, limit 2.
      const caps = new RedisCapCounter(cluster);
      const users = Array.from({ length: 12 }, () => unique('cluster-cap'));
      for (const u of users) keys.push(capKey(u, 'sms'), capKey(u, 'email'));
      const checks = users.flatMap((userId) =>
        ['a', 'b', 'c'].map((e) => ({ userId, channel: 'sms', eventId: e, limit: 2, windowMs: 3_600_000 })),
      );
      // and one user's second channel: the same slot as its first
      checks.push({ userId: users[0]!, channel: 'email', eventId: 'a', limit: 1, windowMs: 3_600_000 });
      const slots = new Set(users.map((u) => keySlot(capKey(u, 'sms'))));
      expect(slots.size).toBeGreaterThan(1);
      const verdicts = await caps.check(checks, Date.now());
      expect(caps.calls).toBe(slots.size);
      expect(verdicts.map((v) => v.allowed)).toEqual([...users.flatMap(() => [true, true, false]), true]);
      for (const u of users) expect(await cluster.zcard(capKey(u, 'sms'))).toBe(2);
      // again: nothing counted twice
      const before = caps.calls;
      expect((await caps.check(checks, Date.now())).map((v) => v.allowed)).toEqual(verdicts.map((v) => v.allowed));
      expect(caps.calls - before).toBe(slots.size);
      for (const u of users) expect(await cluster.zcard(capKey(u, 'sms'))).toBe(2);

      // Through the consumer: 5 events, cap.sms 2/1h, 2 SMS.
      const id = unique('cluster-capped');
      keys.push(capKey(id, 'sms'));
      await cluster.hset(`user:${id}`, { name: 'Capped', phone: '+15550500000' });
      await cluster.hset(`prefs:${id}`, { email: 'off', sms: 'on', push: 'off', console: 'off', 'cap.sms': '2/1h' });
      await cluster.sadd('users', id);
      const topic = unique('cluster-caps');
      await createTopic(topic, 3);
      const events = Array.from({ length: 5 }, () => event('user_signup', id, { plan: 'pro' }));
      await produceEvents(topic, events);
      const args = consumeArgs(topic, unique('g'), ['--drain']).map((a, i, all) =>
        all[i - 1] === '--redis' ? redisUrl : a,
      );
      const consumed = await runCli(args, process.env, 60_000);
      expect(consumed.code, consumed.stderr.slice(-2000)).toBe(0);
      const sms = consumed.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .filter((l) => l.kind === 'delivery' && l.channel === 'sms');
      expect(sms.map((l) => `${String(l.status)} ${String(l.reason)} ${String(l.detail)}`).sort()).toEqual([
        'sent null undefined',
        'sent null undefined',
        'skipped throttled 2 of 2 in the last hour',
        'skipped throttled 2 of 2 in the last hour',
        'skipped throttled 2 of 2 in the last hour',
      ]);
      expect((await cluster.lrange(outboxKey('sms'), 0, -1)).filter((l) => l.includes(id))).toHaveLength(2);
    } finally {
      for (const key of keys) await cluster.del(key);
      cluster.disconnect();
    }
  });
});
