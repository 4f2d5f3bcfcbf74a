#!/usr/bin/env node
/**
 * CPU per delivered event, per process, for two user mixes: the sample users (2.2 channels per
 * event on average) and users with every channel on (4 sends per event). Each mix drains
 * pre-produced events with `consume --drain` and reads, before and after:
 *  - the consumer's CPU (user + system, from the shell that waits for it: exact, start-up included),
 *  - the Redis server's CPU, commands and bytes in (a private redis-server on a free port, so other
 *    programs' traffic on the shared Redis does not count; /proc/<pid>/stat and INFO stats),
 *  - the Kafka broker's CPU (/proc of the process listening on the broker's port; it is shared, so
 *    its idle rate, measured for a second before, is subtracted),
 * and compares the rate with a kafkajs consumer doing nothing on the same topic.
 *
 * `node bench/cpu-per-event.mjs` runs this part alone (BENCH_CPU_EVENTS, default 200000;
 * BENCH_CPU_REPEAT, default 2); `npm run bench` runs it as one block of the whole bench.
 */
import { execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = path.join(root, 'bin', 'eventstream-tui');
const { resolveConfig } = await import(path.join(root, 'dist/config/config.js'));
const { createKafka } = await import(path.join(root, 'dist/adapters/kafka/client.js'));
const { createLogger } = await import(path.join(root, 'dist/log/logger.js'));
const { Redis } = await import('ioredis');

const log = (line) => process.stderr.write(`[bench] ${line}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const TICK = 100; // /proc's clock ticks per second (USER_HZ)

function procCpuSeconds(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICK;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** A redis-server of the bench's own: its CPU and counters are the pipeline's alone. */
async function privateRedis() {
  const port = await freePort();
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    {
      stdio: 'ignore',
    },
  );
  const url = `redis://127.0.0.1:${port}`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    const r = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    r.on('error', () => undefined); // not listening yet: asked again below
    try {
      await r.connect();
      await r.ping();
      r.disconnect();
      break;
    } catch (error) {
      r.disconnect();
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`redis-server on port ${port} did not answer: ${error.message}`);
      }
      await sleep(100);
    }
  }
  return {
    url,
    pid: child.pid,
    stop: async () => {
      child.kill('SIGTERM');
      await new Promise((r) => (child.exitCode !== null ? r() : child.once('exit', r)));
    },
  };
}

