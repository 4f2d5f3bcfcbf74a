/**
 * Hostile input: the corpus in test/fixtures/hostile, a 5 MB value, hostile
 * Redis user fields, and a bounded fuzz run. Bad events go to the dead-letter
 * topic with their reason; nothing crashes; nothing reaches the terminal raw.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadCatalog } from '../../src/domain/catalog.js';
import { createLogger } from '../../src/log/logger.js';
import { embeddedBackends, Pipeline, type PipelineSettings } from '../../src/app/runtime.js';
import type { Outcome } from '../../src/telemetry/outcomes.js';
import { repoRoot, runCli, waitFor } from '../support/cli.js';
import {
  CliProcess,
  consumeArgs,
  createTopic,
  event,
  newRedis,
  produceRaw,
  readTopic,
  redisUrl,
  removeUsers,
  unique,
} from '../support/pipeline.js';

const CORPUS = path.join(repoRoot, 'test', 'fixtures', 'hostile');
const manifest = JSON.parse(readFileSync(path.join(CORPUS, 'manifest.json'), 'utf8')) as Record<string, string>;
const redis = newRedis();
const running: CliProcess[] = [];

afterAll(async () => {
  await Promise.all(running.map((p) => p.stop('SIGKILL')));
  redis.disconnect();
});

const ESC = /[\u001b\u0007\u009b]/;

describe('the hostile corpus in Kafka', () => {
  it('dead-letters each bad message with its reason, consumes the valid ones, keeps running, and delivers the next good event', async () => {
    const topic = unique('hostile');
    await createTopic(topic, 1);
    // the corpus' valid events are for the sample users
    expect((await runCli(['seed', '--redis', redisUrl()])).code).toBe(0);
    const files = readdirSync(CORPUS).filter((f) => f in manifest);
    expect(files.length).toBe(Object.keys(manifest).length);
    const fiveMb = Buffer.from(JSON.stringify(event('user_signup', 'user-01', { blob: 'x'.repeat(5 * 1024 * 1024) })));
    await produceRaw(topic, [
      ...files.map((f) => ({ key: f, value: readFileSync(path.join(CORPUS, f)) })),
      { key: 'five-mb.json', value: fiveMb },
    ]);
    const good = event('user_signup', 'user-01');
    await produceRaw(topic, [{ key: 'good', value: JSON.stringify(good) }]);
    const p = CliProcess.consume(topic, unique('g'));
    running.push(p);
    await p.waitForLines(
      'the good event after the corpus',
      (l) => l.some((x) => x.kind === 'delivery' && x.eventId === good.id),
      60_000,
    );

    const letters = new Map(
      p.lines.filter((l) => l.kind === 'deadletter').map((l) => [String(l.key), String(l.reason)]),
    );
    for (const [file, expected] of Object.entries(manifest)) {
      if (expected === 'consumed') expect(letters.has(file), file).toBe(false);
      else expect(letters.get(file), file).toBe(expected);
    }
    expect(letters.get('five-mb.json')).toBe('too-large');
    const consumedIds = new Set(p.lines.filter((l) => l.kind === 'delivery').map((l) => l.eventId));
    for (const id of ['hostile-ansi', 'hostile-bidi', 'hostile-long']) expect(consumedIds.has(id), id).toBe(true);
    // the console channel's human line on stderr carries none of the escapes (waiting for every line
    // sent so far: stderr is a pipe of its own, read in its own time)
    const consoleSent = p.deliveries({ channel: 'console', status: 'sent' }).length;
    expect(consoleSent).toBeGreaterThan(0);
    await p.waitForStderr('every console line', (s) => (s.match(/^\[console\] /gm)?.length ?? 0) >= consoleSent);
    expect(p.stderr).not.toMatch(ESC);
    expect(p.child.exitCode).toBeNull();
    const dlq = await readTopic(`${topic}.dlq`, letters.size, 60_000);
    const big = dlq.find((m) => m.key === 'five-mb.json');
    expect(big?.value?.length).toBe(fiveMb.length);
  });
});

describe('forged dead-letter headers', () => {
  it('a sender cannot forge dlq-* headers: its own are kept, its dlq-* ones (any case) dropped, only ours written', async () => {
    const topic = unique('forged');
    await createTopic(topic, 1);
    await produceRaw(topic, [
      {
        key: 'forged',
        value: JSON.stringify({ id: 'x', type: 'user_signup', userId: 7 }),
        headers: {
          origin: 'sender',
          'dlq-channel': 'email',
          'dlq-reason': 'delivery-failed',
          'DLQ-Source-Topic': 'payments',
          'Dlq-Detail': 'all fine',
        },
      },
    ]);
    const consumed = await runCli(consumeArgs(topic, unique('g'), ['--drain']), process.env, 60_000);
    expect(consumed.code, consumed.stderr).toBe(0);
    const [letter] = await readTopic(`${topic}.dlq`, 1);
    expect(letter!.headers).toEqual({
      origin: 'sender',
      'dlq-reason': 'schema',
      'dlq-detail': expect.stringMatching(/userId/),
      'dlq-source-topic': topic,
      'dlq-source-partition': '0',
      'dlq-source-offset': '0',
      'dlq-failed-at': expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
  });
});

describe('hostile Redis user fields', () => {
  const SHOWN_NAME = String.raw`\u001b]0;pwned\u0007Mallory\u001b[31m\u202egnp.exe\u200b`;
  it('are printed escaped by `users` and by the console channel', async () => {
    const id = unique('evil');
    await redis.hset(`user:${id}`, {
      name: '\u001b]0;pwned\u0007Mallory\u001b[31m\u202Egnp.exe\u200B',
      email: 'm@example.com\u001b[2J',
    });
    await redis.hset(`prefs:${id}`, { email: 'on', sms: 'off', push: 'off', console: 'on' });
    await redis.sadd('users', id);
    try {
      const users = await runCli(['users', '--redis', redisUrl()]);
      expect(users.code).toBe(0);
      // Shown escaped, never interpreted nor removed: the name reads as what Redis holds.
      const row = users.stdout.split('\n').find((l) => l.startsWith(`${id} `));
      // (the table's NAME column is 24 wide: cut there, with …; --json holds it whole)
      expect(row?.replace(/^\S+\s+/, '').startsWith(`${SHOWN_NAME.slice(0, 23)}…  `), row).toBe(true);
      const json = await runCli(['users', '--json', '--redis', redisUrl()]);
      const line = json.stdout.split('\n').find((l) => l.includes(`"id":"${id}"`));
      expect((JSON.parse(line!) as { profile: { name: string } }).profile.name).toBe(
        '\u001b]0;pwned\u0007Mallory\u001b[31m\u202Egnp.exe\u200B',
      );
      expect(json.stdout).not.toMatch(ESC);
      expect(users.stdout).not.toMatch(ESC);
      const topic = unique('evil');
      await createTopic(topic, 1);
      const e = event('user_signup', id);
      await produceRaw(topic, [{ key: id, value: JSON.stringify(e) }]);
      const consumed = await runCli(consumeArgs(topic, unique('g'), ['--drain']), process.env, 60_000);
      expect(consumed.code).toBe(0);
      expect(consumed.stderr).toContain(`[console] ${SHOWN_NAME}`);
      expect(consumed.stderr).not.toMatch(ESC);
    } finally {
      await removeUsers(redis, [id]);
    }
  });
});

describe('fuzz', () => {
  it('random bytes and random JSON for a bounded time: every message consumed or dead-lettered, no crash', async () => {
    const settings: PipelineSettings = {
      brokers: ['embedded'],
      redisUrl: 'redis://embedded',
      topic: 'fuzz',
      group: 'fuzz',
      partitions: 3,
      fromBeginning: true,
      maxBytes: 64 * 1024,
      latencyMs: 0,
      failureRate: 0,
      dedupeWindowSeconds: 86400,
    };
    const pipeline = new Pipeline(settings, await loadCatalog(), createLogger({ kind: 'silent' }), embeddedBackends());
    const outcomes: Outcome[] = [];
    pipeline.telemetry.subscribe((o) => outcomes.push(o));
    await pipeline.ensureTopics();
    await pipeline.seedIfEmpty();
    await pipeline.startConsumer();
    const producer = await pipeline.log.producer();
    const types = ['user_signup', 'item_purchased', 'password_reset', 'nope', '', '__proto__'];
    const pick = <T>(xs: T[]): T => xs[Math.floor(Math.random() * xs.length)]!;
    const randomValue = (depth = 0): unknown => {
      const r = Math.random();
      if (depth > 4 || r < 0.3)
        return pick([null, true, 42, -1.5, '', 'x'.repeat(Math.floor(Math.random() * 50)), '\u001b[31m', '\u202e']);
      if (r < 0.6) return Array.from({ length: Math.floor(Math.random() * 4) }, () => randomValue(depth + 1));
      return Object.fromEntries(
        Array.from({ length: Math.floor(Math.random() * 4) }, () => [
          pick(['a', 'constructor', 'toString', 'plan', 'code']),
          randomValue(depth + 1),
        ]),
      );
    };
    let sent = 0;
    const deadline = Date.now() + 3_000;
    while (Date.now() < deadline) {
      const messages = Array.from({ length: 50 }, () => {
        const kind = Math.random();
        let value: Buffer;
        if (kind < 0.3) value = randomBytes(Math.floor(Math.random() * 200));
        else if (kind < 0.6) value = Buffer.from(JSON.stringify(randomValue()));
        else
          value = Buffer.from(
            JSON.stringify({
              id: pick([randomUUID(), '', 7]),
              type: pick(types),
              userId: pick(['user-01', 'user-02', 'ghost', '']),
              occurredAt: pick([new Date().toISOString(), 'now', 0]),
              payload: pick([randomValue(), {}, []]),
            }),
          );
        return { key: pick([null, 'k', randomBytes(8).toString('latin1')]), value };
      });
      await producer.send('fuzz', messages);
      sent += messages.length;
      await new Promise((r) => setImmediate(r));
    }
    await waitFor(
      'every fuzz message settled',
      async () => (await pipeline.caughtUp(await pipeline.log.topicOffsets('fuzz'))) || undefined,
      30_000,
    );
    const consumed = outcomes.filter((o) => o.kind === 'consumed').length;
    const dead = outcomes.filter((o) => o.kind === 'deadletter').length;
    process.stdout.write(`[fuzz] ${sent} messages: ${consumed} consumed, ${dead} dead-lettered\n`);
    expect(consumed + dead).toBe(sent);
    expect(outcomes.filter((o) => o.kind === 'error' && o.source === 'consumer')).toEqual([]);
    await pipeline.stop();
  });
});
