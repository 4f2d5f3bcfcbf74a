/** Reading the dead-letter topic back and replaying it, on the embedded log (the same port as Kafka's). */
import { readFileSync } from 'node:fs';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { embeddedBackends, Pipeline } from '../../src/app/runtime.js';
import { inspectSource } from '../../src/cli/dashboard/inspect.js';
import { dlqCommand } from '../../src/cli/dlq-command.js';
import { loadCatalog } from '../../src/domain/catalog.js';
import { createLogger } from '../../src/log/logger.js';
import { Collector } from '../../src/telemetry/collector.js';
import { MemoryEventLog } from '../../src/adapters/memory/event-log.js';
import { DeadLetterTopic } from '../../src/pipeline/dead-letter-topic.js';
import {
  DeadLetterReader,
  DeadLetterTopicMissingError,
  LetterNotFoundError,
  replayDeadLetters,
  replayMessage,
  type DeadLetterRecord,
} from '../../src/pipeline/dead-letters.js';
import { LETTER_REASONS, type DeadLetter, type LetterReason, type RawMessage } from '../../src/pipeline/ports.js';
import { jsonLine } from '../../src/text/json-line.js';

const TOPIC = 'events';
const DLQ = 'events.dlq';

function message(offset: number, value: string, headers: RawMessage['headers'] = {}): RawMessage {
  return {
    key: Buffer.from(`user-${offset}`),
    value: Buffer.from(value),
    headers,
    offset: String(offset),
    timestamp: '0',
  };
}

async function logWithLetters(letters: DeadLetter[], partitions = 1): Promise<MemoryEventLog> {
  const log = new MemoryEventLog();
  await log.ensureTopics([TOPIC, DLQ], partitions);
  await new DeadLetterTopic(await log.producer(), DLQ).send(letters);
  return log;
}

const letter = (offset: number, reason: DeadLetter['reason'], channel?: string): DeadLetter => ({
  message: message(offset, `{"n":${offset}}`, { 'event-type': 'user_signup' }),
  reason,
  detail: `${reason} at ${offset}`,
  sourceTopic: TOPIC,
  partition: 0,
  ...(channel ? { channel } : {}),
});

const collect = async (reader: DeadLetterReader, options = {}): Promise<DeadLetterRecord[]> => {
  const out: DeadLetterRecord[] = [];
  await reader.list(options, (l) => out.push(l));
  return out;
};

