/**
 * ops/: the alert rules and the scrape config pass promtool; the Grafana dashboard parses and each of
 * its queries, like each alert's, names only metrics the exporter exports (docs/operations.md).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LETTER_REASONS } from '../../src/pipeline/ports.js';
import { PipelineMetrics } from '../../src/telemetry/metrics.js';
import { repoRoot } from '../support/cli.js';
import { families, promtool } from '../support/metrics.js';

const ops = (file: string): string => path.join(repoRoot, 'ops', file);

const PROMQL_WORDS = new Set([
  'sum',
  'max',
  'min',
  'avg',
  'count',
  'rate',
  'irate',
  'increase',
  'deriv',
  'histogram_quantile',
  'and',
  'or',
  'unless',
]);
/** Series Prometheus makes itself for each target. */
const SCRAPE_SERIES = new Set(['up']);

/** The metric names a PromQL expression reads. */
function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '')
    .replace(/\{[^}]*\}/g, '')
    .replace(/\[[^\]]*\]/g, '')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, '');
  return [...bare.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)].map((m) => m[0]).filter((w) => !PROMQL_WORDS.has(w));
}

/** Every series name the exporter exports: its families, and a histogram's _bucket, _sum and _count. */
async function exported(): Promise<Set<string>> {
  const metrics = new PipelineMetrics({ topic: 't', channels: ['email'], deadLetterReasons: LETTER_REASONS });
  const names = new Set<string>();
  for (const [name, type] of families((await metrics.exposition()).body)) {
    names.add(name);
    if (type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(`${name}${suffix}`);
  }
  return names;
}

describe('ops/ files', () => {
  it('promtool check rules passes on ops/alerts.yml, with the alerts docs/operations.md names', async () => {
    const check = await promtool(['check', 'rules', ops('alerts.yml')]);
    expect(check.output).toContain('SUCCESS: 6 rules found');
    expect(check.code).toBe(0);
    const rules = readFileSync(ops('alerts.yml'), 'utf8');
    const doc = readFileSync(path.join(repoRoot, 'docs', 'operations.md'), 'utf8');
    for (const [, alert] of rules.matchAll(/- alert: (\S+)/g)) expect(doc).toContain(alert);
  });

  it('promtool check config passes on ops/prometheus.yml', async () => {
    const check = await promtool(['check', 'config', ops('prometheus.yml')]);
    expect(check.code, check.output).toBe(0);
  });

  it('each alert and each Grafana panel query names only metrics the exporter exports', async () => {
    const known = await exported();
    const rules = readFileSync(ops('alerts.yml'), 'utf8');
    const alertExprs = [...rules.matchAll(/^\s+expr: (.+)$/gm)].map((m) => m[1]!);
    expect(alertExprs).toHaveLength(6);
    const dashboard = JSON.parse(readFileSync(ops('grafana-dashboard.json'), 'utf8')) as {
      title: string;
      panels: { title: string; targets: { expr: string }[] }[];
    };
    const panelExprs = dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr));
    expect(dashboard.panels.map((p) => p.title)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^Throughput/),
        expect.stringMatching(/by outcome/),
        expect.stringMatching(/latency/),
        expect.stringMatching(/lag per partition/),
      ]),
    );
    for (const expr of [...alertExprs, ...panelExprs]) {
      const names = metricNames(expr);
      expect(names.length, expr).toBeGreaterThan(0);
      for (const name of names) expect(known.has(name) || SCRAPE_SERIES.has(name), `${name} in ${expr}`).toBe(true);
    }
  });

  it('the name check catches a metric the exporter does not export', async () => {
    const known = await exported();
    expect(metricNames('sum by (topic) (rate(eventstream_events_consumed_total{topic="x"}[1m]))')).toEqual([
      'eventstream_events_consumed_total',
    ]);
    expect(known.has(metricNames('rate(eventstream_no_such_metric_total[1m])')[0]!)).toBe(false);
  });
});
