/**
 * `npm run bench`: throughput and latency of the pipeline, side by side with
 * the references measured in the same run (kcat, a do-nothing kafkajs
 * consumer, redis-benchmark). Prints a markdown table, writes
 * bench/results/latest.json. Not part of `npm test`.
 *
 * BENCH_EVENTS (default 200000), BENCH_SOAK_MINUTES (default 10; 0 skips the soak). The CPU per event
 * of each process, for the sample users and for every channel on, comes from bench/cpu-per-event.ts
 * (`npm run bench:cpu` runs that part alone).
 * `npm run bench -- --only first-frame`: only the dashboard's launch-to-first-frame time.
 * `npm run bench -- --only users`: only the users at scale (bench/users-at-scale.ts; BENCH_USERS).
 * `npm run bench -- --only due`: only 10,000 deferred sends due at once beside live events (bench/due-sends.ts).
 * `npm run bench -- --only transports`: only the real transports against local servers (bench/transports.ts).
 * `npm run bench -- --only cluster`: only one broker against a local cluster of three (bench/cluster.ts).
 */
import { execFileSync, spawn, type ChildProcessByStdio } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Readable } from 'node:stream';
import { Redis } from 'ioredis';
import { resolveConfig, stackDown, stackPaths, stackUp } from '../src/index.js';
import { clusterBench } from './cluster.js';
import { cpuPerEvent, infoField } from './cpu-per-event.js';
import { dueSends } from './due-sends.js';
import { transportsBench } from './transports.js';
import { usersAtScale } from './users-at-scale.js';
import {
  bin,
  commandPid,
  cpuTicks,
  createTopic,
  dashboardInTmux,
  eventsFile,
  kafkajsDoingNothing,
  kcatProduce,
  log,
  markdownTable,
  onJsonLines,
  root,
  rssMb,
  sample,
  sleep,
  TICK,
  type Row,
} from './common.js';

const N = Number(process.env.BENCH_EVENTS ?? 200_000);
const SOAK_MINUTES = Number(process.env.BENCH_SOAK_MINUTES ?? 10);
// `npm run bench -- --only first-frame`: that one measurement.
const ONLY = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : undefined;
const config = resolveConfig({});
const brokers = config.brokers;
const tmp = path.join(os.tmpdir(), `etui-bench-${process.pid}`);
mkdirSync(tmp, { recursive: true });
const startedAt = new Date().toISOString();
const seconds = (ms: number): number => ms / 1000;
const rate = (count: number, ms: number): number => Math.round(count / seconds(ms));

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

type Child = ChildProcessByStdio<null, Readable, Readable>;

/** The CLI run to its end (through node); rejects unless it exits 0. */
function cli(
  args: string[],
  {
    onLine,
    onSpawn,
    timeoutMs = 600_000,
  }: {
    onLine?: (line: Record<string, unknown>) => void;
    onSpawn?: (child: Child) => void;
    timeoutMs?: number;
  } = {},
): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, {
      env: { ...process.env, CI: 'true' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    onSpawn?.(child);
    if (onLine) onJsonLines(child.stdout, onLine);
    else child.stdout.resume();
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr = (stderr + c).slice(-4000)));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`eventstream-tui ${args[0]} exited ${code}: ${stderr}`));
    });
  });
}

