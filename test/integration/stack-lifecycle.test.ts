/**
 * The whole `stack up | status | down` cycle through the real CLI, on spare
 * ports and in a home of its own, so it neither disturbs nor depends on the
 * services the other tests share.
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { probeKafka } from '../../src/adapters/kafka/probe.js';
import { probeRedis } from '../../src/adapters/redis/probe.js';
import { isAlive } from '../../src/stack/processes.js';
import { freePort, runCli } from '../support/cli.js';

describe('stack up / status / down on spare ports', () => {
  it('starts a real broker and redis-server, reports them, is idempotent, and stops only them', async () => {
    const home = mkdtempSync(path.join(os.tmpdir(), 'etui-lifecycle-'));
    // Kafka's controller takes broker port + 1: find two free in a row.
    let kafkaPort = await freePort();
    while ((await probeKafka('localhost', kafkaPort + 1, 300)).state !== 'closed') kafkaPort = await freePort();
    const redisPort = await freePort();
    const env = { ...process.env, EVENTSTREAM_HOME: home };
    const flags = ['--brokers', `localhost:${kafkaPort}`, '--redis', `redis://127.0.0.1:${redisPort}`];

    const up = await runCli(['stack', 'up', ...flags], env, 180_000);
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

    const down = await runCli(['stack', 'down'], env, 60_000);
    expect(down.code).toBe(0);
    expect(down.stdout).toContain(`Kafka: stopped (pid ${kafkaPid})`);
    expect(down.stdout).toContain(`Redis: stopped (pid ${redisPid})`);
    expect(isAlive(kafkaPid)).toBe(false);
    expect(isAlive(redisPid)).toBe(false);
    expect((await probeKafka('localhost', kafkaPort, 500)).state).toBe('closed');

    const statusAfter = await runCli(['stack', 'status', ...flags], env);
    expect(statusAfter.code).toBe(3);
    expect(statusAfter.stdout).toMatch(/reachable {2}no/);

    const downAgain = await runCli(['stack', 'down'], env);
    expect(downAgain.stdout).toMatch(/Kafka: not started by eventstream-tui: left alone/);
  });
});
