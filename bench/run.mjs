#!/usr/bin/env node
/**
 * `npm run bench`: throughput and latency of the pipeline, side by side with
 * the references measured in the same run (kcat, a do-nothing kafkajs
 * consumer, redis-benchmark). Prints a markdown table, writes
 * bench/results/latest.json. Not part of `npm test`.
 *
 * BENCH_EVENTS (default 200000), BENCH_SOAK_MINUTES (default 10; 0 skips the soak). The CPU per event
 * of each process, for the sample users and for every channel on, comes from bench/cpu-per-event.mjs
 * (`node bench/cpu-per-event.mjs` runs that part alone).
 * `--only first-frame`: only the dashboard's launch-to-first-frame time.
 */
import { execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { clearInterval, setInterval } from 'node:timers';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { resolveConfig } = await import(path.join(root, 'dist/config/config.js'));
const { stackPaths } = await import(path.join(root, 'dist/stack/paths.js'));
const { stackUp, stackDown } = await import(path.join(root, 'dist/stack/stack.js'));
const { createKafka } = await import(path.join(root, 'dist/adapters/kafka/client.js'));
const { createLogger } = await import(path.join(root, 'dist/log/logger.js'));
const { Redis } = await import('ioredis');
const { cpuPerEvent } = await import('./cpu-per-event.mjs');

const N = Number(process.env.BENCH_EVENTS ?? 200_000);
const SOAK_MINUTES = Number(process.env.BENCH_SOAK_MINUTES ?? 10);
// `node bench/run.mjs --only first-frame`: that one measurement (after `npm run build`).
const ONLY = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : undefined;
const config = resolveConfig({});
const brokers = config.brokers.join(',');
const bin = path.join(root, 'bin', 'eventstream-tui');
const tmp = path.join(os.tmpdir(), `etui-bench-${process.pid}`);
mkdirSync(tmp, { recursive: true });
const results = {
  date: new Date().toISOString(),
  machine: `${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB`,
  events: N,
  figures: {},
};
const log = (line) => process.stderr.write(`[bench] ${line}\n`);
const seconds = (ms) => ms / 1000;
const rate = (count, ms) => Math.round(count / seconds(ms));

function percentile(sorted, p) {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/** Calls `onLine` with each JSON line a child prints on `stream`. */
function onJsonLines(stream, onLine) {
  let buffer = '';
  stream.setEncoding('utf8').on('data', (chunk) => {
    buffer += chunk;
    let nl;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      if (line) onLine(JSON.parse(line));
    }
  });
}

function cli(args, { env = {}, onLine, onSpawn, timeoutMs = 600_000 } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], {
      env: { ...process.env, CI: 'true', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    onSpawn?.(child);
    if (onLine) onJsonLines(child.stdout, onLine);
    child.stderr.setEncoding('utf8').on('data', (c) => (stderr = (stderr + c).slice(-4000)));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(child);
      else reject(new Error(`eventstream-tui ${args[0]} exited ${code}: ${stderr}`));
    });
  });
}