describe('the dead-letter reasons: one list', () => {
  it('the reasons the consumer writes, the ones dlq list|replay --reason accept and docs/contracts.md lists are the same', () => {
    expectTypeOf<DeadLetter['reason']>().toEqualTypeOf<LetterReason>();
    expectTypeOf<LetterReason>().toEqualTypeOf<(typeof LETTER_REASONS)[number]>();
    expect(LETTER_REASONS).toContain('store-error');
    const choices = (sub: string): readonly string[] | undefined =>
      dlqCommand()
        .commands.find((c) => c.name() === sub)
        ?.options.find((o) => o.long === '--reason')?.argChoices;
    expect(choices('list')).toEqual([...LETTER_REASONS]);
    expect(choices('replay')).toEqual([...LETTER_REASONS]);
    const contracts = readFileSync(new URL('../../docs/contracts.md', import.meta.url), 'utf8');
    const listed = /`dlq-reason` \(([^)]*)\)/.exec(contracts)?.[1];
    expect(listed?.split(',').map((r) => r.trim().replace(/`/g, ''))).toEqual([...LETTER_REASONS]);
  });
});

describe('the dead-letter reader', () => {
  it('reads each letter with why it failed and where it came from', async () => {
    const log = await logWithLetters([letter(7, 'delivery-failed', 'sms'), letter(8, 'invalid-json')]);
    const [failed, invalid] = await collect(new DeadLetterReader(log, DLQ));
    expect(failed).toMatchObject({
      dlqTopic: DLQ,
      dlqPartition: 0,
      dlqOffset: '0',
      reason: 'delivery-failed',
      detail: 'delivery-failed at 7',
      channel: 'sms',
      sourceTopic: TOPIC,
      sourcePartition: 0,
      sourceOffset: '7',
    });
    expect(failed!.key?.toString()).toBe('user-7');
    expect(failed!.value?.toString()).toBe('{"n":7}');
    expect(Date.parse(failed!.failedAt!)).toBeGreaterThan(0);
    expect(invalid).toMatchObject({ dlqOffset: '1', reason: 'invalid-json', channel: null, sourceOffset: '8' });
  });

  it('filters by reason and keeps the newest --limit, oldest first', async () => {
    const reasons: DeadLetter['reason'][] = ['schema', 'invalid-json', 'schema', 'schema', 'invalid-json', 'schema'];
    const log = await logWithLetters(reasons.map((r, i) => letter(i, r)));
    const reader = new DeadLetterReader(log, DLQ);
    expect((await collect(reader, { reason: 'schema' })).map((l) => l.sourceOffset)).toEqual(['0', '2', '3', '5']);
    expect((await collect(reader, { limit: 2 })).map((l) => l.sourceOffset)).toEqual(['4', '5']);
    expect((await collect(reader, { reason: 'invalid-json', limit: 1 })).map((l) => l.sourceOffset)).toEqual(['4']);
    expect(await collect(reader, { reason: 'too-large' })).toEqual([]);
    expect(await reader.list({ limit: 10 }, () => undefined)).toEqual({ inTopic: 6, read: 6, listed: 6 });
  });

  it('stops at the end offsets it found at the start, while letters keep coming', async () => {
    const log = await logWithLetters([letter(0, 'schema'), letter(1, 'schema')]);
    const sink = new DeadLetterTopic(await log.producer(), DLQ);
    const seen: string[] = [];
    const summary = await new DeadLetterReader(log, DLQ).list({}, (l) => {
      seen.push(l.sourceOffset!);
      void sink.send([letter(100 + seen.length, 'schema')]);
    });
    expect(seen).toEqual(['0', '1']);
    expect(summary.inTopic).toBe(2);
  });

  it('says when the topic is missing, naming the dead-letter topics that exist', async () => {
    const log = await logWithLetters([]);
    const error = await new DeadLetterReader(log, 'other.dlq').offsets().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeadLetterTopicMissingError);
    expect((error as Error).message).toBe(
      'there is no dead-letter topic other.dlq: nothing was ever dead-lettered from other, or --topic names another topic (dead-letter topics here: events.dlq)',
    );
  });

  it('finds letters by position, and refuses positions that hold none, naming what the partition holds', async () => {
    const log = await logWithLetters([letter(0, 'schema'), letter(1, 'invalid-json'), letter(2, 'schema')]);
    const reader = new DeadLetterReader(log, DLQ);
    const found = await reader.at([
      { partition: 0, offset: '2' },
      { partition: 0, offset: '0' },
    ]);
    expect(found.map((l) => l.sourceOffset)).toEqual(['2', '0']);
    const error = await reader
      .at([
        { partition: 0, offset: '3' },
        { partition: 4, offset: '0' },
      ])
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LetterNotFoundError);
    expect((error as Error).message).toBe(
      'events.dlq/0/3 does not exist (partition 0 holds offsets 0..2); events.dlq has no partition 4',
    );
  });
});

describe('a replay', () => {
  it('sends the original key, value and headers without dlq-* ones, with replayed-from and the failed channel', async () => {
    const log = await logWithLetters([letter(7, 'delivery-failed', 'sms'), letter(8, 'unknown-type')]);
    const [failed, unknown] = await collect(new DeadLetterReader(log, DLQ));
    const replayed = replayMessage(failed!);
    expect(replayed.key?.toString()).toBe('user-7');
    expect(replayed.value?.toString()).toBe('{"n":7}');
    expect(Object.keys(replayed.headers!).sort()).toEqual(['event-type', 'replay-channel', 'replayed-from']);
    expect(String(replayed.headers!['replayed-from'])).toBe('events.dlq/0/0');
    expect(String(replayed.headers!['replay-channel'])).toBe('sms');
    expect(String(replayed.headers!['event-type'])).toBe('user_signup');
    // a letter that is not a failed delivery is replayed whole: no channel to pick
    expect(Object.keys(replayMessage(unknown!).headers!).sort()).toEqual(['event-type', 'replayed-from']);
  });

  it('goes to the events topic; a letter replayed and dead-lettered again carries one replayed-from', async () => {
    const log = await logWithLetters([letter(7, 'schema')]);
    const [first] = await collect(new DeadLetterReader(log, DLQ));
    const summary = await replayDeadLetters(await log.producer(), [first!], { to: TOPIC });
    expect(summary.replayed).toHaveLength(1);
    const ends = await log.topicOffsets(TOPIC);
    const back: RawMessage[] = [];
    await log.readRanges(TOPIC, [{ partition: 0, from: '0', to: ends[0]!.high }], (b) => void back.push(...b.messages));
    expect(back).toHaveLength(1);
    expect(String(back[0]!.headers!['replayed-from'])).toBe('events.dlq/0/0');
    // the consumer dead-letters it again: its replay names the newer letter only
    await new DeadLetterTopic(await log.producer(), DLQ).send([
      { message: back[0]!, reason: 'schema', detail: 'again', sourceTopic: TOPIC, partition: 0 },
    ]);
    const second = (await collect(new DeadLetterReader(log, DLQ)))[1]!;
    expect(String(replayMessage(second).headers!['replayed-from'])).toBe('events.dlq/0/1');
  });

  it('skips a letter whose source topic is unknown or gone, and says why', async () => {
    const log = await logWithLetters([letter(1, 'schema')]);
    const [l] = await collect(new DeadLetterReader(log, DLQ));
    const gone = await replayDeadLetters(await log.producer(), [l!], { to: TOPIC, topicExists: () => false });
    expect(gone.skipped.map((s) => s.why)).toEqual(['its source topic events does not exist']);
    const anonymous = await replayDeadLetters(await log.producer(), [{ ...l!, sourceTopic: null }], { to: TOPIC });
    expect(anonymous.skipped.map((s) => s.why)).toEqual(['no dlq-source-topic header: where it came from is unknown']);
  });
});

describe('a replay goes only to the events topic', () => {
  it('refuses a letter whose dlq-source-topic names another topic (the dead-letter topic itself, another app’s), sending nothing there', async () => {
    const log = await logWithLetters([letter(1, 'schema'), letter(2, 'schema'), letter(3, 'schema')]);
    await log.ensureTopics(['other-app'], 1);
    const [ours, selfLoop, foreign] = await collect(new DeadLetterReader(log, DLQ));
    const summary = await replayDeadLetters(
      await log.producer(),
      [ours!, { ...selfLoop!, sourceTopic: DLQ }, { ...foreign!, sourceTopic: 'other-app' }],
      { to: TOPIC },
    );
    expect(summary.replayed.map((l) => l.dlqOffset)).toEqual(['0']);
    expect(summary.skipped.map((s) => `${s.letter.dlqOffset}: ${s.why}`)).toEqual([
      '1: its dlq-source-topic names topic events.dlq, not the events topic events: a replay goes only to the events topic (--topic)',
      '2: its dlq-source-topic names topic other-app, not the events topic events: a replay goes only to the events topic (--topic)',
    ]);
    const held = async (topic: string): Promise<bigint> =>
      (await log.topicOffsets(topic)).reduce((n, e) => n + BigInt(e.high) - BigInt(e.low), 0n);
    expect([await held(TOPIC), await held('other-app'), await held(DLQ)]).toEqual([1n, 0n, 3n]);
  });
  it('the dashboard’s replay key obeys the same rule: the letter is refused, naming it and the topic', async () => {
    const settings = {
      brokers: ['embedded'],
      redisUrl: 'redis://embedded',
      topic: TOPIC,
      group: 'g',
      partitions: 1,
      fromBeginning: true,
      maxBytes: 1024 * 1024,
      latencyMs: 0,
      failureRate: 0,
      dedupeWindowSeconds: 86400,
    };
    const pipeline = new Pipeline(settings, await loadCatalog(), createLogger({ kind: 'silent' }), embeddedBackends());
    try {
      await pipeline.ensureTopics();
      await pipeline.log.ensureTopics(['other-app'], 1);
      await new DeadLetterTopic(await pipeline.log.producer(), DLQ).send([
        { ...letter(1, 'schema'), sourceTopic: 'other-app' },
        letter(2, 'schema'),
      ]);
      const source = inspectSource(pipeline, new Collector());
      await expect(source.replay({ partition: 0, offset: '0' })).rejects.toThrow(
        'events.dlq/0/0: its dlq-source-topic names topic other-app, not the events topic events',
      );
      await expect(source.replay({ partition: 0, offset: '1' })).resolves.toBe(
        'replayed events.dlq/0/1 (schema) to events',
      );
      const held = async (topic: string): Promise<bigint> =>
        (await pipeline.log.topicOffsets(topic)).reduce((n, e) => n + BigInt(e.high) - BigInt(e.low), 0n);
      expect([await held(TOPIC), await held('other-app')]).toEqual([1n, 0n]);
    } finally {
      await pipeline.stop();
    }
  });
});

describe('jsonLine', () => {
  it('escapes what a terminal would act on, and parses back to the same value', () => {
    const hostile = 'a\u001b]0;pwned\u0007b\u202e\u200b\u2028\u0085\ud800c\u007f';
    const line = jsonLine({ s: hostile });
    expect(line.endsWith('\n')).toBe(true);
    expect(line.slice(0, -1)).toMatch(/^[\x20-\x7e]+$/);
    expect((JSON.parse(line) as { s: string }).s).toBe(hostile);
  });
});
