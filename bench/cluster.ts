/**
 * One broker against a local cluster of three (replication 3, min.insync.replicas 2), in the same run
 * (`npm run bench -- --only cluster`; BENCH_CLUSTER_EVENTS, default 100000): an idempotent kafkajs
 * producer (acks from every in-sync replica, one request in flight) sending batches of 2,000 one after
 * another as the producer's schedule does, the pipeline's own producer (the adapter's: the same acks,
 * not idempotent) alike (idempotence's cost), and the pipeline draining pre-produced events. Each stack (its brokers and a redis-server with the sample users) is
 * started on spare ports in a home of its own, sharing the cached jars, and stopped at the end.
 */
import { execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Partitioners, type Kafka } from 'kafkajs';
import {
  clusterAddresses,
  createKafka,
  createLogger,
  KafkaEventLog,
  PRODUCE_ACKS,
  stackDown,
  stackPathsSharingJars,
  stackUp,
  type StackPaths,
} from '../src/index.js';
import { bin, createTopic, eventsFile, log, rssMb, type Row } from './common.js';

const N = Number(process.env.BENCH_CLUSTER_EVENTS ?? 100_000);
const BATCH = 2_000;

/** `count` free ports in a row below the ephemeral range (brokers and their controllers). */
async function portRun(count: number): Promise<number> {
  const net = await import('node:net');
  const free = (port: number): Promise<boolean> =>
    new Promise((resolve) => {
      const s = net.createServer();
      s.once('error', () => resolve(false));
      s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
    });
  for (;;) {
    const base = 20_000 + 2 * Math.floor(Math.random() * 5_000);
    let ok = true;
    for (let p = base; p < base + count && ok; p++) ok = await free(p);
    if (ok) return base;
  }
}

function cli(args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const child = spawn(bin, args, { env: { ...process.env, CI: 'true' }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr = (stderr + c).slice(-3000)));
    child.on('exit', (code) =>
      code === 0 ? resolve(Date.now() - started) : reject(new Error(`${args[0]} exited ${code}: ${stderr}`)),
    );
  });
}

/** Events per second sending `count` sample events in sequential batches of {@link BATCH}. */
async function produceRate(
  send: (messages: { key: string; value: Buffer }[]) => Promise<void>,
  lines: string[],
): Promise<number> {
  const messages = lines.map((l) => {
    const tab = l.indexOf('\t');
    return { key: l.slice(0, tab), value: Buffer.from(l.slice(tab + 1)) };
  });
  // A first batch outside the clock: connections, metadata, the producer id.
  await send(messages.slice(0, BATCH));
  const started = performance.now();
  for (let i = BATCH; i < messages.length; i += BATCH) await send(messages.slice(i, i + BATCH));
  return Math.round((messages.length - BATCH) / ((performance.now() - started) / 1000));
}

async function measure(label: string, brokers: string[], redisUrl: string, tmp: string) {
  const kafka: Kafka = createKafka({ brokers, logger: createLogger({ kind: 'silent' }) });
  const lines = readFileSync(eventsFile(tmp, N), 'utf8').trim().split('\n');

  log(`${label}: an idempotent kafkajs producer (acks from all in-sync replicas, one request in flight)`);
  const topicA = `bench-cluster-${randomUUID().slice(0, 8)}`;
  await createTopic(brokers, topicA, 3);
  const idem = kafka.producer({
    createPartitioner: Partitioners.DefaultPartitioner,
    allowAutoTopicCreation: false,
    idempotent: true,
    maxInFlightRequests: 1,
  });
  await idem.connect();
  const idempotent = await produceRate(async (m) => {
    await idem.send({ topic: topicA, messages: m, acks: PRODUCE_ACKS });
  }, lines);
  await idem.disconnect();

  log(`${label}: the pipeline's producer (not idempotent, acks from all in-sync replicas)`);
  const topicB = `bench-cluster-${randomUUID().slice(0, 8)}`;
  await createTopic(brokers, topicB, 3);
  const eventLog = new KafkaEventLog(kafka);
  const producer = await eventLog.producer();
  const notIdempotent = await produceRate((m) => producer.send(topicB, m), lines);
  await producer.disconnect();
  await eventLog.close();

  log(`${label}: the pipeline draining ${N} events`);
  const topicC = `bench-cluster-${randomUUID().slice(0, 8)}`;
  await createTopic(brokers, topicC, 3);
  execFileSync('kcat', ['-P', '-b', brokers.join(','), '-t', topicC, '-K', '\t', '-l', eventsFile(tmp, N)], {
    stdio: 'ignore',
  });
  const conn = ['--brokers', brokers.join(','), '--redis', redisUrl];
  const drainMs = await cli([
    'consume',
    ...conn,
    '--drain',
    '--topic',
    topicC,
    '--group',
    `bench-${randomUUID()}`,
    '--output',
    'none',
  ]);
  return { idempotent, notIdempotent, drain: Math.round(N / (drainMs / 1000)) };
}

export async function clusterBench(): Promise<Row[]> {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'etui-bench-cluster-'));
  const paths: StackPaths = stackPathsSharingJars(tmp);
  const redisUrl = `redis://127.0.0.1:${await portRun(1)}`;
  const one = `localhost:${await portRun(2)}`;
  const first = `localhost:${await portRun(6)}`;
  try {
    log('cluster: a redis-server with the sample users, one broker, then three nodes');
    await stackUp({ config: { brokers: [one], redisUrl }, paths }, ['redis', 'kafka']);
    await cli(['seed', '--redis', redisUrl]);
    const single = await measure('one broker', [one], redisUrl, tmp);
    await stackDown({ paths, config: { brokers: [one], redisUrl } }, ['kafka']);
    const up = await stackUp({ config: { brokers: [first], redisUrl }, paths, kafkaNodes: 3 }, ['kafka']);
    const brokers = clusterAddresses(first, 3);
    const three = await measure('three nodes', brokers, redisUrl, tmp);
    const rss = up.map((o) => (o.pid ? rssMb(o.pid) : 0));
    const pct = (a: number, b: number): string => `${Math.round((a / b - 1) * 100)}%`;
    return [
      [
        'produce, idempotent kafkajs producer (acks all)',
        `1 node: ${single.idempotent.toLocaleString()}, 3 nodes RF 3: ${three.idempotent.toLocaleString()} events/s`,
        `batches of ${BATCH} one after another; 3 nodes ${pct(three.idempotent, single.idempotent)}`,
      ],
      [
        'produce, the pipeline producer (not idempotent, acks all)',
        `1 node: ${single.notIdempotent.toLocaleString()}, 3 nodes RF 3: ${three.notIdempotent.toLocaleString()} events/s`,
        `idempotent against not: ${pct(single.idempotent, single.notIdempotent)} on 1 node, ${pct(three.idempotent, three.notIdempotent)} on 3`,
      ],
      [
        'pipeline drain (wall, incl. group join)',
        `1 node: ${single.drain.toLocaleString()}, 3 nodes RF 3: ${three.drain.toLocaleString()} events/s`,
        `${N.toLocaleString()} events; 3 nodes ${pct(three.drain, single.drain)}`,
      ],
      ['cluster node RSS after the runs', rss.map((r) => `${r} MB`).join(', '), 'heap -Xmx384m per node'],
    ];
  } finally {
    await stackDown({ paths });
    rmSync(tmp, { recursive: true, force: true });
  }
}
