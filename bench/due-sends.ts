/**
 * 10,000 deferred sends due at the same moment (a whole time zone's morning) while live events stream
 * in: how fast the due-sends loop delivers them, and what they cost the live events. Two runs on a
 * private redis-server, the same consumer and the same live load (LIVE events of users with every
 * channel on, drained from a topic of their own):
 *  - live events alone;
 *  - live events with 10,000 sends (2,500 events × 4 channels) due now in the schedule, written as
 *    another program would (the keys of docs/contracts.md).
 * `npm run bench -- --only due` runs it alone (BENCH_DUE_SENDS, default 10000; BENCH_DUE_LIVE, default 50000).
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { resolveConfig } from '../src/index.js';
import { bin, createTopic, eventsFile, kcatProduce, log, markdownTable, sleep, type Row } from './common.js';
import { privateRedis, seedAllOnUsers, type PrivateRedis } from './cpu-per-event.js';

const CHANNELS = ['console', 'email', 'sms', 'push'];

/** `sends` entries due now: sends/4 item_purchased events × the four channels, for `users` in turn. */
async function writeDueSends(url: string, users: readonly string[], sends: number, topic: string): Promise<void> {
  const r = new Redis(url);
  const now = Date.now();
  const occurredAt = new Date(now - 3_600_000).toISOString();
  let pipeline = r.pipeline();
  for (let i = 0; i < sends / CHANNELS.length; i++) {
    const userId = users[i % users.length]!;
    const event = {
      id: randomUUID(),
      type: 'item_purchased',
      userId,
      occurredAt,
      payload: { orderId: `due-${i}`, item: 'kettle', amount: 38.5, currency: 'USD' },
    };
    for (const channel of CHANNELS) {
      const member = JSON.stringify([event.id, channel]);
      const entry = {
        eventId: event.id,
        channel,
        userId,
        type: event.type,
        dueAt: now - 1000,
        zone: 'Europe/Paris',
        reason: 'quiet-hours',
        deferredAt: now - 3_600_000,
        event: JSON.stringify(event),
        occurredAtMs: Date.parse(occurredAt),
        topic,
        partition: 0,
        offset: String(i),
        timestamp: String(now - 3_600_000),
      };
      pipeline.hset('schedule:{schedule}:sends', member, JSON.stringify(entry));
      pipeline.zadd('schedule:{schedule}:due', now - 1000, member);
    }
    if (i % 500 === 499) {
      await pipeline.exec();
      pipeline = r.pipeline();
    }
  }
  await pipeline.exec();
  r.disconnect();
}

interface RunFigures {
  /** ms from the consumer's start to its last live event consumed. */
  liveMs: number;
  /** ms from the consumer's start to an empty schedule (undefined: none were due). */
  dueMs?: number;
}

/** A consumer (not --drain: it must stay for the due sends) on `topic`, until `live` events are consumed and the schedule is empty. */
async function run(brokers: string[], redis: PrivateRedis, topic: string, live: number): Promise<RunFigures> {
  const r = new Redis(redis.url);
  const group = `bench-due-${randomUUID()}`;
  const child = spawn(bin, ['consume', '--topic', topic, '--group', group, '--output', 'stats', '--redis', redis.url], {
    env: { ...process.env, CI: 'true', KAFKA_BROKERS: brokers.join(',') },
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const started = Date.now();
  let consumed = 0;
  let liveMs: number | undefined;
  let dueMs: number | undefined;
  let buffer = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => {
    buffer += c;
    const lines = buffer.split('\n');
    buffer = lines.pop() ?? '';
    for (const line of lines) {
      const m = /"consumed":(\d+)/.exec(line);
      if (m) consumed = Number(m[1]);
    }
  });
  const deadline = Date.now() + 300_000;
  try {
    while (Date.now() < deadline) {
      if (liveMs === undefined && consumed >= live) liveMs = Date.now() - started;
      if (dueMs === undefined && (await r.zcard('schedule:{schedule}:due')) === 0) dueMs = Date.now() - started;
      if (liveMs !== undefined && dueMs !== undefined) break;
      await sleep(50);
    }
  } finally {
    child.kill('SIGTERM');
    await new Promise<void>((resolve) => (child.exitCode !== null ? resolve() : child.once('exit', () => resolve())));
    r.disconnect();
  }
  if (liveMs === undefined) throw new Error(`the consumer consumed ${consumed} of ${live} live events in 5 minutes`);
  return { liveMs, ...(dueMs !== undefined ? { dueMs } : {}) };
}

export async function dueSends({ sends = 10_000, live = 50_000 }: { sends?: number; live?: number } = {}): Promise<
  Row[]
> {
  const brokers = resolveConfig({}).brokers;
  const redis = await privateRedis();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'etui-bench-due-'));
  const cleanups: (() => Promise<void>)[] = [];
  try {
    const users = await seedAllOnUsers(redis.url, `bench-due-${randomUUID().slice(0, 6)}`, 8);
    const topics = [`bench-due-${randomUUID().slice(0, 8)}`, `bench-due-${randomUUID().slice(0, 8)}`];
    for (const topic of topics) {
      cleanups.push(await createTopic(brokers, topic, 3));
      kcatProduce(brokers, topic, eventsFile(dir, live, users));
    }
    log(`due sends: ${live} live events alone`);
    const alone = await run(brokers, redis, topics[0]!, live);
    log(`due sends: ${live} live events with ${sends} sends due at once`);
    await writeDueSends(redis.url, users, sends, topics[1]!);
    const both = await run(brokers, redis, topics[1]!, live);
    const liveRate = (ms: number): number => Math.round(live / (ms / 1000));
    return [
      [
        `${sends.toLocaleString()} deferred sends due at once`,
        `${Math.round(sends / ((both.dueMs ?? 0) / 1000)).toLocaleString()} sends/s (all sent ${((both.dueMs ?? 0) / 1000).toFixed(1)} s after the consumer started)`,
        `claimed 1,000 at a time; consumer start (~1 s) included`,
      ],
      [
        `${live.toLocaleString()} live events beside them`,
        `${liveRate(both.liveMs).toLocaleString()} events/s`,
        `alone, the same run: ${liveRate(alone.liveMs).toLocaleString()} events/s (${Math.round((both.liveMs / alone.liveMs - 1) * 100)}% longer with the due sends); stats lines come once a second`,
      ],
    ];
  } finally {
    for (const c of cleanups) await c();
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const rows = await dueSends({
    sends: Number(process.env.BENCH_DUE_SENDS ?? 10_000),
    live: Number(process.env.BENCH_DUE_LIVE ?? 50_000),
  });
  process.stdout.write(`${markdownTable(rows)}\n`);
}
