/** The metrics registry: labels from their one lists, counts from the outcomes, an exposition promtool accepts. */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/config.js';
import { resolveMetrics } from '../../src/config/metrics.js';
import { SKIP_REASONS } from '../../src/domain/rules.js';
import { LETTER_REASONS } from '../../src/pipeline/ports.js';
import { DELIVERY_OUTCOMES, METRIC_NAMES, PipelineMetrics } from '../../src/telemetry/metrics.js';
import { DELIVERY_SKIP_REASONS, DELIVERY_STATUSES, type DeliveryOutcome } from '../../src/telemetry/outcomes.js';
import { repoRoot } from '../support/cli.js';
import { families, parseExposition, promtool, total } from '../support/metrics.js';

const CHANNELS = ['email', 'sms', 'push', 'console'];
const metrics = (): PipelineMetrics =>
  new PipelineMetrics({ topic: 'user_events', channels: CHANNELS, deadLetterReasons: LETTER_REASONS });

function delivery(
  channel: string,
  status: DeliveryOutcome['status'],
  reason: string | null = null,
  latencyMs = 5,
): DeliveryOutcome {
  return {
    kind: 'delivery',
    eventId: 'event-secret-id',
    type: 'user_signup',
    userId: 'user-secret-id',
    channel,
    status,
    reason,
    latencyMs,
    attempts: 1,
    at: 0,
  };
}

describe('metric labels', () => {
  it('outcomes are the delivery statuses, a skip counted under each of its reasons', () => {
    for (const status of DELIVERY_STATUSES.filter((s) => s !== 'skipped')) expect(DELIVERY_OUTCOMES).toContain(status);
    for (const reason of [...SKIP_REASONS, ...DELIVERY_SKIP_REASONS]) expect(DELIVERY_OUTCOMES).toContain(reason);
    expect(new Set(DELIVERY_OUTCOMES).size).toBe(DELIVERY_OUTCOMES.length);
  });

  it('every reason the pipeline skips a send with is in DELIVERY_SKIP_REASONS', () => {
    const dir = path.join(repoRoot, 'src', 'pipeline');
    const found = new Set<string>();
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts')))
      for (const m of readFileSync(path.join(dir, file), 'utf8').matchAll(/'skipped',\s*'([a-z-]+)'/g))
        found.add(m[1]!);
    expect(found.size).toBeGreaterThan(0);
    for (const reason of found) expect(DELIVERY_SKIP_REASONS as readonly string[]).toContain(reason);
  });

  it('every known combination is exported at 0 before anything happened', async () => {
    const samples = parseExposition((await metrics().exposition()).body);
    const deliveries = samples.filter((s) => s.name === METRIC_NAMES.deliveries);
    expect(deliveries).toHaveLength(CHANNELS.length * DELIVERY_OUTCOMES.length);
    expect(deliveries.every((s) => s.value === 0)).toBe(true);
    const letters = samples.filter((s) => s.name === METRIC_NAMES.deadLetters);
    expect(letters.map((s) => s.labels.reason).sort()).toEqual([...LETTER_REASONS].sort());
    expect(total(samples, METRIC_NAMES.consumed, { topic: 'user_events' })).toBe(0);
    expect(samples.filter((s) => s.name === METRIC_NAMES.up).map((s) => [s.labels.service, s.value])).toEqual([
      ['kafka', 0],
      ['redis', 0],
    ]);
    expect(total(samples, `${METRIC_NAMES.latency}_count`)).toBe(0);
  });
});

