/**
 * Faults of the services themselves: the Kafka broker stopped for 10 s
 * mid-stream, and Redis stopped for 10 s mid-stream. Each runs on a broker or
 * a Redis of its own (spare ports), so stopping it disturbs nothing else.
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { createKafka } from '../../src/adapters/kafka/client.js';
import { createLogger } from '../../src/log/logger.js';
import { stackPaths } from '../../src/stack/paths.js';
import { stackDown, stackUp } from '../../src/stack/stack.js';
import { findRecord, readState } from '../../src/stack/state.js';
import { freePort, waitFor } from '../support/cli.js';
import {
  brokers as sharedBrokers,
  CliProcess,
  committedOffsets,
  createTopic,
  newRedis,
  readTopic,
  redisUrl,
  removeUsers,
  unique,
  unacknowledgedReport,
  type Line,
} from '../support/pipeline.js';
import { audit, AUDIT_ENV, faultUsers, printReport, produceFlow, trimOutboxes, type SentEvent } from './harness.js';
import { createTopicsLed } from '../support/topics.js';

const OUTAGE_MS = 10_000;
const running: CliProcess[] = [];
const cleanups: (() => Promise<void>)[] = [];

afterAll(async () => {
  await Promise.all(running.map((p) => p.stop('SIGKILL')));
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
  const redis = newRedis();
  await trimOutboxes(redis);
  redis.disconnect();
});

const spawn = (args: string[], cwd?: string): CliProcess => {
  const p = new CliProcess(args, AUDIT_ENV, cwd);
  running.push(p);
  return p;
};

/** A Kafka broker of the test's own on free ports (stopped after): stopping it disturbs nothing else. */
async function ownBroker(name: string) {
  const port = await freePort(); // and port + 1, the controller's
  const brokers = `localhost:${port}`;
  const paths = stackPaths(mkdtempSync(path.join(os.tmpdir(), `etui-${name}-`)));
  const config = { brokers: [brokers], redisUrl: redisUrl() };
  await stackUp({ config, paths }, ['kafka']);
  cleanups.push(async () => void (await stackDown({ paths }, ['kafka'])));
  const kafka = createKafka({ brokers: [brokers], logger: createLogger({ kind: 'silent' }) });
  return { brokers, paths, config, kafka };
}

/** A redis-server of the test's own on a free port (stopped after), and a client that rides out its outages. */
async function ownRedis(name: string) {
  const url = `redis://127.0.0.1:${await freePort()}`;
  const paths = stackPaths(mkdtempSync(path.join(os.tmpdir(), `etui-${name}-`)));
  const config = { brokers: ['localhost:1'], redisUrl: url };
  await stackUp({ config, paths }, ['redis']);
  cleanups.push(async () => void (await stackDown({ paths }, ['redis'])));
  const redis = new Redis(url, { maxRetriesPerRequest: 1, retryStrategy: () => 200 });
  redis.on('error', () => undefined);
  cleanups.push(async () => redis.disconnect());
  return { url, paths, config, redis };
}

