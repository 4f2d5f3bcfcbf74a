/** Helpers for tests that run the real CLI against the real Kafka and Redis. */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Partitioners, type IHeaders } from 'kafkajs';
import { Redis } from 'ioredis';
import { inject } from 'vitest';
import { createKafka } from '../../src/adapters/kafka/client.js';
import { outboxKey } from '../../src/adapters/redis/keys.js';
import type { OutboxLine } from '../../src/adapters/redis/provider.js';
import { createLogger } from '../../src/log/logger.js';
import { binPath, waitFor } from './cli.js';
import { createTopicsLed } from './topics.js';

export const brokers = (): string => inject('brokers');
export const redisUrl = (): string => inject('redisUrl');
export const unique = (prefix: string): string => `${prefix}-${randomUUID().slice(0, 8)}`;

export const testKafka = () =>
  createKafka({ brokers: brokers().split(','), logger: createLogger({ kind: 'silent' }), clientId: 'test' });

export interface TestUser {
  id: string;
  name?: string;
  email?: string;
  phone?: string;
  pushToken?: string;
  /** The `prefs:<id>` hash: channels on/off, and the rules' fields (`<type>.<channel>`, `tz`, `quiet`). */
  prefs: Record<string, string>;
}

export async function writeUsers(redis: Redis, users: TestUser[]): Promise<void> {
  for (const { id, prefs, ...profile } of users) {
    const fields = Object.fromEntries(Object.entries(profile).filter(([, v]) => v !== undefined)) as Record<
      string,
      string
    >;
    await redis.del(`user:${id}`, `prefs:${id}`);
    if (Object.keys(fields).length > 0) await redis.hset(`user:${id}`, fields);
    await redis.hset(`prefs:${id}`, prefs);
    await redis.sadd('users', id);
  }
}

export async function removeUsers(redis: Redis, ids: string[]): Promise<void> {
  for (const id of ids) await redis.del(`user:${id}`, `prefs:${id}`);
  if (ids.length > 0) await redis.srem('users', ...ids);
}

export function event(type: string, userId: string, payload: Record<string, unknown> = {}) {
  return { id: randomUUID(), type, userId, occurredAt: new Date().toISOString(), payload };
}

export async function produceRaw(
  topic: string,
  messages: { key?: string | Buffer | null; value: Buffer | string | null; headers?: IHeaders }[],
): Promise<void> {
  // Idempotent: a test's topic holds each message once. A plain producer writes a whole request again
  // when one partition of it fails (kafkajs throws the response's first partition error, so the
  // partitions that took their messages are sent again): right after a topic's creation, under load, a
  // partition not yet led did that, and a test saw six events where it wrote three.
  const producer = testKafka().producer({
    createPartitioner: Partitioners.DefaultPartitioner,
    idempotent: true,
    maxInFlightRequests: 1,
  });
  await producer.connect();
  try {
    await producer.send({ topic, messages });
  } finally {
    await producer.disconnect();
  }
}

export async function produceEvents(topic: string, events: ReturnType<typeof event>[]): Promise<void> {
  await produceRaw(
    topic,
    events.map((e) => ({ key: e.userId, value: JSON.stringify(e), headers: { 'event-type': e.type } })),
  );
}

export async function createTopic(topic: string, partitions = 3): Promise<void> {
  const admin = testKafka().admin();
  await admin.connect();
  try {
    // the same topic settings `ensureTopics` uses (room for a 5 MB event on its way to the dead-letter topic)
    const configEntries = [{ name: 'max.message.bytes', value: String(16 * 1024 * 1024) }];
    await createTopicsLed(
      admin,
      [topic, `${topic}.dlq`].map((t) => ({ topic: t, numPartitions: partitions, configEntries })),
    );
  } finally {
    await admin.disconnect();
  }
}

export interface ReadMessage {
  key: string | null;
  value: Buffer | null;
  headers: Record<string, string>;
  partition: number;
  offset: string;
}

/** Reads `count` messages from the start of a topic (with a group of its own). */
export async function readTopic(
  topic: string,
  count: number,
  timeoutMs = 30_000,
  kafka = testKafka(),
): Promise<ReadMessage[]> {
  const consumer = kafka.consumer({
    groupId: unique('reader'),
    sessionTimeout: 10_000,
    heartbeatInterval: 1000,
    maxWaitTimeInMs: 200,
  });
  const out: ReadMessage[] = [];
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message, partition }) => {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(message.headers ?? {})) headers[k] = String(Array.isArray(v) ? v[0] : v);
      out.push({
        key: message.key?.toString() ?? null,
        value: message.value,
        headers,
        partition,
        offset: message.offset,
      });
    },
  });
  try {
    await waitFor(`${count} message(s) on ${topic}`, () => out.length >= count, timeoutMs);
  } finally {
    await consumer.disconnect();
  }
  return out;
}

export async function committedOffsets(
  group: string,
  topic: string,
): Promise<{ committed: Map<number, bigint>; high: Map<number, bigint> }> {
  const admin = testKafka().admin();
  await admin.connect();
  try {
    const [c] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
    const ends = await admin.fetchTopicOffsets(topic);
    return {
      committed: new Map((c?.partitions ?? []).map((p) => [p.partition, BigInt(p.offset)])),
      high: new Map(ends.map((e) => [e.partition, BigInt(e.high)])),
    };
  } finally {
    await admin.disconnect();
  }
}

export interface Line {
  kind: string;
  [field: string]: unknown;
}

/**
 * The first `delivery` line of each (event, channel): its outcome. A chunk read again (its commit
 * refused by a rebalance on a loaded machine, the group's member replaced) prints its lines again: a
 * send already made comes back `duplicate`, a skip is skipped again for the same reason, a send a
 * server refused for good is tried once more and refused alike; anything else
 * after the first line throws, naming the pair.
 */