/** The executable itself, as a user runs it (its shebang carries the heap flags), left running. */
function spawnCli(args: string[]): Child {
  const child = spawn(bin, args, { env: { ...process.env, CI: 'true' }, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stderr.resume();
  return child;
}

async function stop(child: Child): Promise<void> {
  const exited = new Promise((r) => child.on('exit', r));
  child.kill('SIGTERM');
  await exited;
}

function kcatConsume(topic: string, count: number): number {
  const started = Date.now();
  execFileSync(
    'kcat',
    ['-C', '-b', brokers.join(','), '-t', topic, '-o', 'beginning', '-e', '-q', '-c', String(count), '-f', '%o\n'],
    { stdio: ['ignore', 'ignore', 'ignore'], maxBuffer: 1 << 30 },
  );
  return Date.now() - started;
}

/** redis-benchmark GET against the configured Redis (`REDIS_URL`, default 127.0.0.1:6379). */
function redisBenchmark(pipeline: number): number {
  const { hostname, port } = new URL(config.redisUrl);
  const out = execFileSync(
    'redis-benchmark',
    [
      '-h',
      hostname,
      '-p',
      port || '6379',
      '-t',
      'get',
      '-n',
      '200000',
      '-c',
      '50',
      '-P',
      String(pipeline),
      '-q',
      '--csv',
    ],
    { encoding: 'utf8' },
  );
  const line = out
    .trim()
    .split('\n')
    .find((l) => l.startsWith('"GET"'));
  if (!line) throw new Error(`no GET line from redis-benchmark: ${out}`);
  return Math.round(Number((line.split(',')[1] ?? '').replace(/"/g, '')));
}

/** Commands the Redis server has processed and the CPU it has used (user + system, s): one INFO. */
async function redisCounters(): Promise<{ commands: number; cpuSeconds: number }> {
  const r = new Redis(config.redisUrl);
  const info = await r.info();
  r.disconnect();
  return {
    commands: infoField(info, 'total_commands_processed'),
    cpuSeconds: infoField(info, 'used_cpu_user') + infoField(info, 'used_cpu_sys'),
  };
}

/** The local broker's pid (the JVM running kafka.Kafka), if one runs on this machine. */
function brokerPid(): number | null {
  try {
    return Number(execFileSync('pgrep', ['-f', 'kafka\\.Kafka'], { encoding: 'utf8' }).trim().split('\n')[0]) || null;
  } catch {
    return null;
  }
}

/** The pipeline draining `count` pre-produced events, with `processes` consumers in one group. */
async function pipelineDrain(topic: string, count: number, processes = 1) {
  const group = `bench-${randomUUID()}`;
  const redisBefore = await redisCounters();
  const broker = brokerPid();
  const brokerBefore = broker ? cpuTicks(broker) : 0;
  const started = Date.now();
  let firstAt = 0;
  // The consumers' CPU, read from /proc every 100 ms while they run (a process's entry goes with it).
  // Each consumer is the node the executable re-runs (src/cli/exec.ts): its pid, once found, is kept.
  const ticks = new Map<number, number>();
  const command = new Map<number, number>();
  const sampler = setInterval(() => {
    for (const pid of ticks.keys()) {
      try {
        if (!command.has(pid) && commandPid(pid) !== pid) command.set(pid, commandPid(pid));
        ticks.set(pid, cpuTicks(command.get(pid) ?? pid));
      } catch {
        // exited since the last read
      }
    }
  }, 100);
  const runs = Array.from({ length: processes }, () =>
    cli(['consume', '--drain', '--topic', topic, '--group', group, '--output', 'stats'], {
      onSpawn: (child) => {
        if (child.pid !== undefined) ticks.set(child.pid, 0);
      },
      onLine: (l) => {
        if (Number(l.consumed) > 0 && !firstAt) firstAt = Date.now();
      },
    }),
  );
  await Promise.all(runs);
  clearInterval(sampler);
  const ms = Date.now() - started;
  const redisAfter = await redisCounters();
  const commands = redisAfter.commands - redisBefore.commands;
  const redisCpu = redisAfter.cpuSeconds - redisBefore.cpuSeconds;
  const nodeCpu = [...ticks.values()].reduce((a, b) => a + b, 0) / TICK;
  const brokerCpu = broker ? (cpuTicks(broker) - brokerBefore) / TICK : null;
  return { ms, steady: Date.now() - (firstAt || started), commands, redisCpu, nodeCpu, brokerCpu };
}

async function latencyAt(ratePerSecond: number, durationMs: number) {
  const topic = `bench-latency-${randomUUID().slice(0, 8)}`;
  const latencies: number[] = [];
  const child = spawnCli([
    'run',
    '--headless',
    '--rate',
    String(ratePerSecond),
    '--topic',
    topic,
    '--group',
    `bench-${randomUUID()}`,
    '--output',
    'lines',
  ]);
  let warm = 0;
  onJsonLines(child.stdout, (o) => {
    if (o.kind === 'delivery' && o.status === 'sent') {
      if (!warm) warm = Date.now();
      if (Date.now() - warm > 3000) latencies.push(Number(o.latencyMs));
    }
  });
  await sleep(durationMs + 3000);
  await stop(child);
  latencies.sort((a, b) => a - b);
  return {
    p50: percentile(latencies, 50),
    p95: percentile(latencies, 95),
    p99: percentile(latencies, 99),
    samples: latencies.length,
  };
}

/** Busy share of the whole machine over `ms` (from /proc/stat). */
async function machineBusy(ms: number): Promise<number> {
  const read = () => {
    const f = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/).slice(1).map(Number);
    const idle = (f[3] ?? 0) + (f[4] ?? 0);
    return { idle, total: f.reduce((a, b) => a + b, 0) };
  };
  const a = read();
  await sleep(ms);
  const b = read();
  return 1 - (b.idle - a.idle) / Math.max(1, b.total - a.total);
}

/**
 * Waits (up to 30 s) until the machine is quiet: a measurement must not start while the broker or Redis
 * still works off the one before (a latency run right after a drain once read p99 51 ms, 27 ms alone).
 */
async function quiet(): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) if ((await machineBusy(1000)) < 0.15) return;
  log('the machine did not quiet down within 30 s; measuring anyway');
}

/** The dashboard's resident memory at minute 1 and minute SOAK_MINUTES of its run (`startedAt`). */
async function soak(pid: number, startedAt: number): Promise<Record<string, number>> {
  // RSS rises and falls with each garbage collection (±15 MB here): each reading is the median of
  // one sample a second over the 30 s that end at minute 1 and at minute N.
  const medianRss = async () => {
    const samples = [];
    for (let i = 0; i < 30; i++) {
      samples.push(rssMb(pid));
      await sleep(1000);
    }
    samples.sort((a, b) => a - b);
    return samples[15]!;
  };
  const readings: Record<string, number> = {};
  await sleep(Math.max(0, 30_000 - (Date.now() - startedAt)));
  readings.minute1 = await medianRss();
  await sleep(Math.max(0, SOAK_MINUTES * 60_000 - 30_000 - (Date.now() - startedAt)));
  readings[`minute${SOAK_MINUTES}`] = await medianRss();
  return readings;
}

/**
 * CPU and memory at `ratePerSecond`: headless, then the dashboard (each started, given 8 s, then sampled
 * over `windowMs`), and the dashboard's soak when BENCH_SOAK_MINUTES > 0.
 */
async function dashboardCost(ratePerSecond: number, windowMs: number) {
  const headless = spawnCli([
    'run',
    '--headless',
    '--rate',
    String(ratePerSecond),
    '--topic',
    `bench-cost-${randomUUID().slice(0, 8)}`,
    '--group',
    `bench-${randomUUID()}`,
    '--output',
    'none',
  ]);
  headless.stdout.resume();
  await sleep(8000);
  if (headless.pid === undefined) throw new Error('the headless run did not start');
  const h = await sample(headless.pid, windowMs);
  await stop(headless);

  const dashboard = dashboardInTmux({
    session: `etui-bench-${process.pid}`,
    command: bin,
    rate: ratePerSecond,
    topicPrefix: 'bench-dash',
    logFile: path.join(tmp, 'dash.log'),
    lingerS: 5,
  });
  await sleep(8000);
  const pid = dashboard.pid();
  const d = await sample(pid, windowMs);
  const readings = SOAK_MINUTES > 0 ? await soak(pid, Date.now() - 16_000) : {};
  await dashboard.quit();
  return { headless: h, dashboard: d, soak: readings };
}

/**
 * Launch to first frame: the dashboard started in tmux (120×40) as a person would, timed until the screen
 * shows its first frame (the status bar and the panels, services still connecting). The first launch is
 * cold (file cache, JIT): the figure is the median of the warm ones after it.
 */
async function firstFrame(runs = 6) {
  const times: number[] = [];
  const cpus: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    const dashboard = dashboardInTmux({
      session: `etui-bench-ff-${process.pid}-${i}`,
      command: bin,
      rate: 0,
      topicPrefix: 'bench-ff',
      logFile: path.join(tmp, 'first-frame.log'),
      lingerS: 30,
    });
    let elapsed: number | undefined;
    let cpu = 0;
    while (elapsed === undefined && performance.now() - started < 20_000) {
      const screen = dashboard.screen();
      if (/eventstream-tui +(EMBEDDED +)?Kafka/.test(screen) && /Event stream|Starting the local stack/.test(screen)) {
        elapsed = performance.now() - started;
        // its CPU time so far, ms: what the first frame costs, however busy the machine is
        cpu = cpuTicks(dashboard.pid()) * (1000 / TICK);
      } else await sleep(5);
    }
    await dashboard.quit();
    if (elapsed === undefined) throw new Error('the dashboard showed no frame within 20 s');
    times.push(Math.round(elapsed));
    cpus.push(cpu);
  }
  return {
    cold: times[0] ?? 0,
    warmMedian: median(times.slice(1)),
    warm: times.slice(1),
    cpuWarmMedian: median(cpus.slice(1)),
  };
}

function firstFrameRow(ff: Awaited<ReturnType<typeof firstFrame>>): Row {
  return [
    'dashboard: launch to first frame (tmux 120×40)',
    `${ff.warmMedian} ms warm (median of ${ff.warm.length}), ${ff.cold} ms cold`,
    `target ≤ 1,000 ms warm; the dashboard's CPU time until then: ${ff.cpuWarmMedian} ms (wall time grows with the machine's load)`,
  ];
}

interface DrainCpu {
  pipelineNodeCpuSeconds: number;
  pipelineRedisCpuSeconds: number;
  pipelineBrokerCpuSeconds: number | null;
}

/**
 * What one event costs in CPU across the consumer, Redis and the broker while draining, and the rate
 * the machine's cores could give at that cost (the ceiling no parallelism can pass).
 */
function cpuPerEventRow(f: DrainCpu, count: number, cores: number): Row {
  const us = (seconds: number) => Math.round((seconds * 1e6) / count);
  const total = f.pipelineNodeCpuSeconds + f.pipelineRedisCpuSeconds + (f.pipelineBrokerCpuSeconds ?? 0);
  const parts = [`consumer ${us(f.pipelineNodeCpuSeconds)}`, `Redis ${us(f.pipelineRedisCpuSeconds)}`];
  if (f.pipelineBrokerCpuSeconds !== null) parts.push(`broker ${us(f.pipelineBrokerCpuSeconds)}`);
  return [
    'CPU per event while draining',
    `${us(total)} µs (${parts.join(', ')})`,
    `${cores} cores at that cost: at most ${Math.round((cores * count) / total).toLocaleString()} events/s; 50,000/s needs ≤ ${Math.round((cores * 1e6) / 50_000)} µs`,
  ];
}

const round2 = (x: number): number => Math.round(x * 100) / 100;

async function main(): Promise<void> {
  const paths = stackPaths();
  const up = await stackUp({ config, paths });
  const started = up.filter((o) => o.action === 'started').map((o) => o.service);
  try {
    if (ONLY === 'users') {
      const rows = await usersAtScale();
      process.stdout.write(`\n${markdownTable(rows)}\n`);
      return;
    }
    if (ONLY === 'due') {
      const rows = await dueSends();
      process.stdout.write(`\n${markdownTable(rows)}\n`);
      return;
    }
    if (ONLY === 'transports') {
      const rows = await transportsBench();
      process.stdout.write(`\n${markdownTable(rows)}\n`);
      return;
    }
    if (ONLY === 'cluster') {
      const rows = await clusterBench();
      process.stdout.write(`\n${markdownTable(rows)}\n`);
      return;
    }
    if (ONLY === 'first-frame') {
      log('dashboard: launch to first frame');
      const ff = await firstFrame();
      process.stdout.write(`\n${markdownTable([firstFrameRow(ff)])}\n`);
      return;
    }
    await cli(['seed']);
    const file = eventsFile(tmp, N);
    const topic = `bench-${randomUUID().slice(0, 8)}`;
    await createTopic(brokers, topic, 3);

    log(`kcat producing ${N} events`);
    const kcatP = kcatProduce(brokers, topic, file);
    log('kcat consuming them');
    const kcatC = kcatConsume(topic, N);
    log('kafkajs consuming them, doing nothing');
    const kjs = await kafkajsDoingNothing(brokers, topic, N);
    log('redis-benchmark GET');
    const rb1 = redisBenchmark(1);
    const rb16 = redisBenchmark(16);
    await quiet();
    log(`the pipeline draining ${N} events`);
    const pipe = await pipelineDrain(topic, N, 1);
    await quiet();
    log('latency at 1,000 events/s');
    const lat = await latencyAt(1000, 15_000);

    // CPU per event per process, the sample users and every channel on (bench/cpu-per-event.ts).
    await quiet();
    log('CPU per event per process: the sample users, then every channel on');
    const perEvent = await cpuPerEvent({ count: N, repeat: 2 });

    log('scale-out on 6 partitions');
    // Each run drains events of its own (new ids): events seen before would meet the dedupe ledger and
    // be settled as duplicates without a send.
    const scaleN = Math.min(N, 120_000);
    const scale: Record<1 | 2 | 3, number> = { 1: 0, 2: 0, 3: 0 };
    for (const k of [1, 2, 3] as const) {
      const scaleTopic = `bench-scale-${randomUUID().slice(0, 8)}`;
      await createTopic(brokers, scaleTopic, 6);
      kcatProduce(brokers, scaleTopic, eventsFile(tmp, scaleN));
      await quiet();
      scale[k] = rate(scaleN, (await pipelineDrain(scaleTopic, scaleN, k)).ms);
    }

    log('dashboard: launch to first frame');
    await quiet();
    const ff = await firstFrame();

    log(`dashboard cost at 5,000 events/s${SOAK_MINUTES > 0 ? ` and a ${SOAK_MINUTES}-minute soak` : ''}`);
    await quiet();
    const cost = await dashboardCost(5000, 20_000);

    log('users at scale: a Redis of its own with the sample users, then a million');
    await quiet();
    const usersRows = await usersAtScale();
    log('10,000 deferred sends due at once, beside live events');
    usersRows.push(...(await dueSends()));
    log('one broker against a local cluster of three (replication 3)');
    await quiet();
    usersRows.push(...(await clusterBench()));

    const f = {
      kcatProduce: rate(N, kcatP),
      kcatConsume: rate(N, kcatC),
      kafkajsConsume: rate(N, kjs.ms),
      redisGet: rb1,
      redisGetPipelined16: rb16,
      pipelineWall: rate(N, pipe.ms),
      pipelineSteady: rate(N, pipe.steady),
      pipelineRedisCommandsPerSecond: rate(pipe.commands, pipe.steady),
      pipelineRedisCpuSeconds: round2(pipe.redisCpu),
      pipelineNodeCpuSeconds: round2(pipe.nodeCpu),
      pipelineBrokerCpuSeconds: pipe.brokerCpu === null ? null : round2(pipe.brokerCpu),
      latency1000: lat,
      scaleOut: scale,
      dashboard: cost,
      dashboardFirstFrame: ff,
      cpuPerEvent: perEvent.figures,
    };
    const rows: Row[] = [
      ['kcat produce (reference)', `${f.kcatProduce.toLocaleString()} events/s`, ''],
      ['kcat consume (ceiling)', `${f.kcatConsume.toLocaleString()} events/s`, ''],
      ['kafkajs consume, doing nothing (ceiling)', `${f.kafkajsConsume.toLocaleString()} events/s`, ''],
      [
        'pipeline end to end (wall, incl. group join)',
        `${f.pipelineWall.toLocaleString()} events/s`,
        `${Math.round((f.pipelineWall / f.kafkajsConsume) * 100)}% of kafkajs, ${Math.round((f.pipelineWall / f.kcatConsume) * 100)}% of kcat; target ≥ 50,000 and ≥ 60%`,
      ],
      [
        'pipeline end to end (steady)',
        `${f.pipelineSteady.toLocaleString()} events/s`,
        `${Math.round((f.pipelineSteady / f.kafkajsConsume) * 100)}% of kafkajs`,
      ],
      ['redis-benchmark GET, 50 clients', `${f.redisGet.toLocaleString()} req/s`, ''],
      ['redis-benchmark GET, pipelined 16', `${f.redisGetPipelined16.toLocaleString()} req/s`, ''],
      [
        'Redis look-ups inside the pipeline',
        `${f.pipelineSteady.toLocaleString()} events/s looked up`,
        `each: user + prefs + ledger marks (2 fields), batched per chunk into ${f.pipelineRedisCommandsPerSecond.toLocaleString()} Redis commands/s in all; redis-benchmark GET pipelined: ${f.redisGetPipelined16.toLocaleString()}/s`,
      ],
      [
        'Redis CPU while the pipeline drained',
        `${f.pipelineRedisCpuSeconds} s`,
        `${Math.round((f.pipelineRedisCpuSeconds * 1e6) / N)} µs of Redis CPU per event`,
      ],
      cpuPerEventRow(f, N, os.cpus().length),
      [
        'produce-to-deliver latency at 1,000/s',
        `p50 ${lat.p50} ms, p95 ${lat.p95} ms, p99 ${lat.p99} ms`,
        `target p99 ≤ 20 ms (${lat.samples} samples)`,
      ],
      [
        'scale-out, 6 partitions',
        `1: ${scale[1].toLocaleString()}, 2: ${scale[2].toLocaleString()}, 3: ${scale[3].toLocaleString()} events/s`,
        'consumer processes in one group',
      ],
      firstFrameRow(ff),
      ['headless at 5,000/s', `${cost.headless.cpu}% of a core, ${cost.headless.rss} MB`, ''],
      [
        'dashboard at 5,000/s',
        `${cost.dashboard.cpu}% of a core, ${cost.dashboard.rss} MB`,
        `+${cost.dashboard.cpu - cost.headless.cpu}% of a core; target ≤ +25%`,
      ],
    ];
    rows.push(...perEvent.rows, ...usersRows);
    const minute1 = cost.soak.minute1;
    const last = cost.soak[`minute${SOAK_MINUTES}`];
    if (minute1 !== undefined && last !== undefined) {
      rows.push([
        'dashboard RSS, minute 1 → ' + SOAK_MINUTES + ' (median of the 30 s before each)',
        `${minute1} MB → ${last} MB`,
        `${Math.round(((last - minute1) / minute1) * 100)}% growth; target < 10%`,
      ]);
    }
    process.stdout.write(`\n${markdownTable(rows)}\n`);
    const results = {
      date: startedAt,
      machine: `${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB`,
      events: N,
      figures: f,
    };
    writeFileSync(path.join(root, 'bench', 'results', 'latest.json'), `${JSON.stringify(results, null, 2)}\n`);
  } finally {
    if (started.length > 0) await stackDown({ paths }, started);
    rmSync(tmp, { recursive: true, force: true });
  }
}

await main();
