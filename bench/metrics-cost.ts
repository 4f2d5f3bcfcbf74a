/**
 * What `--metrics-port` costs per event (issue 24: at most 1 µs of CPU).
 *
 * 1. The counting alone, in this process: a realistic outcome stream (per event one `consumed` and one
 *    delivery per channel, a third of them sent) through the metrics' listener, ns per event; a scrape
 *    of the exposition every "second" of it, as Prometheus would (15 s is the usual interval).
 * 2. The consumer's CPU per event draining the same events with the endpoints off and on (METRICS_PORT
 *    in its environment, which the drain passes on), alternated run by run: `cpu-per-event.ts`' drain,
 *    one mix (BENCH_METRICS_MIX, default "every channel on"), BENCH_METRICS_EVENTS (default 100000)
 *    events, BENCH_METRICS_REPEAT (default 2) pairs of runs, after a warm-up drain; the pairs alternate
 *    which mode runs first, and the figure is the median of the pairs' differences.
 *
 * `npm run bench:metrics`.
 */
import { fileURLToPath } from 'node:url';
import { PipelineMetrics } from '../src/index.js';
import { cpuPerEvent } from './cpu-per-event.js';
import { freePort, log, markdownTable, type Row } from './common.js';

const CHANNELS = ['email', 'sms', 'push', 'console'];

/** ns of CPU per event the metrics' listener takes, over `events` events (and a scrape per `perScrape`). */
export async function countingCost(events = 2_000_000, perScrape = 45_000): Promise<{ nsPerEvent: number }> {
  const metrics = new PipelineMetrics(
    { topic: 'user_events', channels: CHANNELS, deadLetterReasons: ['invalid-json', 'delivery-failed'] },
    { defaultMetrics: false },
  );
  const consumed = { kind: 'consumed', topic: 'user_events' } as const;
  const deliveries = CHANNELS.map((channel, i) => ({
    kind: 'delivery' as const,
    eventId: 'e',
    type: 'user_signup',
    userId: 'u',
    channel,
    status: i % 3 === 0 ? ('sent' as const) : ('skipped' as const),
    reason: i % 3 === 0 ? null : 'opted-out',
    latencyMs: 3 + i,
    attempts: 1,
    at: 0,
  }));
  const run = async (n: number): Promise<number> => {
    const start = process.cpuUsage();
    for (let i = 0; i < n; i++) {
      metrics.listener(consumed as never);
      for (const d of deliveries) metrics.listener(d);
      if (i % perScrape === 0) await metrics.exposition();
    }
    const used = process.cpuUsage(start);
    return ((used.user + used.system) * 1000) / n;
  };
  await run(events / 10); // warm-up: the JIT
  return { nsPerEvent: Math.round((await run(events)) * 10) / 10 };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const rows: Row[] = [];
  const counting = await countingCost();
  rows.push([
    'metrics counting, CPU per event',
    `${counting.nsPerEvent} ns`,
    'in-process: 1 consumed + 4 deliveries per event through the listener, a scrape every 45,000 events',
  ]);
  log(`counting: ${counting.nsPerEvent} ns per event`);
  const count = Number(process.env.BENCH_METRICS_EVENTS ?? 100_000);
  const repeat = Number(process.env.BENCH_METRICS_REPEAT ?? 2);
  const mix = process.env.BENCH_METRICS_MIX ?? 'every channel on';
  const consumer: Record<'off' | 'on', number[]> = { off: [], on: [] };
  const drain = async (mode: 'off' | 'on') => {
    if (mode === 'on') process.env.METRICS_PORT = String(await freePort());
    else delete process.env.METRICS_PORT;
    const { figures } = await cpuPerEvent({ count, repeat: 1, mixes: [mix] });
    const run = figures.mixes[mix]?.[0];
    if (!run) throw new Error(`no figures for the mix "${mix}"`);
    return run;
  };
  // A first drain warms the broker's page cache and Redis: it was the dearest of every series, whatever its mode.
  log('warm-up drain (not counted)');
  await drain('off');
  // Pairs in turn off→on and on→off, so that neither mode always runs first.
  const differences: number[] = [];
  for (let i = 0; i < repeat; i++) {
    const order = i % 2 === 0 ? (['off', 'on'] as const) : (['on', 'off'] as const);
    const pair: Partial<Record<'off' | 'on', number>> = {};
    for (const mode of order) {
      log(`drain ${i + 1}, metrics ${mode}`);
      const run = await drain(mode);
      consumer[mode].push(run.cpuUs.consumer);
      pair[mode] = run.cpuUs.consumer;
      rows.push([
        `consumer CPU per event, metrics ${mode}, pair ${i + 1}`,
        `${run.cpuUs.consumer} µs`,
        `${mix}, ${count.toLocaleString('en-US')} events, ${run.steadyRate.toLocaleString('en-US')} events/s, load ${run.load}`,
      ]);
    }
    differences.push(pair.on! - pair.off!);
  }
  delete process.env.METRICS_PORT;
  const median = (xs: number[]): number => {
    const sorted = [...xs].sort((a, b) => a - b);
    const mid = Math.floor(sorted.length / 2);
    return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  };
  const round = (x: number): number => Math.round(x * 10) / 10;
  rows.push([
    'consumer CPU per event, metrics on − off (median of the pairs)',
    `${round(median(differences))} µs`,
    `pairs: ${differences.map((d) => `${d >= 0 ? '+' : ''}${round(d)}`).join(', ')} µs; medians off ${round(median(consumer.off))}, on ${round(median(consumer.on))} µs; the drains include the probes every 2 s, no scrape`,
  ]);
  process.stdout.write(`${markdownTable(rows)}\n`);
}
