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
 * `npm run bench:cpu` runs this part alone (BENCH_CPU_EVENTS, default 200000; BENCH_CPU_REPEAT,
 * default 2; BENCH_CPU_BUILDS, BENCH_CPU_JSON; BENCH_CPU_MIXES, the mixes' names joined by semicolons); `npm run bench` runs it as one block of the whole bench.
 */
import { execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { resolveConfig } from '../src/index.js';
import {
  bin,
  createTopic,
  eventsFile,
  freePort,
  kafkajsDoingNothing,
  kcatProduce,
  log,
  markdownTable,
  procCpuSeconds,
  sleep,
  type Row,
} from './common.js';

/** The mix of users with every channel on, and its targets (issue 16). */
const ALL_ON = 'every channel on';
const ALL_ON_TARGET = 'target ≥ 40,000 events/s, ≤ 30 µs in all (consumer ≤ 18, Redis ≤ 8)';
/** The same users with the rules of issue 21 active: per-type choices, zones, quiet windows (not now). */
const ALL_ON_RULES = 'every channel on, rules active';
/** Those rules, and a cap on every channel (never reached: each send is counted) and a digest of the events. */
const ALL_ON_RULES_II = 'every channel on, three types, caps and digests';
/** Those rules with one cap a user (sms, the costly channel, as the sample users have it) and the digest. */
const ALL_ON_RULES_II_ONE = 'every channel on, three types, a cap and a digest';
/** Its reference: the same users and events without caps and digests. */
const ALL_ON_MIXED = 'every channel on, three types';
const RULES_II_NOTE =
  'against every channel on, three types: caps 100000/1d on all four channels (each send counted, none throttled: the worst case, 2.7 capped sends per event) and digest.item_purchased 1h (a third of the events join a digest instead of 4 sends; the digests go out an hour later, not measured)';
const RULES_II_ONE_NOTE =
  'against every channel on, three types: cap.sms 100000/1d (each sms counted, none throttled) and digest.item_purchased 1h; target at most 10% slower';
const RULES_TARGET = 'target: at most 10% slower than every channel on (rules off)';
const ZONES = [
  'America/New_York',
  'Europe/Paris',
  'Asia/Tokyo',
  'Australia/Sydney',
  'America/Sao_Paulo',
  'Asia/Kolkata',
];

/**
 * Rules that change nothing of what is sent (so both mixes send the same): every type × channel set
 * `on` explicitly, a zone each, and quiet windows that start three hours from now in that zone (each
 * send checks them, none falls in them).
 */
function activeRules(i: number): Record<string, string> {
  const zone = ZONES[i % ZONES.length]!;
  const local = new Date(Date.now() + 3 * 3600_000).toLocaleString('en-GB', {
    timeZone: zone,
    hour: '2-digit',
    hour12: false,
  });
  const from = Number(local.slice(-2)) % 24;
  const hh = (h: number): string => String(h % 24).padStart(2, '0');
  const rules: Record<string, string> = {
    tz: zone,
    quiet: `${hh(from)}:00-${hh(from + 2)}:00; sat,sun ${hh(from)}:30-${hh(from + 1)}:30`,
  };
  for (const type of ['user_signup', 'item_purchased', 'password_reset'])
    for (const channel of ['console', 'email', 'sms', 'push']) rules[`${type}.${channel}`] = 'on';
  return rules;
}

export interface PrivateRedis {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/** A redis-server of the bench's own: its CPU and counters are the pipeline's alone. */
export async function privateRedis(): Promise<PrivateRedis> {
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
        throw new Error(`redis-server on port ${port} did not answer: ${(error as Error).message}`);
      }
      await sleep(100);
    }
  }
  if (child.pid === undefined) throw new Error('redis-server did not start');
  return {
    url,
    pid: child.pid,
    stop: async () => {
      child.kill('SIGTERM');
      await new Promise<void>((r) => (child.exitCode !== null ? r() : child.once('exit', () => r())));
    },
  };
}