/** The pid of the process listening on the broker's port (the shared local broker), if any. */
function brokerPid(brokers) {
  const port = brokers[0].split(':').pop();
  try {
    const out = execFileSync('ss', ['-ltnpH', `sport = :${port}`], { encoding: 'utf8' });
    const m = /pid=(\d+)/.exec(out);
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

async function redisStats(url) {
  const r = new Redis(url);
  const info = await r.info('stats');
  r.disconnect();
  const field = (name) => Number(new RegExp(`^${name}:(\\d+)`, 'm').exec(info)[1]);
  return { commands: field('total_commands_processed'), bytesIn: field('total_net_input_bytes') };
}

async function createTopic(brokers, topic, partitions) {
  const admin = createKafka({ brokers, logger: createLogger({ kind: 'silent' }) }).admin();
  await admin.connect();
  await admin.createTopics({
    topics: [
      { topic, numPartitions: partitions },
      { topic: `${topic}.dlq`, numPartitions: partitions },
    ],
    waitForLeaders: true,
  });
  return async () => {
    await admin.deleteTopics({ topics: [topic, `${topic}.dlq`] }).catch(() => undefined);
    await admin.disconnect();
  };
}

/** Users with every channel on (name, email, phone, push token), `count` of them. */
async function seedAllOnUsers(url, prefix, count) {
  const r = new Redis(url);
  const ids = [];
  for (let i = 1; i <= count; i++) {
    const id = `${prefix}-${i}`;
    ids.push(id);
    await r.hset(`user:${id}`, {
      name: `Bench User ${i}`,
      email: `${id}@example.com`,
      phone: `+1555000${String(i).padStart(4, '0')}`,
      pushToken: `tok-${id}`,
    });
    await r.hset(`prefs:${id}`, { console: 'on', email: 'on', sms: 'on', push: 'on' });
    await r.sadd('users', id);
  }
  r.disconnect();
  return ids;
}

const ITEMS = ['mechanical keyboard', 'noise-cancelling headphones', 'espresso grinder', 'standing desk', 'e-reader'];

/** `count` events as `key\tvalue` lines for kcat: item_purchased for `users` (all on), or the sample mix. */
function eventsFile(dir, count, users) {
  const types = ['user_signup', 'item_purchased', 'password_reset'];
  const lines = new Array(count);
  const occurredAt = new Date().toISOString();
  for (let i = 0; i < count; i++) {
    const all = users !== undefined;
    const userId = all ? users[i % users.length] : `user-${String((i % 24) + 1).padStart(2, '0')}`;
    const e = {
      id: randomUUID(),
      type: all ? 'item_purchased' : types[i % 3],
      userId,
      occurredAt,
      payload: all
        ? { orderId: `ord-${(i * 7919).toString(36)}`, item: ITEMS[i % ITEMS.length], amount: 99.5, currency: 'USD' }
        : { plan: 'pro', item: 'e-reader', amount: 99.5, code: '123456' },
    };
    lines[i] = `${userId}\t${JSON.stringify(e)}`;
  }
  const file = path.join(dir, `events-${randomUUID().slice(0, 8)}.txt`);
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

function kcatProduce(brokers, topic, file) {
  execFileSync(
    'kcat',
    [
      '-P',
      '-b',
      brokers.join(','),
      '-t',
      topic,
      '-K',
      '\t',
      '-l',
      file,
      '-X',
      'linger.ms=5',
      '-X',
      'batch.num.messages=10000',
    ],
    { stdio: 'ignore' },
  );
}

/** A kafkajs consumer doing nothing: the ceiling of any kafkajs-based consumer here, and its CPU. */
async function kafkajsCeiling(brokers, topic, count) {
  const kafka = createKafka({ brokers, logger: createLogger({ kind: 'silent' }) });
  const consumer = kafka.consumer({ groupId: `bench-noop-${randomUUID()}`, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let seen = 0;
  let first = 0;
  let cpuAtFirst;
  const done = new Promise((resolve) => {
    void consumer.run({
      eachBatch: async ({ batch }) => {
        if (!first) {
          first = Date.now();
          cpuAtFirst = process.cpuUsage();
        }
        seen += batch.messages.length;
        if (seen >= count) resolve(undefined);
      },
    });
  });
  await done;
  const cpu = process.cpuUsage(cpuAtFirst);
  const ms = Date.now() - first;
  await consumer.disconnect();
  return { rate: Math.round(count / (ms / 1000)), cpuUsPerEvent: (cpu.user + cpu.system) / count };
}

/**
 * `consume --drain` of `count` events, with every process' CPU read before and after. The consumer
 * runs under a shell whose `times` gives its exact CPU once it has exited.
 */
async function measuredDrain({ brokers, topic, redis, count, broker, bin: build = bin, startupCpu = 0 }) {
  const brokerIdle = broker ? await idleRate(broker) : 0;
  const before = await redisStats(redis.url);
  const redisCpu0 = procCpuSeconds(redis.pid);
  const brokerCpu0 = broker ? procCpuSeconds(broker) : 0;
  const started = Date.now();
  let firstAt = 0;
  const group = `bench-cpu-${randomUUID()}`;
  const script = '"$@"; rc=$?; times >&2; exit $rc';
  const args = ['consume', '--drain', '--topic', topic, '--group', group, '--output', 'stats', '--redis', redis.url];
  const stderr = await new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', script, 'bash', process.execPath, build, ...args], {
      env: { ...process.env, CI: 'true', KAFKA_BROKERS: brokers.join(',') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (c) => {
      out += c;
      if (!firstAt && /"consumed":[1-9]/.test(out)) firstAt = Date.now();
      out = out.slice(-200);
    });
    child.stderr.setEncoding('utf8').on('data', (c) => (err = (err + c).slice(-4000)));
    child.on('exit', (code) => (code === 0 ? resolve(err) : reject(new Error(`consume exited ${code}: ${err}`))));
  });
  const ms = Math.max(1, Date.now() - started);
  const redisCpu = procCpuSeconds(redis.pid) - redisCpu0;
  const brokerCpu = broker ? Math.max(0, procCpuSeconds(broker) - brokerCpu0 - brokerIdle * (ms / 1000)) : null;
  const after = await redisStats(redis.url);
  // `times` prints the shell's own line, then its children's: "0m1.234s 0m0.456s".
  const times = stderr.trim().split('\n').slice(-1)[0];
  const m = /(\d+)m([\d.]+)s (\d+)m([\d.]+)s/.exec(times);
  if (!m) throw new Error(`no CPU times from the consumer's shell: ${times}`);
  const consumerCpu = Number(m[1]) * 60 + Number(m[2]) + Number(m[3]) * 60 + Number(m[4]) - startupCpu;
  if (count === 0) return { consumerCpu };
  const us = (s) => Math.round((s * 1e6 * 10) / count) / 10;
  return {
    rate: Math.round(count / (ms / 1000)),
    steadyRate: Math.round(count / ((Date.now() - (firstAt || started)) / 1000)),
    cpuUs: {
      consumer: us(consumerCpu),
      redis: us(redisCpu),
      broker: brokerCpu === null ? null : us(brokerCpu),
      total: us(consumerCpu + redisCpu + (brokerCpu ?? 0)),
    },
    redisCommandsPerEvent: Math.round(((after.commands - before.commands) / count) * 1000) / 1000,
    redisBytesInPerEvent: Math.round((after.bytesIn - before.bytesIn) / count),
  };
}

/** CPU seconds per second a process uses while we do nothing (the shared broker serves others too). */
async function idleRate(pid) {
  const c0 = procCpuSeconds(pid);
  const t0 = Date.now();
  await sleep(1000);
  return (procCpuSeconds(pid) - c0) / ((Date.now() - t0) / 1000);
}

/**
 * Both mixes, each drained `repeat` times on topics of their own (new event ids: events seen before
 * would meet the dedupe ledger). Returns the figures and the rows of the bench's table.
 */
export async function cpuPerEvent({ count = 200_000, repeat = 2, partitions = 3, builds = [{ label: '', bin }] } = {}) {
  const config = resolveConfig({});
  const brokers = config.brokers;
  const broker = brokerPid(brokers);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'etui-bench-cpu-'));
  const redis = await privateRedis();
  const cleanups = [];
  const figures = { load: os.loadavg().map((l) => Math.round(l * 100) / 100), mixes: {} };
  try {
    execFileSync(process.execPath, [bin, 'seed', '--redis', redis.url], { stdio: 'ignore' });
    const allOn = await seedAllOnUsers(redis.url, `bench-all-${randomUUID().slice(0, 6)}`, 8);
    // The consumer's own start and stop (loading the code, joining the group, the drain's last check):
    // an empty topic drained, subtracted from each run so the figure is per event.
    const startup = new Map();
    for (const build of builds) {
      const topic = `bench-cpu-${randomUUID().slice(0, 8)}`;
      cleanups.push(await createTopic(brokers, topic, partitions));
      const runs = [];
      for (let i = 0; i < 2; i++)
        runs.push((await measuredDrain({ brokers, topic, redis, count: 0, broker: null, bin: build.bin })).consumerCpu);
      startup.set(build, Math.min(...runs));
    }
    figures.consumerStartupCpuSeconds = Object.fromEntries(
      builds.map((b) => [b.label || 'this build', startup.get(b)]),
    );
    let ceiling;
    for (const [mix, users] of [
      ['sample users', undefined],
      ['every channel on', allOn],
    ]) {
      for (let i = 0; i < repeat; i++) {
        for (const build of builds) {
          const name = build.label ? `${mix} (${build.label})` : mix;
          const topic = `bench-cpu-${randomUUID().slice(0, 8)}`;
          cleanups.push(await createTopic(brokers, topic, partitions));
          kcatProduce(brokers, topic, eventsFile(dir, count, users));
          if (!ceiling) {
            log('kafkajs consuming, doing nothing (the ceiling)');
            ceiling = await kafkajsCeiling(brokers, topic, count);
          }
          log(`${name}: draining ${count} events (run ${i + 1} of ${repeat}, load ${os.loadavg()[0].toFixed(1)})`);
          const run = await measuredDrain({
            brokers,
            topic,
            redis,
            count,
            broker,
            bin: build.bin,
            startupCpu: startup.get(build),
          });
          (figures.mixes[name] ??= []).push({ ...run, load: Math.round(os.loadavg()[0] * 10) / 10 });
        }
      }
    }
    figures.kafkajsCeiling = ceiling;
    return { figures, rows: rowsOf(figures) };
  } finally {
    for (const c of cleanups) await c();
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

function rowsOf(f) {
  const rows = [];
  for (const [mix, runs] of Object.entries(f.mixes)) {
    for (const [i, r] of runs.entries()) {
      const c = r.cpuUs;
      rows.push([
        `${mix}, run ${i + 1}`,
        `${r.rate.toLocaleString()} events/s (steady ${r.steadyRate.toLocaleString()})`,
        `load ${r.load}; CPU µs/event: consumer ${c.consumer}, Redis ${c.redis}, broker ${c.broker ?? 'n/a'}, total ${c.total}; Redis ${r.redisCommandsPerEvent} commands, ${r.redisBytesInPerEvent} bytes in per event; ${Math.round((r.steadyRate / f.kafkajsCeiling.rate) * 100)}% of kafkajs doing nothing`,
      ]);
    }
  }
  rows.push([
    'kafkajs consume, doing nothing (ceiling)',
    `${f.kafkajsCeiling.rate.toLocaleString()} events/s`,
    `${Math.round(f.kafkajsCeiling.cpuUsPerEvent * 10) / 10} µs of CPU per event; load average at start ${f.load.join(', ')}`,
  ]);
  rows.push([
    "the consumer's start and stop (excluded above)",
    Object.entries(f.consumerStartupCpuSeconds)
      .map(([label, s]) => `${label}: ${Math.round(s * 100) / 100} s of CPU`)
      .join(', '),
    'an empty topic drained',
  ]);
  return rows;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { figures, rows } = await cpuPerEvent({
    count: Number(process.env.BENCH_CPU_EVENTS ?? 200_000),
    repeat: Number(process.env.BENCH_CPU_REPEAT ?? 2),
    // BENCH_CPU_BUILDS="before=/path/to/other/checkout,after=." compares checkouts run for run.
    builds: process.env.BENCH_CPU_BUILDS
      ? process.env.BENCH_CPU_BUILDS.split(',').map((pair) => {
          const [label, dir] = pair.split('=');
          return { label, bin: path.join(path.resolve(dir), 'bin', 'eventstream-tui') };
        })
      : undefined,
  });
  process.stdout.write(
    `${['| measure | figure | note |', '| --- | --- | --- |', ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n')}\n`,
  );
  if (process.env.BENCH_CPU_JSON) writeFileSync(process.env.BENCH_CPU_JSON, `${JSON.stringify(figures, null, 2)}\n`);
}
