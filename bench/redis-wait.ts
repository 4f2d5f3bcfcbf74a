/**
 * `npm run bench:wait`: the cost of `--redis-wait-replicas 1` (a `WAIT 1 <timeout>` after each chunk's
 * Redis writes, before its offsets are committed). A primary, its replica and a Sentinel of the bench's
 * own (`stack up redis --redis-replica`, in a home of its own, on free ports), the pipeline on them
 * through `redis+sentinel://`; the same events (the sample mix) drained with `consume --drain` with
 * WAIT off and on, in turn, `BENCH_WAIT_REPEAT` times (default 3), `BENCH_WAIT_EVENTS` events each
 * (default 50,000), each drain on a topic of its own. Prints events/s per run and the medians.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRedis, resolveConfig, stackDown, stackPaths, stackUp } from '../src/index.js';
import { bin, createTopic, eventsFile, freePort, kcatProduce, log } from './common.js';

const EVENTS = Number(process.env.BENCH_WAIT_EVENTS ?? '50000') || 50_000;
const REPEAT = Number(process.env.BENCH_WAIT_REPEAT ?? '3') || 3;

async function drain(brokers: string[], topic: string, url: string, wait: boolean): Promise<number> {
  const args = ['consume', '--drain', '--topic', topic, '--group', `bench-wait-${randomUUID()}`, '--output', 'stats'];
  args.push('--redis', url, ...(wait ? ['--redis-wait-replicas', '1'] : []));
  const started = Date.now();
  await new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], {
      env: { ...process.env, CI: 'true', KAFKA_BROKERS: brokers.join(',') },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    child.stderr.setEncoding('utf8').on('data', (c: string) => (err = (err + c).slice(-3000)));
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`consume exited ${code}: ${err}`))));
  });
  return Math.round(EVENTS / ((Date.now() - started) / 1000));
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/**
 * One WAIT on its own: a write (as a chunk's last) then `WAIT 1 1000`, 1,000 times through the Sentinel
 * URL; the median and p99 of the WAIT's round trip, µs (what each chunk adds with the setting on).
 */
async function waitRoundTrip(url: string): Promise<{ p50: number; p99: number }> {
  const redis = createRedis(url);
  await redis.connect();
  const us: number[] = [];
  try {
    for (let i = 0; i < 1000; i++) {
      await redis.set(`bench-wait:${i % 10}`, String(i));
      const t0 = process.hrtime.bigint();
      const acked = await redis.wait(1, 1000);
      us.push(Number(process.hrtime.bigint() - t0) / 1000);
      if (acked < 1) throw new Error('the replica did not acknowledge a WAIT');
    }
  } finally {
    redis.disconnect();
  }
  us.sort((a, b) => a - b);
  return { p50: Math.round(us[499]!), p99: Math.round(us[989]!) };
}

async function main(): Promise<void> {
  const { brokers } = resolveConfig({});
  const home = mkdtempSync(path.join(os.tmpdir(), 'etui-bench-wait-'));
  const paths = stackPaths(home);
  const [primary, replica, sentinel] = [await freePort(), await freePort(), await freePort()];
  const url = `redis+sentinel://127.0.0.1:${sentinel}/bench-wait`;
  const config = { brokers, redisUrl: url };
  const dir = mkdtempSync(path.join(os.tmpdir(), 'etui-bench-wait-events-'));
  try {
    await stackUp({ config, paths, redisReplica: { primary, replica } }, ['redis']);
    const roundTrip = await waitRoundTrip(url);
    log(`WAIT 1 1000 after a write: p50 ${roundTrip.p50} µs, p99 ${roundTrip.p99} µs`);
    const rates: Record<'off' | 'on', number[]> = { off: [], on: [] };
    for (let i = 0; i < REPEAT; i++) {
      for (const mode of i % 2 === 0 ? (['off', 'on'] as const) : (['on', 'off'] as const)) {
        const topic = `bench-wait-${randomUUID().slice(0, 8)}`;
        const remove = await createTopic(brokers, topic, 3);
        kcatProduce(brokers, topic, eventsFile(dir, EVENTS));
        log(`WAIT ${mode}: draining ${EVENTS} events (run ${i + 1} of ${REPEAT}, load ${os.loadavg()[0]!.toFixed(1)})`);
        const rate = await drain(brokers, topic, url, mode === 'on');
        rates[mode].push(rate);
        log(`WAIT ${mode}: ${rate} events/s`);
        await remove();
      }
    }
    const off = median(rates.off);
    const on = median(rates.on);
    process.stdout.write(
      [
        `| WAIT | events/s (${REPEAT} runs of ${EVENTS.toLocaleString('en-US')}) | median |`,
        '| --- | --- | --- |',
        `| off | ${rates.off.map((r) => r.toLocaleString('en-US')).join(' / ')} | ${off.toLocaleString('en-US')} |`,
        `| on (1 replica) | ${rates.on.map((r) => r.toLocaleString('en-US')).join(' / ')} | ${on.toLocaleString('en-US')} (${(((on - off) / off) * 100).toFixed(1)}%) |`,
        `WAIT 1 1000 after a write, alone: p50 ${roundTrip.p50} µs, p99 ${roundTrip.p99} µs (one per chunk of up to 1,000 events)`,
        `load average ${os
          .loadavg()
          .map((l) => l.toFixed(1))
          .join(' ')}`,
        '',
      ].join('\n'),
    );
  } finally {
    await stackDown({ paths, config }, ['redis']).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
    rmSync(home, { recursive: true, force: true });
  }
}

await main();
