/**
 * `--metrics-port` on the real Kafka and Redis: /readyz before and after the member joins, the counts of
 * /metrics against what was produced, `promtool check metrics` on the whole exposition, a real Prometheus
 * scraping it, and /readyz when Redis goes away (docs/operations.md).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCatalog } from '../../src/domain/catalog.js';
import { LETTER_REASONS } from '../../src/pipeline/ports.js';
import { DELIVERY_OUTCOMES } from '../../src/telemetry/metrics.js';
import { freePort, runCli, waitFor } from '../support/cli.js';
import { getText, parseExposition, promtool, total, type Sample } from '../support/metrics.js';
import {
  brokers,
  CliProcess,
  createTopic,
  event,
  newRedis,
  produceEvents,
  produceRaw,
  removeUsers,
  unique,
  writeUsers,
} from '../support/pipeline.js';

const redis = newRedis();
const topic = unique('metrics');
const group = unique('metrics-group');
const users = [unique('metrics-user'), unique('metrics-user')];
const EVENTS = 30;
let port: number;
let consumer: CliProcess;
/** What /readyz answered while the consumer started, in order. */
const readyStatuses: number[] = [];
const started: ChildProcess[] = [];
const dirs: string[] = [];

const url = (p: string, at = port): string => `http://127.0.0.1:${at}${p}`;
const scrape = async (at = port): Promise<Sample[]> => parseExposition((await getText(url('/metrics', at))).text);

/** Stops a process this file started, by its pid, and waits for it. */
async function stopProcess(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  process.kill(child.pid!, signal);
  await exited;
}

beforeAll(async () => {
  await writeUsers(
    redis,
    users.map((id) => ({
      id,
      email: `${id}@example.com`,
      phone: '+15550100',
      pushToken: `ptk_${id}`,
      prefs: { email: 'on', sms: 'on', push: 'on', console: 'off' },
    })),
  );
  await createTopic(topic);
  port = await freePort();
  consumer = CliProcess.consume(topic, group, ['--output', 'none', '--metrics-port', String(port)]);
  // /readyz from the first moment the port answers until the member has joined.
  await waitFor(
    'the consumer to be ready',
    async () => {
      const status = await fetch(url('/readyz'), { signal: AbortSignal.timeout(2_000) }).then(
        (r) => r.status,
        () => undefined,
      );
      if (status !== undefined) readyStatuses.push(status);
      return status === 200;
    },
    30_000,
    25,
  );
});

afterAll(async () => {
  await consumer?.stop();
  for (const child of started) await stopProcess(child, 'SIGKILL');
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  await removeUsers(redis, users);
  redis.disconnect();
});