/** The pid of the process listening on the broker's port (the shared local broker), if any. */
function brokerPid(brokers: string[]): number | null {
  const port = (brokers[0] ?? '').split(':').pop();
  try {
    const out = execFileSync('ss', ['-ltnpH', `sport = :${port}`], { encoding: 'utf8' });
    const m = /pid=(\d+)/.exec(out);
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/** A number of an INFO reply (`name:value` on a line of its own). */
export function infoField(info: string, name: string): number {
  const m = new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info);
  if (!m) throw new Error(`no ${name} in Redis's INFO`);
  return Number(m[1]);
}

async function redisStats(url: string): Promise<{ commands: number; bytesIn: number }> {
  const r = new Redis(url);
  const info = await r.info('stats');
  r.disconnect();
  return { commands: infoField(info, 'total_commands_processed'), bytesIn: infoField(info, 'total_net_input_bytes') };
}

/** Users with every channel on (name, email, phone, push token), `count` of them. */
export async function seedAllOnUsers(
  url: string,
  prefix: string,
  count: number,
  rules: false | 'rules' | 'rules-ii' | 'rules-ii-one' = false,
): Promise<string[]> {
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
    await r.hset(`prefs:${id}`, {
      console: 'on',
      email: 'on',
      sms: 'on',
      push: 'on',
      ...(rules ? activeRules(i) : {}),
      ...(rules === 'rules-ii'
        ? {
            'cap.console': '100000/1d',
            'cap.email': '100000/1d',
            'cap.sms': '100000/1d',
            'cap.push': '100000/1d',
            'digest.item_purchased': '1h',
          }
        : {}),
      ...(rules === 'rules-ii-one' ? { 'cap.sms': '100000/1d', 'digest.item_purchased': '1h' } : {}),
    });
    await r.sadd('users', id);
  }
  r.disconnect();
  return ids;
}

interface Ceiling {
  rate: number;
  cpuUsPerEvent: number;
}

/** A kafkajs consumer doing nothing: the ceiling of any kafkajs-based consumer here, and its CPU. */
async function kafkajsCeiling(brokers: string[], topic: string, count: number): Promise<Ceiling> {
  const { steadyMs, cpuUsPerEvent } = await kafkajsDoingNothing(brokers, topic, count);
  return { rate: Math.round(count / (steadyMs / 1000)), cpuUsPerEvent };
}

interface DrainOptions {
  brokers: string[];
  topic: string;
  redis: PrivateRedis;
  count: number;
  broker: number | null;
  bin?: string;
  startupCpu?: number;
}

/** One measured drain of `count` events: rates, CPU µs per event per process, Redis traffic per event. */
export interface DrainFigures {
  rate: number;
  steadyRate: number;
  cpuUs: { consumer: number; redis: number; broker: number | null; total: number };
  redisCommandsPerEvent: number;
  redisBytesInPerEvent: number;
}

/**
 * `consume --drain` of `count` events, with every process' CPU read before and after. The consumer
 * runs under a shell whose `times` gives its exact CPU once it has exited. With `count` 0 (an empty
 * topic), only the consumer's CPU: its start and stop.
 */