export function firstOutcomes<L extends Record<string, unknown>>(lines: readonly L[]): L[] {
  const first = new Map<string, L>();
  for (const l of lines) {
    if (l.kind !== 'delivery') continue;
    const pair = `${String(l.eventId)} ${String(l.channel)}`;
    const earlier = first.get(pair);
    if (!earlier) {
      first.set(pair, l);
      continue;
    }
    const again =
      l.status === 'duplicate' ||
      (l.status === earlier.status && (l.status === 'skipped' || l.status === 'failed') && l.reason === earlier.reason);
    if (!again)
      throw new Error(
        `${pair}: ${String(earlier.status)} ${String(earlier.reason ?? '')}, then ${String(l.status)} ${String(l.reason ?? '')} (a line read again must be duplicate, or the same skip or refusal)`,
      );
  }
  return [...first.values()];
}

/**
 * What `produce` reported as never acknowledged (exit 3): the count its stderr names, the file it wrote
 * and the events in it, checked to agree with each other and to carry the line to produce them again.
 */
export function unacknowledgedReport(stderr: string): {
  count: number;
  file: string;
  events: { id: string; userId: string }[];
} {
  const named =
    /error: (\d+) produced event\(s\) were never acknowledged by Kafka: .*\n\s+all \d+ written to (\S+\.jsonl); produce them again with: kcat -P/.exec(
      stderr,
    );
  if (!named) throw new Error(`no report of unacknowledged events on stderr:\n${stderr.slice(-2000)}`);
  const events = readFileSync(named[2]!, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { id: string; userId: string });
  const count = Number(named[1]);
  if (events.length !== count) throw new Error(`${named[2]} holds ${events.length} events, stderr said ${count}`);
  return { count, file: named[2]!, events };
}

/** A running `eventstream-tui` subcommand whose JSON lines are collected as they come. */
export class CliProcess {
  readonly lines: Line[] = [];
  /** When each of {@link lines} was read (Date.now()), in the same order. */
  readonly arrivedAt: number[] = [];
  stderr = '';
  readonly child: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private buffer = '';

  constructor(args: string[], env: NodeJS.ProcessEnv = {}, cwd?: string) {
    this.child = spawn(process.execPath, [binPath, ...args], {
      env: { ...process.env, CI: 'true', ...env },
      ...(cwd ? { cwd } : {}),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      this.buffer += chunk;
      let nl: number;
      while ((nl = this.buffer.indexOf('\n')) >= 0) {
        const line = this.buffer.slice(0, nl);
        this.buffer = this.buffer.slice(nl + 1);
        if (line.trim()) {
          this.lines.push(JSON.parse(line) as Line);
          this.arrivedAt.push(Date.now());
        }
      }
    });
    this.child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (this.stderr += chunk));
    this.exited = new Promise((resolve) => this.child.once('exit', (code, signal) => resolve({ code, signal })));
  }

  static consume(topic: string, group: string, extra: string[] = [], env: NodeJS.ProcessEnv = {}): CliProcess {
    return new CliProcess(consumeArgs(topic, group, extra), env);
  }

  deliveries(filter: Partial<Record<string, unknown>> = {}): Line[] {
    return this.lines.filter((l) => l.kind === 'delivery' && Object.entries(filter).every(([k, v]) => l[k] === v));
  }

  /** Waits for `check`; a timeout says what was awaited and ends with the tail of stderr. */
  private async until(what: string, check: () => boolean, timeoutMs: number): Promise<void> {
    await waitFor(what, () => check() || undefined, timeoutMs).catch((error: Error) => {
      throw new Error(`${error.message}\n--- stderr ---\n${this.stderr.slice(-2000)}`);
    });
  }

  async waitForLines(what: string, predicate: (lines: Line[]) => boolean, timeoutMs = 30_000): Promise<void> {
    await this.until(what, () => predicate(this.lines), timeoutMs);
  }

  /** Waits for stderr: stdout and stderr are separate pipes, each read in its own time. */
  async waitForStderr(what: string, predicate: (stderr: string) => boolean, timeoutMs = 10_000): Promise<void> {
    await this.until(what, () => predicate(this.stderr), timeoutMs);
  }

  /** Waits until this consumer has partitions assigned (it logs its assignment on stderr). */
  async waitForAssignment(timeoutMs = 30_000): Promise<number[]> {
    await this.waitForStderr('a partition assignment', (s) => /"kind":"assignment"/.test(s), timeoutMs);
    const matches = [...this.stderr.matchAll(/"kind":"assignment","partitions":\[([\d,]*)\]/g)];
    const last = matches[matches.length - 1]?.[1] ?? '';
    return last ? last.split(',').map(Number) : [];
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    return this.exited;
  }
}

/** `consume` of `topic` as group `group` on the test's Kafka and Redis, then `extra`. */
export function consumeArgs(topic: string, group: string, extra: readonly string[] = []): string[] {
  return ['consume', '--brokers', brokers(), '--redis', redisUrl(), '--topic', topic, '--group', group, ...extra];
}

export function newRedis(): Redis {
  return new Redis(redisUrl(), { maxRetriesPerRequest: 1 });
}

/** What the mock provider of `channel` accepted, oldest first, as `redis-cli LRANGE 'outbox:{provider}:email' 0 -1` shows it. */
export async function readOutbox(redis: Redis, channel: string): Promise<OutboxLine[]> {
  const out: OutboxLine[] = [];
  const page = 50_000;
  for (let start = 0; ; start += page) {
    const lines = await redis.lrange(outboxKey(channel), start, start + page - 1);
    for (const l of lines) out.push(JSON.parse(l) as OutboxLine);
    if (lines.length < page) return out;
  }
}