describe('service faults', () => {
  it('the Kafka broker stopped for 10 s mid-stream: the producer retries within its bounded buffer, the consumer resumes, nothing lost', async () => {
    const redis = newRedis();
    cleanups.push(async () => redis.disconnect());
    const users = await faultUsers(redis, unique('kdown'));
    cleanups.push(() =>
      removeUsers(
        redis,
        users.map((u) => u.id),
      ),
    );
    const { brokers, paths, config, kafka } = await ownBroker('kdown');

    const topic = unique('kdown');
    const admin = kafka.admin();
    await admin.connect();
    await createTopicsLed(admin, [
      { topic, numPartitions: 3 },
      { topic: `${topic}.dlq`, numPartitions: 3 },
    ]);
    await admin.disconnect();

    const consumer = spawn([
      'consume',
      '--brokers',
      brokers,
      '--redis',
      redisUrl(),
      '--topic',
      topic,
      '--group',
      unique('kdown-g'),
    ]);
    const sendErrors: string[] = [];
    const flow = produceFlow(topic, users, 6_000, 300, (e) => sendErrors.push(e.message), kafka);
    // our own producer too, on its schedule: it must ride out the outage with its bounded backlog
    const producer = spawn([
      'produce',
      '--brokers',
      brokers,
      '--redis',
      redisUrl(),
      '--topic',
      topic,
      '--user',
      users[0]!.id,
      '--type',
      'user_signup',
      '--rate',
      '100',
    ]);
    await consumer.waitForLines(
      'deliveries before the outage',
      (l) => l.filter((x) => x.kind === 'delivery').length > 200,
      60_000,
    );

    await stackDown({ paths }, ['kafka']);
    const downAt = Date.now();
    await new Promise((r) => setTimeout(r, OUTAGE_MS));
    await stackUp({ config, paths }, ['kafka']);
    process.stdout.write(`[faults] broker down for ${Date.now() - downAt} ms\n`);

    const producedBeforeRestart = producer.lines.length;
    const events: SentEvent[] = await flow;
    await producer.waitForLines(
      'our producer to produce again after the outage',
      (l) => l.length > producedBeforeRestart + 100,
      60_000,
    );
    expect(producer.child.exitCode).toBeNull();
    expect((await producer.stop('SIGTERM')).code).toBe(0);
    events.push(
      ...producer.lines
        .filter((l) => l.kind === 'produced')
        .map((l) => ({ id: String(l.eventId), userId: String(l.userId) })),
    );
    process.stdout.write(
      `[faults] our producer: ${producer.lines.filter((l) => l.kind === 'produced').length} events acknowledged, ${producer.lines.filter((l) => l.kind === 'error').length} error lines during the outage\n`,
    );
    await waitFor(
      'the consumer to deliver every acknowledged event',
      async () => (await audit(redis, events, users, consumer.lines)).lost === 0,
      120_000,
      1_000,
    );
    const report = await audit(redis, events, users, consumer.lines);
    printReport('Kafka broker down 10 s', report);
    expect(consumer.child.exitCode).toBeNull();
    expect(report.lost).toBe(0);
    expect(report.sentTwice).toBe(0);
  });

  it('Redis stopped for 10 s mid-stream: no commit past what could not be looked up, resumes after, nothing lost, nothing duplicated', async () => {
    const { url, paths, config, redis } = await ownRedis('rdown');
    const users = await faultUsers(redis, unique('rdown'));

    const topic = unique('rdown');
    await createTopic(topic, 3);
    const consumer = spawn([
      'consume',
      '--brokers',
      sharedBrokers(),
      '--redis',
      url,
      '--topic',
      topic,
      '--group',
      unique('rdown-g'),
    ]);
    const flow = produceFlow(topic, users, 4_000, 200);
    await consumer.waitForLines(
      'deliveries before the outage',
      (l) => l.filter((x) => x.kind === 'delivery').length > 200,
      60_000,
    );

    await stackDown({ paths }, ['redis']);
    await new Promise((r) => setTimeout(r, OUTAGE_MS));
    await stackUp({ config, paths }, ['redis']);

    const events = await flow;
    await waitFor(
      'the consumer to deliver every event',
      async () => (await audit(redis, events, users, consumer.lines).catch(() => ({ lost: 1 }))).lost === 0,
      120_000,
      1_000,
    );
    const report = await audit(redis, events, users, consumer.lines);
    printReport('Redis down 10 s', report);
    expect(consumer.child.exitCode).toBeNull();
    expect(consumer.lines.some((l) => l.kind === 'error' && l.source === 'redis')).toBe(true);
    expect(report.lost).toBe(0);
    expect(report.sentTwice).toBe(0);
  });

  it('a stop during a Redis outage while senders fail half the time: the chunk is abandoned uncommitted, never reported failed; after Redis is back every pair is sent once', async () => {
    const { url, paths, config, redis } = await ownRedis('stop');
    const users = await faultUsers(redis, unique('stop'));

    const topic = unique('stop');
    await createTopic(topic, 3);
    const flow = produceFlow(topic, users, 3_000, 300);
    const group = unique('stop-g');
    const args = ['consume', '--brokers', sharedBrokers(), '--redis', url, '--topic', topic, '--group', group];
    // Slow senders: most of a chunk's time goes to retries, so the outage and the stop land in them.
    const flaky = ['--failure-rate', '0.5', '--latency', '40'];
    const first = spawn([...args, ...flaky]);
    await first.waitForLines(
      'deliveries before the outage',
      (l) => l.filter((x) => x.kind === 'delivery').length > 300,
      60_000,
    );
    await stackDown({ paths }, ['redis']);
    await first.waitForLines(
      'the consumer to see Redis gone',
      (l) => l.some((x) => x.kind === 'error' && x.source === 'redis'),
      30_000,
    );
    const stopped = await first.stop('SIGTERM');
    expect(stopped.code).toBe(0);
    await stackUp({ config, paths }, ['redis']);
    const events = await flow;

    const second = spawn([...args, ...flaky, '--drain']);
    const exit = await waitFor(
      'the second consumer to drain',
      () => second.child.exitCode !== null && second.exited,
      120_000,
    );
    expect((await exit).code).toBe(0);

    const lines = [...first.lines, ...second.lines];
    const failed = lines.filter((l) => l.kind === 'delivery' && l.status === 'failed');
    // A stop is never a failure: every failed send is a provider's rejection that used up its retries.
    expect(failed.filter((l) => !/simulated failure/.test(String(l.reason)))).toEqual([]);
    const letters = await readTopic(`${topic}.dlq`, failed.length, 30_000).catch(() => []);
    expect(letters.filter((l) => !/simulated failure/.test(l.headers['dlq-detail'] ?? ''))).toEqual([]);
    const failedPairs = new Set(failed.map((l) => `${String(l.eventId)}/${String(l.channel)}`));
    const report = await audit(redis, events, users, lines);
    printReport('stop during a Redis outage, senders failing 50%', { ...report, deadLettered: letters.length });
    // Every pair the preferences ask for was accepted once, or was rejected through its whole retry budget.
    expect(report.lostPairs.filter((p) => !failedPairs.has(p))).toEqual([]);
    expect(report.sentTwice).toBe(0);
    const { committed, high } = await committedOffsets(group, topic);
    // Every partition committed to its end; one no event was keyed to has nothing to commit (-1).
    for (const [partition, end] of high) {
      const at = committed.get(partition);
      if (end === 0n && at === -1n) continue;
      expect(at, `partition ${partition}`).toBe(end);
    }
  });

  it("the broker away past the producer's retries: produce --rate keeps what it made and sends it after; stopped while it is away, it exits 3 and writes the unacknowledged events to a file", async () => {
    const { brokers, paths, config, kafka } = await ownBroker('backlog');
    const topic = unique('backlog');
    const admin = kafka.admin();
    await admin.connect();
    await createTopicsLed(admin, [{ topic, numPartitions: 3 }]);
    await admin.disconnect();

    const produce = (rate: number, cwd: string): CliProcess =>
      spawn(
        [
          'produce',
          '--brokers',
          brokers,
          '--redis',
          redisUrl(),
          '--topic',
          topic,
          '--user',
          'u-backlog',
          '--rate',
          String(rate),
        ],
        cwd,
      );
    const produced = (l: Line[]): number => l.filter((x) => x.kind === 'produced').length;
    const keeper = produce(100, process.cwd());
    const quitter = produce(20, mkdtempSync(path.join(os.tmpdir(), 'etui-unacked-')));
    await keeper.waitForLines('events before the outage', (l) => produced(l) >= 200, 30_000);
    await quitter.waitForLines('events before the outage', (l) => produced(l) >= 20, 30_000);

    const linesAtDown = produced(keeper.lines);
    await stackDown({ paths }, ['kafka']);
    const downAt = Date.now();
    // kafkajs gives up on a send after ~30 s of retries: the events stay in the backlog, and it says so.
    await keeper.waitForStderr(
      'the producer to say a send failed and was kept',
      (s) => /error: producer: producing \d+ event\(s\) failed, kept for retry/.test(s),
      60_000,
    );
    await quitter.waitForStderr(
      'the producer to say a send failed and was kept',
      (s) => /kept for retry/.test(s),
      60_000,
    );

    // Stopped while the broker is away: nothing silently dropped.
    const ackedByQuitter = new Set(quitter.lines.filter((l) => l.kind === 'produced').map((l) => String(l.eventId)));
    const quit = await quitter.stop('SIGTERM');
    expect(quit.code).toBe(3);
    const unacked = unacknowledgedReport(quitter.stderr).events;
    expect(unacked.length).toBeGreaterThan(20 * 5); // at 20/s, the outage so far (kafkajs retried for 10 s or more)
    expect(unacked.filter((e) => ackedByQuitter.has(e.id))).toEqual([]);

    // Back as soon as both said so and the quitter's report is read: the outage outlasted kafkajs' retries.
    await stackUp({ config, paths }, ['kafka']);
    const upAt = Date.now();
    process.stdout.write(`[faults] broker down for ${upAt - downAt} ms\n`);

    // What was made during the outage is sent after it, in order, then the schedule goes on.
    const outageSeconds = (upAt - downAt) / 1000;
    await keeper.waitForLines(
      'the backlog of the outage to reach Kafka, then the schedule to go on',
      (l) => produced(l) > linesAtDown + 0.9 * 100 * outageSeconds + 200,
      120_000,
    );
    const stopped = await keeper.stop('SIGTERM');
    expect(stopped.code).toBe(0);
    const acked = keeper.lines.filter((l) => l.kind === 'produced').map((l) => String(l.eventId));
    const inKafka = await readTopic(topic, acked.length, 60_000, kafka);
    const ids = new Set(inKafka.map((m) => (JSON.parse(m.value!.toString()) as { id: string }).id));
    expect(acked.filter((id) => !ids.has(id))).toEqual([]);
    const duringOutage = inKafka
      .map((m) => JSON.parse(m.value!.toString()) as { occurredAt: string; userId: string })
      .filter((e) => e.userId === 'u-backlog')
      .map((e) => Date.parse(e.occurredAt))
      .filter((t) => t > downAt + 1000 && t < upAt - 1000).length;
    process.stdout.write(
      `[faults] produce --rate 100: ${duringOutage} events made during the outage reached Kafka after it\n`,
    );
    // made at its rate all through the outage (100/s), none dropped
    expect(duringOutage).toBeGreaterThan(0.9 * 100 * ((upAt - downAt - 2000) / 1000));
  });
  it('stopped while the broker hangs (SIGSTOP: connections open, nothing answers): produce --rate exits 3 within seconds and reports every unacknowledged event, the send in flight too', async () => {
    const { brokers, paths, kafka } = await ownBroker('frozen');
    const topic = unique('frozen');
    const admin = kafka.admin();
    await admin.connect();
    await createTopicsLed(admin, [{ topic, numPartitions: 3 }]);
    await admin.disconnect();
    const cwd = mkdtempSync(path.join(os.tmpdir(), 'etui-frozen-'));
    const producer = spawn(
      ['produce', '--brokers', brokers, '--redis', redisUrl(), '--topic', topic, '--user', 'u-frozen', '--rate', '200'],
      cwd,
    );
    await producer.waitForLines(
      'events before the freeze',
      (l) => l.filter((x) => x.kind === 'produced').length >= 200,
      30_000,
    );
    const pid = findRecord(readState(paths.state), 'kafka', brokers)!.pid;
    process.kill(pid, 'SIGSTOP');
    cleanups.push(async () => void process.kill(pid, 'SIGCONT'));
    // Sends go out to the frozen broker and hang (kafkajs waits 30 s for an answer): no acknowledgement
    // for half a second.
    await waitFor(
      'the acknowledgements to stop',
      () => Date.now() - producer.arrivedAt[producer.arrivedAt.length - 1]! > 500,
      10_000,
      50,
    );
    const stoppedAt = Date.now();
    const stop = await producer.stop('SIGTERM');
    const tookMs = Date.now() - stoppedAt;
    process.kill(pid, 'SIGCONT');
    expect(stop.code, producer.stderr.slice(-2000)).toBe(3);
    expect(tookMs).toBeLessThan(10_000);
    const unacked = unacknowledgedReport(producer.stderr).events;
    // At 200/s, the half second before the stop at least (the send in flight, and what came due
    // after it); none of them printed as acknowledged.
    expect(unacked.length).toBeGreaterThanOrEqual(50);
    const acked = new Set(producer.lines.filter((l) => l.kind === 'produced').map((l) => String(l.eventId)));
    expect(unacked.filter((e) => acked.has(e.id))).toEqual([]);
    // Every event acknowledged is in Kafka; every event made is either acknowledged or in the file.
    const inKafka = await readTopic(topic, acked.size, 60_000, kafka);
    const ids = new Set(inKafka.map((m) => (JSON.parse(m.value!.toString()) as { id: string }).id));
    expect([...acked].filter((id) => !ids.has(id))).toEqual([]);
    process.stdout.write(
      `[faults] stopped with the broker frozen: exit ${stop.code} after ${tookMs} ms${/did not finish in time/.test(producer.stderr) ? ' (the watchdog reported)' : ''}, ${acked.size} acknowledged, ${unacked.length} reported unacknowledged\n`,
    );
  });
});