async function measuredDrain(options: DrainOptions & { count: 0 }): Promise<{ consumerCpu: number }>;
async function measuredDrain(options: DrainOptions): Promise<DrainFigures>;
async function measuredDrain({
  brokers,
  topic,
  redis,
  count,
  broker,
  bin: build = bin,
  startupCpu = 0,
}: DrainOptions): Promise<DrainFigures | { consumerCpu: number }> {
  const brokerIdle = broker ? await idleRate(broker) : 0;
  const before = await redisStats(redis.url);
  const redisCpu0 = procCpuSeconds(redis.pid);
  const brokerCpu0 = broker ? procCpuSeconds(broker) : 0;
  const started = Date.now();
  let firstAt = 0;
  let consumedAtFirst = 0;
  const group = `bench-cpu-${randomUUID()}`;
  const script = '"$@"; rc=$?; times >&2; exit $rc';
  const args = ['consume', '--drain', '--topic', topic, '--group', group, '--output', 'stats', '--redis', redis.url];
  const stderr = await new Promise<string>((resolve, reject) => {
    const child = spawn('bash', ['-c', script, 'bash', build, ...args], {
      env: { ...process.env, CI: 'true', KAFKA_BROKERS: brokers.join(',') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => {
      out += c;
      // The first stats line with events consumed: the steady rate counts only what came after it
      // (the line comes once a second, so what was consumed before it is not in the time measured).
      const first = firstAt ? null : /"consumed":([1-9]\d*)/.exec(out);
      if (first) {
        firstAt = Date.now();
        consumedAtFirst = Number(first[1]);
      }
      out = out.slice(-200);
    });
    child.stderr.setEncoding('utf8').on('data', (c: string) => (err = (err + c).slice(-4000)));
    child.on('exit', (code) => (code === 0 ? resolve(err) : reject(new Error(`consume exited ${code}: ${err}`))));
  });
  const ms = Math.max(1, Date.now() - started);
  const redisCpu = procCpuSeconds(redis.pid) - redisCpu0;
  const brokerCpu = broker ? Math.max(0, procCpuSeconds(broker) - brokerCpu0 - brokerIdle * (ms / 1000)) : null;
  const after = await redisStats(redis.url);
  // `times` prints the shell's own line, then its children's: "0m1.234s 0m0.456s".
  const times = stderr.trim().split('\n').slice(-1)[0] ?? '';
  const m = /(\d+)m([\d.]+)s (\d+)m([\d.]+)s/.exec(times);
  if (!m) throw new Error(`no CPU times from the consumer's shell: ${times}`);
  const consumerCpu = Number(m[1]) * 60 + Number(m[2]) + Number(m[3]) * 60 + Number(m[4]) - startupCpu;
  if (count === 0) return { consumerCpu };
  const us = (s: number) => Math.round((s * 1e6 * 10) / count) / 10;
  return {
    rate: Math.round(count / (ms / 1000)),
    steadyRate: Math.round((count - consumedAtFirst) / (Math.max(1, Date.now() - (firstAt || started)) / 1000)),
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
async function idleRate(pid: number): Promise<number> {
  const c0 = procCpuSeconds(pid);
  const t0 = Date.now();
  await sleep(1000);
  return (procCpuSeconds(pid) - c0) / ((Date.now() - t0) / 1000);
}

/** A checkout's executable to measure, with its label in the table ('' for this one alone). */
export interface Build {
  label: string;
  bin: string;
}

export interface CpuFigures {
  load: number[];
  mixes: Record<string, (DrainFigures & { load: number })[]>;
  consumerStartupCpuSeconds: Record<string, number>;
  kafkajsCeiling: Ceiling;
}

/**
 * Both mixes, each drained `repeat` times on topics of their own (new event ids: events seen before
 * would meet the dedupe ledger). Returns the figures and the rows of the bench's table.
 */
export async function cpuPerEvent({
  count = 200_000,
  repeat = 2,
  partitions = 3,
  builds = [{ label: '', bin }],
  mixes: only,
}: { count?: number; repeat?: number; partitions?: number; builds?: Build[]; mixes?: string[] } = {}): Promise<{
  figures: CpuFigures;
  rows: Row[];
}> {
  const config = resolveConfig({});
  const brokers = config.brokers;
  const broker = brokerPid(brokers);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'etui-bench-cpu-'));
  const redis = await privateRedis();
  const cleanups: (() => Promise<void>)[] = [];
  const load = os.loadavg().map((l) => Math.round(l * 100) / 100);
  const mixes: CpuFigures['mixes'] = {};
  try {
    execFileSync(process.execPath, [bin, 'seed', '--redis', redis.url], { stdio: 'ignore' });
    // The consumer's own start and stop (loading the code, joining the group, the drain's last check):
    // an empty topic drained, subtracted from each run so the figure is per event.
    const startup = new Map<Build, number>();
    for (const build of builds) {
      const topic = `bench-cpu-${randomUUID().slice(0, 8)}`;
      cleanups.push(await createTopic(brokers, topic, partitions));
      const runs = [];
      for (let i = 0; i < 2; i++)
        runs.push((await measuredDrain({ brokers, topic, redis, count: 0, broker: null, bin: build.bin })).consumerCpu);
      startup.set(build, Math.min(...runs));
    }
    const consumerStartupCpuSeconds = Object.fromEntries(
      builds.map((b) => [b.label || 'this build', startup.get(b) ?? 0]),
    );
    let ceiling: Ceiling | undefined;
    // Run by run, the mixes side by side: rules on and off meet the same load.
    for (let i = 0; i < repeat; i++) {
      for (const [mix, rules] of [
        ['sample users', undefined],
        [ALL_ON, false],
        [ALL_ON_RULES, 'rules'],
        [ALL_ON_MIXED, 'rules'],
        [ALL_ON_RULES_II, 'rules-ii'],
        [ALL_ON_RULES_II_ONE, 'rules-ii-one'],
      ] as const) {
        if (only && !only.includes(mix)) continue;
        for (const build of builds) {
          // Users of their own for every run: each run starts from the same state (no cap counts, open
          // digests or ledger entries left by the run before, which would make later runs dearer).
          const users =
            rules === undefined
              ? undefined
              : await seedAllOnUsers(redis.url, `bench-${randomUUID().slice(0, 8)}`, 8, rules);
          const name = build.label ? `${mix} (${build.label})` : mix;
          const topic = `bench-cpu-${randomUUID().slice(0, 8)}`;
          cleanups.push(await createTopic(brokers, topic, partitions));
          const mixed = mix === ALL_ON_MIXED || mix === ALL_ON_RULES_II || mix === ALL_ON_RULES_II_ONE;
          kcatProduce(brokers, topic, eventsFile(dir, count, users, mixed));
          if (!ceiling) {
            log('kafkajs consuming, doing nothing (the ceiling)');
            ceiling = await kafkajsCeiling(brokers, topic, count);
          }
          log(`${name}: draining ${count} events (run ${i + 1} of ${repeat}, load ${os.loadavg()[0]!.toFixed(1)})`);
          const run = await measuredDrain({
            brokers,
            topic,
            redis,
            count,
            broker,
            bin: build.bin,
            startupCpu: startup.get(build) ?? 0,
          });
          (mixes[name] ??= []).push({ ...run, load: Math.round(os.loadavg()[0]! * 10) / 10 });
        }
      }
    }
    if (!ceiling) throw new Error('nothing drained: BENCH_CPU_REPEAT must be at least 1');
    const figures: CpuFigures = { load, mixes, consumerStartupCpuSeconds, kafkajsCeiling: ceiling };
    return { figures, rows: rowsOf(figures) };
  } finally {
    for (const c of cleanups) await c();
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

function rowsOf(f: CpuFigures): Row[] {
  const rows: Row[] = [];
  for (const [mix, runs] of Object.entries(f.mixes)) {
    for (const [i, r] of runs.entries()) {
      const c = r.cpuUs;
      rows.push([
        `${mix}, run ${i + 1}`,
        `${r.rate.toLocaleString()} events/s (steady ${r.steadyRate.toLocaleString()})`,
        `load ${r.load}; CPU µs/event: consumer ${c.consumer}, Redis ${c.redis}, broker ${c.broker ?? 'n/a'}, total ${c.total}; Redis ${r.redisCommandsPerEvent} commands, ${r.redisBytesInPerEvent} bytes in per event; ${Math.round((r.steadyRate / f.kafkajsCeiling.rate) * 100)}% of kafkajs doing nothing${mix.startsWith(ALL_ON_RULES_II_ONE) ? `; ${RULES_II_ONE_NOTE}` : mix.startsWith(ALL_ON_RULES_II) ? `; ${RULES_II_NOTE}` : mix.startsWith(ALL_ON_RULES) ? `; ${RULES_TARGET}` : mix.startsWith(ALL_ON) ? `; ${ALL_ON_TARGET}` : ''}`,
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

/** BENCH_CPU_BUILDS="before=/path/to/other/checkout,after=." compares checkouts run for run. */
function buildsOf(value: string): Build[] {
  return value.split(',').map((pair) => {
    const [label = '', dir = '.'] = pair.split('=');
    return { label, bin: path.join(path.resolve(dir), 'bin', 'eventstream-tui') };
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { figures, rows } = await cpuPerEvent({
    count: Number(process.env.BENCH_CPU_EVENTS ?? 200_000),
    repeat: Number(process.env.BENCH_CPU_REPEAT ?? 2),
    ...(process.env.BENCH_CPU_BUILDS ? { builds: buildsOf(process.env.BENCH_CPU_BUILDS) } : {}),
    ...(process.env.BENCH_CPU_MIXES ? { mixes: process.env.BENCH_CPU_MIXES.split(';').map((m) => m.trim()) } : {}),
  });
  process.stdout.write(`${markdownTable(rows)}\n`);
  if (process.env.BENCH_CPU_JSON) writeFileSync(process.env.BENCH_CPU_JSON, `${JSON.stringify(figures, null, 2)}\n`);
}