describe('counting outcomes', () => {
  it('counts consumed events, deliveries by channel and outcome, latency of sends, the schedule', async () => {
    const m = metrics();
    m.listener({ kind: 'consumed', topic: 'user_events' } as never);
    m.listener({ kind: 'consumed', topic: 'user_events' } as never);
    m.listener(delivery('email', 'sent', null, 4));
    m.listener(delivery('email', 'sent', null, 400));
    m.listener(delivery('sms', 'skipped', 'throttled'));
    m.listener(delivery('sms', 'skipped', 'opted-out'));
    m.listener(delivery('push', 'skipped', 'a reason nobody listed'));
    m.listener(delivery('push', 'duplicate', 'already-sent'));
    m.listener(delivery('console', 'deferred', 'quiet-hours'));
    m.listener(delivery('console', 'digested', 'digest'));
    m.listener({ kind: 'schedule', pending: 12, at: 0 });
    const text = (await m.exposition()).body;
    const s = parseExposition(text);
    expect(total(s, METRIC_NAMES.consumed, { topic: 'user_events' })).toBe(2);
    expect(total(s, METRIC_NAMES.deliveries, { channel: 'email', outcome: 'sent' })).toBe(2);
    expect(total(s, METRIC_NAMES.deliveries, { channel: 'sms', outcome: 'throttled' })).toBe(1);
    expect(total(s, METRIC_NAMES.deliveries, { channel: 'sms', outcome: 'opted-out' })).toBe(1);
    expect(total(s, METRIC_NAMES.deliveries, { channel: 'push', outcome: 'skipped' })).toBe(1);
    expect(total(s, METRIC_NAMES.deliveries, { channel: 'push', outcome: 'duplicate' })).toBe(1);
    expect(total(s, METRIC_NAMES.deliveries, { channel: 'console', outcome: 'deferred' })).toBe(1);
    expect(total(s, METRIC_NAMES.deliveries, { channel: 'console', outcome: 'digested' })).toBe(1);
    expect(total(s, METRIC_NAMES.deliveries)).toBe(8);
    expect(total(s, `${METRIC_NAMES.latency}_count`)).toBe(2);
    expect(total(s, `${METRIC_NAMES.latency}_sum`)).toBeCloseTo(0.404);
    expect(total(s, `${METRIC_NAMES.latency}_bucket`, { le: '0.005' })).toBe(1);
    expect(total(s, `${METRIC_NAMES.latency}_bucket`, { le: '0.25' })).toBe(1);
    expect(total(s, `${METRIC_NAMES.latency}_bucket`, { le: '0.5' })).toBe(2);
    expect(total(s, `${METRIC_NAMES.latency}_bucket`, { le: '+Inf' })).toBe(2);
    expect(total(s, METRIC_NAMES.scheduled)).toBe(12);
    expect(text).not.toContain('secret-id');
  });

  it('counts between scrapes add up (prom-client is handed the difference)', async () => {
    const m = metrics();
    m.listener(delivery('email', 'sent'));
    await m.exposition();
    m.listener(delivery('email', 'sent'));
    m.listener(delivery('email', 'sent'));
    const s = parseExposition((await m.exposition()).body);
    expect(total(s, METRIC_NAMES.deliveries, { channel: 'email', outcome: 'sent' })).toBe(3);
  });

  it('dead letters: each published one by its reason, and a failed send as delivery-failed, counted once', async () => {
    const m = metrics();
    m.listener({
      kind: 'deadletter',
      reason: 'invalid-json',
      detail: '',
      topic: 't',
      partition: 0,
      offset: '1',
      key: null,
      at: 0,
    });
    m.listener(delivery('sms', 'failed', 'provider timeout'));
    // A send Redis refused: its letter (`store-error`) is published as a dead letter of its own.
    m.listener(delivery('sms', 'failed', 'store-error: WRONGTYPE'));
    m.listener({
      kind: 'deadletter',
      reason: 'store-error',
      detail: '',
      topic: 't',
      partition: 0,
      offset: '2',
      key: null,
      at: 0,
    });
    const s = parseExposition((await m.exposition()).body);
    expect(total(s, METRIC_NAMES.deadLetters, { reason: 'invalid-json' })).toBe(1);
    expect(total(s, METRIC_NAMES.deadLetters, { reason: 'delivery-failed' })).toBe(1);
    expect(total(s, METRIC_NAMES.deadLetters, { reason: 'store-error' })).toBe(1);
    expect(total(s, METRIC_NAMES.deadLetters)).toBe(3);
    expect(total(s, METRIC_NAMES.deliveries, { channel: 'sms', outcome: 'failed' })).toBe(2);
  });

  it('lag per partition and up per service, as the service watch sets them', async () => {
    const m = metrics();
    m.setLag(
      'user_events',
      new Map([
        [0, 5],
        [1, 0],
        [2, 7],
      ]),
    );
    m.setLag(
      'user_events',
      new Map([
        [0, 1],
        [1, 0],
      ]),
    );
    m.setUp('redis', true);
    const s = parseExposition((await m.exposition()).body);
    const lag = s.filter((x) => x.name === METRIC_NAMES.lag).map((x) => [x.labels.partition, x.value]);
    expect(lag).toEqual([
      ['0', 1],
      ['1', 0],
    ]);
    expect(total(s, METRIC_NAMES.up, { service: 'redis' })).toBe(1);
    expect(total(s, METRIC_NAMES.up, { service: 'kafka' })).toBe(0);
  });
});

describe('the exposition', () => {
  it("includes prom-client's process metrics but no gauge named …_total; promtool check metrics passes", async () => {
    const m = metrics();
    expect(m.dropped).toContain('nodejs_active_handles_total');
    const text = (await m.exposition()).body;
    const types = families(text);
    expect(types.get('process_cpu_user_seconds_total')).toBe('counter');
    expect(types.get('nodejs_eventloop_lag_seconds')).toBe('gauge');
    for (const [name, type] of types) if (name.endsWith('_total')) expect(type, name).toBe('counter');
    expect(types.get(METRIC_NAMES.latency)).toBe('histogram');
    const check = await promtool(['check', 'metrics'], text);
    expect(check.output).toBe('');
    expect(check.code).toBe(0);
  });
});

describe('--metrics-port and --metrics-host settings', () => {
  it('off unless a port is given; 127.0.0.1 unless a host is', () => {
    expect(resolveMetrics({}, {})).toBeUndefined();
    expect(resolveMetrics({ metricsHost: '0.0.0.0' }, {})).toBeUndefined();
    expect(resolveMetrics({ metricsPort: '9464' }, {})).toEqual({ host: '127.0.0.1', port: 9464 });
    expect(resolveMetrics({}, { METRICS_PORT: '9464', METRICS_HOST: '0.0.0.0' })).toEqual({
      host: '0.0.0.0',
      port: 9464,
    });
    // flags over the environment; an empty variable is unset
    expect(resolveMetrics({ metricsPort: '9000', metricsHost: '[::1]' }, { METRICS_PORT: '9464' })).toEqual({
      host: '::1',
      port: 9000,
    });
    expect(resolveMetrics({}, { METRICS_PORT: '' })).toBeUndefined();
  });

  it.each([
    [{ metricsPort: '0' }, {}, '--metrics-port "0" is not a port'],
    [{ metricsPort: '65536' }, {}, '--metrics-port "65536"'],
    [{ metricsPort: '9464x' }, {}, '--metrics-port "9464x"'],
    [{}, { METRICS_PORT: '-1' }, 'METRICS_PORT "-1"'],
    [{ metricsPort: '9464', metricsHost: 'http://x' }, {}, '--metrics-host "http://x"'],
    [{ metricsPort: '9464' }, { METRICS_HOST: ' ' }, 'METRICS_HOST " "'],
  ])('refuses %j %j naming the setting', (flags, env, message) => {
    expect(() => resolveMetrics(flags, env)).toThrow(ConfigError);
    expect(() => resolveMetrics(flags, env)).toThrow(message);
  });
});