describe('metrics and health endpoints', () => {
  it('/readyz answers 503 until the member holds its partitions, then 200; /livez and /healthz 200', async () => {
    expect(readyStatuses[0]).toBe(503);
    expect(readyStatuses.at(-1)).toBe(200);
    const ready = JSON.parse((await getText(url('/readyz'))).text) as Record<string, unknown>;
    expect(ready).toMatchObject({ status: 'ready', kafka: { up: true }, redis: { up: true } });
    expect(ready.partitions).toEqual([0, 1, 2]);
    for (const p of ['/livez', '/healthz']) {
      const res = await getText(url(p));
      expect(res.status).toBe(200);
      expect(JSON.parse(res.text)).toMatchObject({ status: 'ok' });
    }
    expect((await getText(url('/nothing'))).status).toBe(404);
  });

  it('exports every label combination at 0 from the start, and promtool check metrics passes', async () => {
    const res = await getText(url('/metrics'));
    expect(res.type).toContain('text/plain; version=0.0.4');
    const samples = parseExposition(res.text);
    const channels = (await loadCatalog()).channels.map((c) => c.name);
    for (const channel of channels)
      for (const outcome of DELIVERY_OUTCOMES)
        expect(
          samples.some(
            (s) =>
              s.name === 'eventstream_deliveries_total' && s.labels.channel === channel && s.labels.outcome === outcome,
          ),
        ).toBe(true);
    for (const reason of LETTER_REASONS)
      expect(samples.some((s) => s.name === 'eventstream_dead_letters_total' && s.labels.reason === reason)).toBe(true);
    expect(total(samples, 'eventstream_up', { service: 'kafka' })).toBe(1);
    expect(total(samples, 'eventstream_up', { service: 'redis' })).toBe(1);
    expect(samples.some((s) => s.name === 'process_cpu_user_seconds_total')).toBe(true);
    const check = await promtool(['check', 'metrics'], res.text);
    expect(check.output).toBe('');
    expect(check.code).toBe(0);
  });

  it('counts what it consumed, delivered and dead-lettered; lag back to 0; no user or event id in a label', async () => {
    const events = Array.from({ length: EVENTS }, (_, i) => event('user_signup', users[i % 2]!, { plan: 'pro' }));
    await produceEvents(topic, events);
    await produceRaw(topic, [{ key: 'broken', value: '{"not json' }]);
    const channels = (await loadCatalog()).channels.map((c) => c.name);
    const samples = await waitFor(
      'the counts to match what was produced',
      async () => {
        const s = await scrape();
        const settled = channels.every((channel) => total(s, 'eventstream_deliveries_total', { channel }) === EVENTS);
        return total(s, 'eventstream_events_consumed_total', { topic }) === EVENTS &&
          settled &&
          total(s, 'eventstream_dead_letters_total', { reason: 'invalid-json' }) === 1
          ? s
          : undefined;
      },
      30_000,
    );
    const sent = total(samples, 'eventstream_deliveries_total', { outcome: 'sent' });
    expect(sent).toBeGreaterThanOrEqual(EVENTS);
    expect(total(samples, 'eventstream_deliveries_total', { channel: 'console', outcome: 'opted-out' })).toBe(EVENTS);
    expect(total(samples, 'eventstream_delivery_latency_seconds_count')).toBe(sent);
    expect(total(samples, 'eventstream_delivery_latency_seconds_bucket', { le: '+Inf' })).toBe(sent);
    expect(total(samples, 'eventstream_dead_letters_total')).toBe(1);
    const text = (await getText(url('/metrics'))).text;
    for (const id of [...users, ...events.map((e) => e.id)]) expect(text).not.toContain(id);
    // The lag, read every 2 s, comes back to 0 on each partition once the offsets are committed.
    await waitFor(
      'the lag of each partition to be 0',
      async () => {
        const lag = (await scrape()).filter((s) => s.name === 'eventstream_consumer_lag' && s.labels.topic === topic);
        return lag.length === 3 && lag.every((s) => s.value === 0);
      },
      20_000,
    );
  });

  it('a real Prometheus scrapes it and answers the series through its HTTP API', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'etui-prometheus-'));
    dirs.push(dir);
    const promPort = await freePort();
    writeFileSync(
      path.join(dir, 'prometheus.yml'),
      [
        'global:',
        '  scrape_interval: 1s',
        'scrape_configs:',
        '  - job_name: eventstream',
        '    static_configs:',
        `      - targets: ['127.0.0.1:${port}']`,
        '',
      ].join('\n'),
    );
    const prometheus = spawn(
      'prometheus',
      [
        `--config.file=${path.join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${path.join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${promPort}`,
        '--log.level=warn',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    started.push(prometheus);
    let log = '';
    prometheus.stderr!.on('data', (c: Buffer) => (log += c.toString()));
    const query = async (q: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> => {
      const res = await fetch(`http://127.0.0.1:${promPort}/api/v1/query?query=${encodeURIComponent(q)}`, {
        signal: AbortSignal.timeout(3_000),
      });
      const body = (await res.json()) as {
        status: string;
        data: { result: { metric: Record<string, string>; value: [number, string] }[] };
      };
      return body.status === 'success' ? body.data.result : [];
    };
    try {
      const consumed = await waitFor(
        'Prometheus to have scraped the consumer',
        async () => {
          const r = await query(`eventstream_events_consumed_total{topic="${topic}"}`);
          return r.length === 1 && Number(r[0]!.value[1]) === EVENTS ? r : undefined;
        },
        30_000,
        250,
      ).catch((error: Error) => {
        throw new Error(`${error.message}\n--- prometheus ---\n${log.slice(-2000)}`);
      });
      expect(consumed[0]!.metric).toMatchObject({ job: 'eventstream', topic });
      const up = await query('up{job="eventstream"}');
      expect(up.map((r) => r.value[1])).toEqual(['1']);
      const byOutcome = await query('sum by (outcome) (eventstream_deliveries_total)');
      expect(new Set(byOutcome.map((r) => r.metric.outcome))).toEqual(new Set(DELIVERY_OUTCOMES));
      const p50 = await query('histogram_quantile(0.5, sum by (le) (eventstream_delivery_latency_seconds_bucket))');
      expect(Number(p50[0]!.value[1])).toBeGreaterThan(0);
    } finally {
      await stopProcess(prometheus);
    }
  });

  it('/readyz answers 503, naming Redis, and eventstream_up{service="redis"} is 0 once its Redis stops', async () => {
    const redisPort = await freePort();
    const dir = mkdtempSync(path.join(os.tmpdir(), 'etui-metrics-redis-'));
    dirs.push(dir);
    const server = spawn(
      'redis-server',
      ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
      {
        stdio: 'ignore',
      },
    );
    started.push(server);
    const otherTopic = unique('metrics-redis');
    await createTopic(otherTopic, 1);
    const otherPort = await freePort();
    const other = new CliProcess([
      'consume',
      '--brokers',
      brokers(),
      '--redis',
      `redis://127.0.0.1:${redisPort}`,
      '--topic',
      otherTopic,
      '--group',
      unique('metrics-redis-group'),
      '--output',
      'none',
      '--metrics-port',
      String(otherPort),
    ]);
    try {
      await waitFor(
        'the second consumer to be ready',
        async () => (await getText(url('/readyz', otherPort))).status === 200,
        30_000,
        100,
      );
      await stopProcess(server);
      // On a loaded machine the Kafka probe can miss its 2.5 s too for a moment: the reason names every
      // cause, so wait for the one that names Redis, and for the gauges to settle.
      const body = await waitFor(
        '/readyz to say 503 naming Redis',
        async () => {
          const res = await getText(url('/readyz', otherPort));
          if (res.status !== 503) return undefined;
          const parsed = JSON.parse(res.text) as { status: string; reason: string };
          return /(^|; )redis: /.test(parsed.reason) ? parsed : undefined;
        },
        15_000,
      );
      expect(body.status).toBe('not ready');
      await waitFor(
        'eventstream_up to say Redis 0 and Kafka 1',
        async () => {
          const text = await scrape(otherPort);
          return (
            total(text, 'eventstream_up', { service: 'redis' }) === 0 &&
            total(text, 'eventstream_up', { service: 'kafka' }) === 1
          );
        },
        15_000,
      );
      // /livez still answers: the process is alive, only not ready.
      expect((await getText(url('/livez', otherPort))).status).toBe(200);
    } finally {
      await other.stop('SIGKILL');
    }
  });

  it.each([
    ['--metrics-port 0', ['--metrics-port', '0'], {}, /--metrics-port "0" is not a port/],
    ['--metrics-port http', ['--metrics-port', 'http'], {}, /--metrics-port "http" is not a port/],
    ['--metrics-host a/b', ['--metrics-port', '9464', '--metrics-host', 'a/b'], {}, /--metrics-host "a\/b"/],
    ['METRICS_PORT=70000', [], { METRICS_PORT: '70000' }, /METRICS_PORT "70000" is not a port/],
  ])('%s is a usage error: exit 2 and the help, before anything connects', async (_, flags, env, message) => {
    const result = await runCli(['consume', '--brokers', '127.0.0.1:1', ...flags], { ...process.env, ...env }, 20_000);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).toContain('Usage: eventstream-tui consume');
  });

  it('a port already taken is an error naming it (exit 1)', async () => {
    const result = await runCli(
      ['consume', '--metrics-port', String(port), '--topic', unique('metrics-taken')],
      process.env,
      20_000,
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`cannot serve metrics on 127.0.0.1:${port}`);
    expect(result.stderr).toContain('EADDRINUSE');
  });
});