function spawnCli(args, env = {}) {
  // the executable itself, as a user runs it (its shebang carries the heap flags)
  return spawn(bin, args, {
    env: { ...process.env, CI: 'true', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

function rssMb(pid) {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmRSS:'));
  return Math.round(Number(line.split(/\s+/)[1]) / 1024);
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function createTopic(topic, partitions) {
  const admin = createKafka({ brokers: config.brokers, logger: createLogger({ kind: 'silent' }) }).admin();
  await admin.connect();
  await admin.createTopics({
    topics: [
      { topic, numPartitions: partitions },
      { topic: `${topic}.dlq`, numPartitions: partitions },
    ],
    waitForLeaders: true,
  });
  await admin.disconnect();
}

/** N events for the 24 sample users, one `key\tvalue` line each, for kcat -l -K'\t'. */
function eventsFile(count) {
  const file = path.join(tmp, `events-${count}.txt`);
  const types = ['user_signup', 'item_purchased', 'password_reset'];
  const lines = [];
  for (let i = 0; i < count; i++) {
    const userId = `user-${String((i % 24) + 1).padStart(2, '0')}`;
    const e = {
      id: randomUUID(),
      type: types[i % 3],
      userId,
      occurredAt: new Date().toISOString(),
      payload: { plan: 'pro', item: 'e-reader', amount: 99.5, code: '123456' },
    };
    lines.push(`${userId}\t${JSON.stringify(e)}`);
  }
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

function kcatProduce(topic, file) {
  const started = Date.now();
  execFileSync(
    'kcat',
    ['-P', '-b', brokers, '-t', topic, '-K', '\t', '-l', file, '-X', 'linger.ms=5', '-X', 'batch.num.messages=10000'],
    { stdio: 'ignore' },
  );
  return Date.now() - started;
}

function kcatConsume(topic, count) {
  const started = Date.now();
  execFileSync(
    'kcat',
    ['-C', '-b', brokers, '-t', topic, '-o', 'beginning', '-e', '-q', '-c', String(count), '-f', '%o\n'],
    { stdio: ['ignore', 'ignore', 'ignore'], maxBuffer: 1 << 30 },
  );
  return Date.now() - started;
}

async function kafkajsConsume(topic, count) {
  const kafka = createKafka({ brokers: config.brokers, logger: createLogger({ kind: 'silent' }) });
  const consumer = kafka.consumer({ groupId: `bench-noop-${randomUUID()}`, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let seen = 0;
  let first = 0;
  const done = new Promise((resolve) => {
    void consumer.run({
      eachBatch: async ({ batch }) => {
        if (!first) first = Date.now();
        seen += batch.messages.length;
        if (seen >= count) resolve(undefined);
      },
    });
  });
  const started = Date.now();
  await done;
  const ms = Date.now() - started;
  const steady = Date.now() - first;
  await consumer.disconnect();
  return { ms, steady };
}

function redisBenchmark(pipeline) {
  const out = execFileSync(
    'redis-benchmark',
    ['-t', 'get', '-n', '200000', '-c', '50', '-P', String(pipeline), '-q', '--csv'],
    { encoding: 'utf8' },
  );
  const line = out
    .trim()
    .split('\n')
    .find((l) => l.startsWith('"GET"'));
  return Math.round(Number(line.split(',')[1].replace(/"/g, '')));
}

/** Commands the Redis server has processed and the CPU it has used (user + system, s): one INFO. */
async function redisCounters() {
  const r = new Redis(config.redisUrl);
  const info = await r.info();
  r.disconnect();
  const field = (name) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)[1]);
  return {
    commands: field('total_commands_processed'),
    cpuSeconds: field('used_cpu_user') + field('used_cpu_sys'),
  };
}

/** The local broker's pid (the JVM running kafka.Kafka), if one runs on this machine. */
function brokerPid() {
  try {
    return Number(execFileSync('pgrep', ['-f', 'kafka\\.Kafka'], { encoding: 'utf8' }).trim().split('\n')[0]) || null;
  } catch {
    return null;
  }
}

/** The pipeline draining `count` pre-produced events, with `processes` consumers in one group. */
async function pipelineDrain(topic, count, processes = 1) {
  const group = `bench-${randomUUID()}`;
  const redisBefore = await redisCounters();
  const broker = brokerPid();
  const brokerBefore = broker ? cpuTicks(broker) : 0;
  const started = Date.now();
  let firstAt = 0;
  // The consumers' CPU, read from /proc every 100 ms while they run (a process's entry goes with it).
  const ticks = new Map();
  const sampler = setInterval(() => {
    for (const pid of ticks.keys()) {
      try {
        ticks.set(pid, cpuTicks(pid));
      } catch {
        // exited since the last read
      }
    }
  }, 100);
  const runs = Array.from({ length: processes }, () =>
    cli(['consume', '--drain', '--topic', topic, '--group', group, '--output', 'stats'], {
      onSpawn: (child) => ticks.set(child.pid, 0),
      onLine: (l) => {
        if (l.consumed > 0 && !firstAt) firstAt = Date.now();
      },
    }),
  );
  await Promise.all(runs);
  clearInterval(sampler);
  const ms = Date.now() - started;
  const redisAfter = await redisCounters();
  const commands = redisAfter.commands - redisBefore.commands;
  const redisCpu = redisAfter.cpuSeconds - redisBefore.cpuSeconds;
  const nodeCpu = [...ticks.values()].reduce((a, b) => a + b, 0) / 100;
  const brokerCpu = broker ? (cpuTicks(broker) - brokerBefore) / 100 : null;
  return { ms, steady: Date.now() - (firstAt || started), commands, redisCpu, nodeCpu, brokerCpu };
}

async function latencyAt(ratePerSecond, durationMs) {
  const topic = `bench-latency-${randomUUID().slice(0, 8)}`;
  const latencies = [];
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
      if (Date.now() - warm > 3000) latencies.push(o.latencyMs);
    }
  });
  await sleep(durationMs + 3000);
  child.kill('SIGTERM');
  await new Promise((r) => child.on('exit', r));
  latencies.sort((a, b) => a - b);
  return {
    p50: percentile(latencies, 50),
    p95: percentile(latencies, 95),
    p99: percentile(latencies, 99),
    samples: latencies.length,
  };
}

/** Busy share of the whole machine over `ms` (from /proc/stat). */
async function machineBusy(ms) {
  const read = () => {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const idle = f[3] + f[4];
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
async function quiet() {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) if ((await machineBusy(1000)) < 0.15) return;
  log('the machine did not quiet down within 30 s; measuring anyway');
}

/** CPU (share of one core) and RSS of a process over a window. */
async function sample(pid, windowMs) {
  const t0 = Date.now();
  const c0 = cpuTicks(pid);
  await sleep(windowMs);
  const c1 = cpuTicks(pid);
  return { cpu: Math.round(((c1 - c0) / 100 / seconds(Date.now() - t0)) * 100), rss: rssMb(pid) };
}
function cpuTicks(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

function nodePidIn(tmuxSession) {
  const shellPid = execFileSync('tmux', ['display-message', '-p', '-t', tmuxSession, '#{pane_pid}'], {
    encoding: 'utf8',
  }).trim();
  const all = execFileSync('ps', ['-eo', 'pid=,ppid=,comm='], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .map((l) => l.trim().split(/\s+/));
  const children = (p) => all.filter(([, ppid]) => ppid === p);
  const stack = [shellPid];
  while (stack.length) {
    const p = stack.pop();
    for (const [pid, , comm] of children(p)) {
      if (comm === 'node') return Number(pid);
      stack.push(pid);
    }
  }
  throw new Error('no node process in the tmux session');
}

async function dashboardCost(ratePerSecond, windowMs) {
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
  await sleep(8000);
  const h = await sample(headless.pid, windowMs);
  headless.kill('SIGTERM');
  await new Promise((r) => headless.on('exit', r));

  const session = `etui-bench-${process.pid}`;
  execFileSync('tmux', [
    'new-session',
    '-d',
    '-x',
    '120',
    '-y',
    '40',
    '-s',
    session,
    `env -u CI ${bin} --rate ${ratePerSecond} --topic bench-dash-${randomUUID().slice(0, 8)} --group bench-${randomUUID()} --log-file ${path.join(tmp, 'dash.log')}; sleep 5`,
  ]);
  await sleep(8000);
  const pid = nodePidIn(session);
  const d = await sample(pid, windowMs);
  const soak = {};
  if (SOAK_MINUTES > 0) {
    // RSS rises and falls with each garbage collection (±15 MB here): each reading is the median of
    // one sample a second over the 30 s that end at minute 1 and at minute N.
    const start = Date.now() - 16_000;
    const medianRss = async () => {
      const samples = [];
      for (let i = 0; i < 30; i++) {
        samples.push(rssMb(pid));
        await sleep(1000);
      }
      samples.sort((a, b) => a - b);
      return samples[15];
    };
    await sleep(Math.max(0, 30_000 - (Date.now() - start)));
    soak.minute1 = await medianRss();
    await sleep(Math.max(0, SOAK_MINUTES * 60_000 - 30_000 - (Date.now() - start)));
    soak[`minute${SOAK_MINUTES}`] = await medianRss();
  }
  execFileSync('tmux', ['send-keys', '-t', session, 'q']);
  await sleep(3000);
  execFileSync('tmux', ['kill-session', '-t', session], { stdio: 'ignore' });
  return { headless: h, dashboard: d, soak };
}

/**
 * Launch to first frame: the dashboard started in tmux (120×40) as a person would, timed until the screen
 * shows its first frame (the status bar and the panels, services still connecting). The first launch is
 * cold (file cache, JIT): the figure is the median of the warm ones after it.
 */
async function firstFrame(runs = 6) {
  const times = [];
  const cpus = [];
  for (let i = 0; i < runs; i++) {
    const session = `etui-bench-ff-${process.pid}-${i}`;
    const started = performance.now();
    execFileSync('tmux', [
      'new-session',
      '-d',
      '-x',
      '120',
      '-y',
      '40',
      '-s',
      session,
      `env -u CI ${process.execPath} ${bin} --rate 0 --topic bench-ff-${randomUUID().slice(0, 8)} --group bench-${randomUUID()} --log-file ${path.join(tmp, 'first-frame.log')}; sleep 30`,
    ]);
    let elapsed;
    let cpu;
    while (elapsed === undefined && performance.now() - started < 20_000) {
      const screen = execFileSync('tmux', ['capture-pane', '-p', '-t', session], { encoding: 'utf8' });
      if (/eventstream-tui +(EMBEDDED +)?Kafka/.test(screen) && /Event stream|Starting the local stack/.test(screen)) {
        elapsed = performance.now() - started;
        // its CPU time so far: what the first frame costs, however busy the machine is
        cpu = cpuTicks(nodePidIn(session)) * 10;
      } else await sleep(5);
    }
    execFileSync('tmux', ['send-keys', '-t', session, 'q']);
    await sleep(3000);
    execFileSync('tmux', ['kill-session', '-t', session], { stdio: 'ignore' });
    if (elapsed === undefined) throw new Error('the dashboard showed no frame within 20 s');
    times.push(Math.round(elapsed));
    cpus.push(cpu);
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  return {
    cold: times[0],
    warmMedian: median(times.slice(1)),
    warm: times.slice(1),
    cpuWarmMedian: median(cpus.slice(1)),
  };
}

function firstFrameRow(ff) {
  return [
    'dashboard: launch to first frame (tmux 120×40)',
    `${ff.warmMedian} ms warm (median of ${ff.warm.length}), ${ff.cold} ms cold`,
    `target ≤ 1,000 ms warm; the dashboard's CPU time until then: ${ff.cpuWarmMedian} ms (wall time grows with the machine's load)`,
  ];
}

/**
 * What one event costs in CPU across the consumer, Redis and the broker while draining, and the rate
 * the machine's cores could give at that cost (the ceiling no parallelism can pass).
 */
function cpuPerEventRow(f, count, cores) {
  const us = (seconds) => Math.round((seconds * 1e6) / count);
  const total = f.pipelineNodeCpuSeconds + f.pipelineRedisCpuSeconds + (f.pipelineBrokerCpuSeconds ?? 0);
  const parts = [`consumer ${us(f.pipelineNodeCpuSeconds)}`, `Redis ${us(f.pipelineRedisCpuSeconds)}`];
  if (f.pipelineBrokerCpuSeconds !== null) parts.push(`broker ${us(f.pipelineBrokerCpuSeconds)}`);
  return [
    'CPU per event while draining',
    `${us(total)} µs (${parts.join(', ')})`,
    `${cores} cores at that cost: at most ${Math.round((cores * count) / total).toLocaleString()} events/s; 50,000/s needs ≤ ${Math.round((cores * 1e6) / 50_000)} µs`,
  ];
}

async function main() {
  const paths = stackPaths();
  const up = await stackUp({ config, paths });
  const started = up.filter((o) => o.action === 'started').map((o) => o.service);
  try {
    if (ONLY === 'first-frame') {
      log('dashboard: launch to first frame');
      const ff = await firstFrame();
      process.stdout.write(
        `\n| measure | figure | note |\n| --- | --- | --- |\n| ${firstFrameRow(ff).join(' | ')} |\n`,
      );
      return;
    }
    await cli(['seed']);
    const file = eventsFile(N);
    const topic = `bench-${randomUUID().slice(0, 8)}`;
    await createTopic(topic, 3);

    log(`kcat producing ${N} events`);
    const kcatP = kcatProduce(topic, file);
    log('kcat consuming them');
    const kcatC = kcatConsume(topic, N);
    log('kafkajs consuming them, doing nothing');
    const kjs = await kafkajsConsume(topic, N);
    log('redis-benchmark GET');
    const rb1 = redisBenchmark(1);
    const rb16 = redisBenchmark(16);
    await quiet();
    log(`the pipeline draining ${N} events`);
    const pipe = await pipelineDrain(topic, N, 1);
    await quiet();
    log('latency at 1,000 events/s');
    const lat = await latencyAt(1000, 15_000);

    // CPU per event per process, the sample users and every channel on (bench/cpu-per-event.mjs).
    await quiet();
    log('CPU per event per process: the sample users, then every channel on');
    const perEvent = await cpuPerEvent({ count: N, repeat: 2 });

    log('scale-out on 6 partitions');
    // Each run drains events of its own (new ids): events seen before would meet the dedupe ledger and
    // be settled as duplicates without a send.
    const scaleN = Math.min(N, 120_000);
    const scale = {};
    for (const k of [1, 2, 3]) {
      const scaleTopic = `bench-scale-${randomUUID().slice(0, 8)}`;
      await createTopic(scaleTopic, 6);
      kcatProduce(scaleTopic, eventsFile(scaleN));
      await quiet();
      scale[k] = rate(scaleN, (await pipelineDrain(scaleTopic, scaleN, k)).ms);
    }

    log('dashboard: launch to first frame');
    await quiet();
    const ff = await firstFrame();

    log(`dashboard cost at 5,000 events/s${SOAK_MINUTES > 0 ? ` and a ${SOAK_MINUTES}-minute soak` : ''}`);
    await quiet();
    const cost = await dashboardCost(5000, 20_000);

    const f = {
      kcatProduce: rate(N, kcatP),
      kcatConsume: rate(N, kcatC),
      kafkajsConsume: rate(N, kjs.ms),
      redisGet: rb1,
      redisGetPipelined16: rb16,
      pipelineWall: rate(N, pipe.ms),
      pipelineSteady: rate(N, pipe.steady),
      pipelineRedisCommandsPerSecond: rate(pipe.commands, pipe.steady),
      pipelineRedisCpuSeconds: Math.round(pipe.redisCpu * 100) / 100,
      pipelineNodeCpuSeconds: Math.round(pipe.nodeCpu * 100) / 100,
      pipelineBrokerCpuSeconds: pipe.brokerCpu === null ? null : Math.round(pipe.brokerCpu * 100) / 100,
      latency1000: lat,
      scaleOut: scale,
      dashboard: cost,
      dashboardFirstFrame: ff,
      cpuPerEvent: perEvent.figures,
    };
    results.figures = f;
    const rows = [
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
        `target p99 ≤ 50 ms (${lat.samples} samples)`,
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
    rows.push(...perEvent.rows);
    if (cost.soak.minute1) {
      const last = cost.soak[`minute${SOAK_MINUTES}`];
      rows.push([
        'dashboard RSS, minute 1 → ' + SOAK_MINUTES + ' (median of the 30 s before each)',
        `${cost.soak.minute1} MB → ${last} MB`,
        `${Math.round(((last - cost.soak.minute1) / cost.soak.minute1) * 100)}% growth; target < 10%`,
      ]);
    }
    const table = [
      '| measure | figure | note |',
      '| --- | --- | --- |',
      ...rows.map((r) => `| ${r.join(' | ')} |`),
    ].join('\n');
    process.stdout.write(`\n${table}\n`);
    writeFileSync(path.join(root, 'bench', 'results', 'latest.json'), `${JSON.stringify(results, null, 2)}\n`);
  } finally {
    if (started.length > 0) await stackDown({ paths }, started);
    rmSync(tmp, { recursive: true, force: true });
  }
}

await main();
