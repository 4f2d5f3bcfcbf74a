/**
 * The whole `stack up | status | down` cycle through the real CLI, on spare
 * ports and in a home of its own, so it neither disturbs nor depends on the
 * services the other tests share.
 */
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { probeKafka } from '../../src/adapters/kafka/probe.js';
import { probeRedis } from '../../src/adapters/redis/probe.js';
import { stackPaths } from '../../src/stack/paths.js';
import { isAlive } from '../../src/stack/processes.js';
import { canListen, freePort, runCli, waitFor } from '../support/cli.js';

describe('stack up / status / down on spare ports', () => {
  it('starts a real broker and redis-server, reports them, is idempotent, and stops only them', async () => {
    const home = mkdtempSync(path.join(os.tmpdir(), 'etui-lifecycle-'));
    // Kafka's controller takes broker port + 1: find two free in a row.
    let kafkaPort = await freePort();
    while ((await probeKafka('localhost', kafkaPort + 1, 300)).state !== 'closed') kafkaPort = await freePort();
    const redisPort = await freePort();
    const env = { ...process.env, EVENTSTREAM_HOME: home };
    const flags = ['--brokers', `localhost:${kafkaPort}`, '--redis', `redis://127.0.0.1:${redisPort}`];

    const starting = runCli(['stack', 'up', ...flags], env, 180_000);
    // A second `stack up` while the first one's broker is still starting waits for that broker (a
    // second broker on its port could only fail).
    const recorded = (): number | undefined => {
      try {
        const state = JSON.parse(readFileSync(stackPaths(home).state, 'utf8')) as {
          started?: { service: string; pid: number; address: string }[];
        };
        return state.started?.find((r) => r.service === 'kafka' && r.address === `localhost:${kafkaPort}`)?.pid;
      } catch {
        return undefined;
      }
    };
    await waitFor('the first stack up to record its broker', () => recorded() !== undefined, 180_000, 50);
    const startedAnswering = (await probeKafka('localhost', kafkaPort, 300)).state === 'answers';
    const meanwhile = await runCli(['stack', 'up', 'kafka', ...flags], env, 180_000);
    const up = await starting;
    expect(meanwhile.code, meanwhile.stderr).toBe(0);
    expect(meanwhile.stdout).toContain(
      `Kafka localhost:${kafkaPort}: already running (started earlier by eventstream-tui, pid ${recorded()}`,
    );
    process.stdout.write(
      `[stack] a second stack up while the broker was ${startedAnswering ? 'answering already' : 'starting'}: ${meanwhile.stdout.trim()}\n`,
    );
    expect(up.stderr).toMatch(/resolving Apache Kafka 4\.4\.0 from Maven Central/);
    expect(up.code).toBe(0);
    expect(up.stdout).toMatch(new RegExp(`Kafka localhost:${kafkaPort}: started \\(pid (\\d+)`));
    expect(up.stdout).toMatch(new RegExp(`Redis 127.0.0.1:${redisPort}: started \\(pid (\\d+)`));
    const kafkaPid = Number(/Kafka \S+: started \(pid (\d+)/.exec(up.stdout)?.[1]);
    const redisPid = Number(/Redis \S+: started \(pid (\d+)/.exec(up.stdout)?.[1]);
    expect((await probeKafka('localhost', kafkaPort)).state).toBe('answers');
    expect((await probeRedis('127.0.0.1', redisPort)).state).toBe('answers');

    const status = await runCli(['stack', 'status', ...flags], env);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/version {4}Apache Kafka 4\.4\.0, cluster/);
    expect(status.stdout).toContain(`by eventstream-tui (pid ${kafkaPid})`);
    expect(status.stdout).toContain(`by eventstream-tui (pid ${redisPid})`);
    expect(status.stdout).toContain(path.join(home, `kafka-broker-${kafkaPort}`, 'kafka.log'));

    const again = await runCli(['stack', 'up', ...flags], env, 60_000);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/Kafka \S+: already running \(started earlier by eventstream-tui/);
    expect(again.stderr).not.toMatch(/resolving/);

    const down = await runCli(['stack', 'down', ...flags], env, 60_000);
    expect(down.code).toBe(0);
    expect(down.stdout).toContain(`Kafka localhost:${kafkaPort}: stopped (pid ${kafkaPid})`);
    expect(down.stdout).toContain(`Redis 127.0.0.1:${redisPort}: stopped (pid ${redisPid})`);
    expect(isAlive(kafkaPid)).toBe(false);
    expect(isAlive(redisPid)).toBe(false);
    expect((await probeKafka('localhost', kafkaPort, 500)).state).toBe('closed');

    const statusAfter = await runCli(['stack', 'status', ...flags], env);
    expect(statusAfter.code).toBe(5);
    expect(statusAfter.stdout).toMatch(/reachable {2}no/);

    const downAgain = await runCli(['stack', 'down', ...flags], env);
    expect(downAgain.stdout).toContain(`Kafka localhost:${kafkaPort}: not started by eventstream-tui: left alone\n`);
  });
});

describe('stack up redis at two addresses', () => {
  it('records each by address: down --redis <first> stops only the first; an old stack.json (one record per service) is still read', async () => {
    const home = mkdtempSync(path.join(os.tmpdir(), 'etui-two-redis-'));
    const env = { ...process.env, EVENTSTREAM_HOME: home };
    const ports: number[] = [];
    while (ports.length < 3) {
      const port = await freePort();
      if (!ports.includes(port)) ports.push(port);
    }
    const [p1, p2, nobody] = ports as [number, number, number];
    const at = (port: number): string[] => ['--redis', `redis://127.0.0.1:${port}`];
    const pids: number[] = [];
    const ping = async (port: number): Promise<string> => {
      const client = new Redis(port, '127.0.0.1', {
        lazyConnect: true,
        maxRetriesPerRequest: 0,
        retryStrategy: () => null,
      });
      client.on('error', () => undefined);
      try {
        await client.connect();
        return await client.ping();
      } finally {
        client.disconnect();
      }
    };
    try {
      for (const port of [p1, p2]) {
        const up = await runCli(['stack', 'up', 'redis', ...at(port)], env, 60_000);
        expect(up.code, up.stderr).toBe(0);
        const pid = Number(new RegExp(`Redis 127\\.0\\.0\\.1:${port}: started \\(pid (\\d+)`).exec(up.stdout)?.[1]);
        expect(pid, up.stdout).toBeGreaterThan(0);
        pids.push(pid);
      }
      const [pid1, pid2] = pids as [number, number];
      expect([await ping(p1), await ping(p2)]).toEqual(['PONG', 'PONG']);
      const status1 = await runCli(['stack', 'status', ...at(p1)], env);
      expect(status1.stdout).toContain(`by eventstream-tui (pid ${pid1})`);

      // an address it started nothing on: nothing stopped, and it says where it did start Redis
      const other = await runCli(['stack', 'down', 'redis', ...at(nobody)], env);
      expect([other.code, other.stdout]).toEqual([
        0,
        `Redis 127.0.0.1:${nobody}: not started by eventstream-tui: left alone (it started Redis at 127.0.0.1:${p1}, 127.0.0.1:${p2}: name that address with --redis to stop it)\n`,
      ]);

      const down = await runCli(['stack', 'down', 'redis', ...at(p1)], env, 30_000);
      expect([down.code, down.stdout], down.stderr).toEqual([0, `Redis 127.0.0.1:${p1}: stopped (pid ${pid1})\n`]);
      expect(isAlive(pid1)).toBe(false);
      expect(await ping(p2)).toBe('PONG');
      const status2 = await runCli(['stack', 'status', ...at(p2)], env);
      expect(status2.stdout).toContain(`by eventstream-tui (pid ${pid2})`);

      // the layout an earlier version wrote (one record per service): `stack down` still stops that server
      const state = path.join(home, 'stack.json');
      const [record] = (JSON.parse(readFileSync(state, 'utf8')) as { started: Record<string, unknown>[] }).started;
      expect(record).toMatchObject({ service: 'redis', address: `127.0.0.1:${p2}`, pid: pid2 });
      const { service: _, ...legacy } = record!;
      writeFileSync(state, JSON.stringify({ redis: legacy }));
      const downOld = await runCli(['stack', 'down', 'redis', ...at(p2)], env, 30_000);
      expect([downOld.code, downOld.stdout], downOld.stderr).toEqual([
        0,
        `Redis 127.0.0.1:${p2}: stopped (pid ${pid2})\n`,
      ]);
      expect(isAlive(pid2)).toBe(false);
    } finally {
      for (const pid of pids.filter(isAlive)) process.kill(pid, 'SIGTERM');
      await waitFor('the redis-servers started here to exit', () => !pids.some(isAlive), 15_000);
      rmSync(home, { recursive: true, force: true });
    }
  });
});

describe('stack up --kafka-nodes 3', () => {
  it('starts three nodes side by side, prints the brokers line, shows each node in status, and down stops them all', async () => {
    const home = mkdtempSync(path.join(os.tmpdir(), 'etui-cluster-'));
    // The jars the user's stack resolved already: nothing fetched again.
    symlinkSync(stackPaths().kafkaDist, path.join(home, path.basename(stackPaths().kafkaDist)));
    const env = { ...process.env, EVENTSTREAM_HOME: home };
    let base = await freePort();
    const sixFree = async (p: number): Promise<boolean> => {
      for (let q = p; q < p + 6; q++) if (!(await canListen(q))) return false;
      return true;
    };
    while (!(await sixFree(base))) base = await freePort();
    const addresses = [0, 2, 4].map((d) => `localhost:${base + d}`);
    const flags = ['--brokers', addresses[0]!];
    const pids: number[] = [];
    try {
      const bad = await runCli(['stack', 'up', 'kafka', '--kafka-nodes', '2', ...flags], env);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain('--kafka-nodes must be 1 or 3');
      expect(bad.stderr).toContain('Usage: eventstream-tui stack up');

      const up = await runCli(['stack', 'up', 'kafka', '--kafka-nodes', '3', ...flags], env, 240_000);
      expect(up.code, up.stderr).toBe(0);
      for (const [i, address] of addresses.entries()) {
        const pid = Number(
          new RegExp(`Kafka node ${i + 1} of 3 ${address}: started \\(pid (\\d+)`).exec(up.stdout)?.[1],
        );
        expect(pid, up.stdout).toBeGreaterThan(0);
        pids.push(pid);
      }
      expect(up.stdout).toContain(`give the other commands --brokers ${addresses.join(',')}`);

      const status = await runCli(['stack', 'status', ...flags, '--json'], env);
      expect(status.code, status.stdout).toBe(0);
      const rows = (JSON.parse(status.stdout) as { service: string; address: string; role?: string; pid?: number }[])
        .filter((r) => r.service === 'kafka')
        .map((r) => [r.address, r.role, r.pid]);
      expect(rows).toEqual(addresses.map((a, i) => [a, `broker+controller, node ${i + 1} of 3`, pids[i]]));

      const down = await runCli(['stack', 'down', 'kafka', ...flags], env, 90_000);
      expect(down.code, down.stderr).toBe(0);
      for (const [i, address] of addresses.entries())
        expect(down.stdout).toContain(`Kafka ${address}: stopped (pid ${pids[i]})`);
      expect(pids.filter(isAlive)).toEqual([]);
    } finally {
      for (const pid of pids.filter(isAlive)) process.kill(pid, 'SIGKILL');
      rmSync(home, { recursive: true, force: true });
    }
  });
});
