/**
 * `dlq list` and `dlq replay` through the real CLI, on the real Kafka and Redis: what a user sees on
 * stdout and stderr, what lands back in the topic, and what the providers sent.
 */
import { spawn } from 'node:child_process';
import { Partitioners } from 'kafkajs';
import { afterAll, describe, expect, it } from 'vitest';
import { binPath, freePort, runCli, waitFor } from '../support/cli.js';
import {
  brokers,
  CliProcess,
  createTopic,
  event,
  newRedis,
  produceEvents,
  produceRaw,
  readOutbox,
  readTopic,
  removeUsers,
  testKafka,
  unique,
  writeUsers,
  type Line,
  type TestUser,
} from '../support/pipeline.js';

const redis = newRedis();
const running: CliProcess[] = [];
const prefix = unique('dlq');
const dana: TestUser = {
  id: `${prefix}-dana`,
  name: 'Dana',
  email: 'dana@example.com',
  phone: '+15550100',
  prefs: { email: 'on', sms: 'on', push: 'off', console: 'off' },
};

afterAll(async () => {
  await Promise.all(running.map((p) => p.stop('SIGKILL')));
  await removeUsers(redis, [dana.id]);
  redis.disconnect();
});

const kafkaFlags = (topic: string): string[] => ['--brokers', brokers(), '--topic', topic];
const dlq = (args: string[]) => runCli(['dlq', ...args]);
const jsonLines = (stdout: string): Line[] =>
  stdout
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as Line);

/** Runs `consume --drain` over what is in the topic now (dead-lettering what fails), and waits for it to exit. */
async function drain(topic: string, group: string, extra: string[] = []): Promise<CliProcess> {
  const p = CliProcess.consume(topic, group, ['--drain', ...extra]);
  running.push(p);
  const exit = await p.exited;
  expect(exit.code, p.stderr).toBe(0);
  return p;
}

describe('dlq replay of a failed delivery', () => {
  it('resends only the letter’s channel once the fault is gone, and a second replay sends nothing twice', async () => {
    const topic = unique('dlq-events');
    const group = unique('dlq-group');
    await createTopic(topic, 1);
    await writeUsers(redis, [dana]);
    const e = event('user_signup', dana.id, { plan: 'pro' });
    await produceEvents(topic, [e]);

    // the senders fail every time: both channels end in the dead-letter topic
    const failing = await drain(topic, group, ['--failure-rate', '1']);
    expect(failing.deliveries({ status: 'failed' }).map((l) => l.channel)).toEqual(
      expect.arrayContaining(['email', 'sms']),
    );
    const listed = await dlq(['list', ...kafkaFlags(topic)]);
    expect(listed.code, listed.stderr).toBe(0);
    const letters = jsonLines(listed.stdout);
    expect(letters.map((l) => l.channel).sort()).toEqual(['email', 'sms']);
    for (const l of letters) {
      expect(l).toMatchObject({
        kind: 'deadletter',
        dlqPartition: 0,
        reason: 'delivery-failed',
        detail: `${String(l.channel)}: ${String(l.channel)} provider rejected the send (simulated failure)`,
        key: dana.id,
        eventId: e.id,
        sourceTopic: topic,
        sourcePartition: 0,
        sourceOffset: '0',
      });
      expect(Date.parse(String(l.failedAt))).toBeGreaterThan(Date.now() - 120_000);
    }
    expect(listed.stderr).toBe(`listed 2 of 2 dead letters in ${topic}.dlq\n`);
    const sms = letters.find((l) => l.channel === 'sms')!;
    const email = letters.find((l) => l.channel === 'email')!;

    // the fault is gone: a healthy consumer of the same group runs; the SMS letter is replayed twice
    const healthy = CliProcess.consume(topic, group);
    running.push(healthy);
    await healthy.waitForAssignment();
    const smsAt = `0:${String(sms.dlqOffset)}`;
    const first = await dlq(['replay', ...kafkaFlags(topic), '--offset', smsAt]);
    expect(first.code, first.stderr).toBe(0);
    expect(jsonLines(first.stdout)).toEqual([
      {
        kind: 'replayed',
        dlqPartition: 0,
        dlqOffset: sms.dlqOffset,
        reason: 'delivery-failed',
        channel: 'sms',
        key: dana.id,
        eventId: e.id,
        sourceTopic: topic,
        replayedFrom: `${topic}.dlq/0/${String(sms.dlqOffset)}`,
      },
    ]);
    expect(first.stderr).toBe(`replayed 1 dead letter from ${topic}.dlq to ${topic} (delivery-failed 1)\n`);
    await healthy.waitForLines('the replayed SMS sent', () => healthy.deliveries({ channel: 'sms' }).length >= 1);
    const second = await dlq(['replay', ...kafkaFlags(topic), '--offset', smsAt]);
    expect(second.code, second.stderr).toBe(0);
    await healthy.waitForLines('the second replay settled', () => healthy.deliveries({ channel: 'sms' }).length >= 2);

    const outcome = (channel: string): string[] =>
      healthy.deliveries({ eventId: e.id, channel }).map((l) => `${String(l.status)} ${String(l.reason)}`);
    expect(outcome('sms')).toEqual(['sent null', 'duplicate already-sent']);
    // email failed too, but this was the SMS letter: email is left for its own letter
    expect(outcome('email')).toEqual(['skipped not-replayed', 'skipped not-replayed']);
    const smsOutbox = (await readOutbox(redis, 'sms')).filter((m) => m.event === e.id);
    expect(smsOutbox.map((m) => [m.event, m.to])).toEqual([[e.id, dana.phone]]);
    expect((await readOutbox(redis, 'email')).filter((m) => m.event === e.id)).toEqual([]);

    // what went back to the topic: the original bytes and headers, no dlq-* header, where it came from
    const inTopic = await readTopic(topic, 3);
    for (const replayed of inTopic.slice(1)) {
      expect(replayed.key).toBe(dana.id);
      expect(replayed.value?.toString()).toBe(JSON.stringify(e));
      expect(replayed.headers).toEqual({
        'event-type': 'user_signup',
        'replayed-from': `${topic}.dlq/0/${String(sms.dlqOffset)}`,
        'replay-channel': 'sms',
      });
    }

    // the email letter's turn: email is sent once, the SMS comes back a duplicate
    const third = await dlq(['replay', ...kafkaFlags(topic), '--offset', `0:${String(email.dlqOffset)}`]);
    expect(third.code, third.stderr).toBe(0);
    await healthy.waitForLines('the replayed email sent', () => outcome('email').length >= 3);
    expect(outcome('email')[2]).toBe('sent null');
    expect(outcome('sms')[2]).toBe('duplicate already-sent');
    expect((await readOutbox(redis, 'email')).filter((m) => m.event === e.id)).toHaveLength(1);
  });
});

describe('dlq list', () => {
  const topic = unique('dlq-list');
  // bytes a terminal would act on, a bidi override, a line break and invalid UTF-8, in the key
  const hostileKey = Buffer.concat([
    Buffer.from('evil\u001b]0;pwned\u0007\u202e\n'),
    Buffer.from([0xff, 0xfe]),
    Buffer.from('\u2028end'),
  ]);
  const letters = async (args: string[]): Promise<{ lines: Line[]; stderr: string }> => {
    const result = await dlq(['list', ...kafkaFlags(topic), ...args]);
    expect(result.code, result.stderr).toBe(0);
    // no control, bidi or invisible character reaches the terminal raw (they are escaped), and each line is JSON
    expect(result.stdout).not.toMatch(
      /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/,
    );
    return { lines: jsonLines(result.stdout), stderr: result.stderr };
  };

  it('prints each letter as escaped JSON; --reason filters; --limit keeps the newest', async () => {
    await createTopic(topic, 1);
    await produceRaw(topic, [
      { key: 'j0', value: '{"id":' },
      { key: 'j1', value: 'not json' },
      { key: 't2', value: JSON.stringify(event('no_such_type', dana.id)) },
      { key: 'j3', value: '[' },
      { key: 't4', value: JSON.stringify(event('no_such_type', dana.id)) },
      { key: hostileKey, value: Buffer.from([0xc3, 0x28]), headers: { note: '\u001b[2J' } },
    ]);
    await drain(topic, unique('dlq-group'));

    const all = await letters([]);
    expect(all.lines.map((l) => [l.sourceOffset, l.reason])).toEqual([
      ['0', 'invalid-json'],
      ['1', 'invalid-json'],
      ['2', 'unknown-type'],
      ['3', 'invalid-json'],
      ['4', 'unknown-type'],
      ['5', 'invalid-utf8'],
    ]);
    expect(all.lines[5]!.key).toBe(hostileKey.toString('utf8'));
    expect(all.lines[5]!.channel).toBeNull();
    expect(all.stderr).toBe(`listed 6 of 6 dead letters in ${topic}.dlq\n`);

    const invalid = await letters(['--reason', 'invalid-json']);
    expect(invalid.lines.map((l) => l.key)).toEqual(['j0', 'j1', 'j3']);
    expect(invalid.stderr).toBe(`listed 3 of 6 dead letters in ${topic}.dlq (reason invalid-json)\n`);
    expect((await letters(['--limit', '2'])).lines.map((l) => l.sourceOffset)).toEqual(['4', '5']);
    expect((await letters(['--reason', 'invalid-json', '--limit', '2'])).lines.map((l) => l.key)).toEqual(['j1', 'j3']);
    expect((await letters(['--reason', 'too-large'])).lines).toEqual([]);

    // replay --all --reason: only those letters, back to the topic with their original bytes and headers
    const replayed = await dlq(['replay', ...kafkaFlags(topic), '--all', '--reason', 'unknown-type']);
    expect(replayed.code, replayed.stderr).toBe(0);
    expect(jsonLines(replayed.stdout).map((l) => [l.key, l.replayedFrom])).toEqual([
      ['t2', `${topic}.dlq/0/2`],
      ['t4', `${topic}.dlq/0/4`],
    ]);
    expect(replayed.stderr).toBe(`replayed 2 dead letters from ${topic}.dlq to ${topic} (unknown-type 2)\n`);
    const hostile = await dlq(['replay', ...kafkaFlags(topic), '--offset', '0:5']);
    expect(hostile.code, hostile.stderr).toBe(0);
    expect(hostile.stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u202e\u2028]/);
    const back = (await readTopic(topic, 9)).slice(6);
    expect(back.map((m) => [m.key, m.headers])).toEqual([
      ['t2', { 'replayed-from': `${topic}.dlq/0/2` }],
      ['t4', { 'replayed-from': `${topic}.dlq/0/4` }],
      [hostileKey.toString(), { note: '\u001b[2J', 'replayed-from': `${topic}.dlq/0/5` }],
    ]);
    expect(back[2]!.value).toEqual(Buffer.from([0xc3, 0x28]));
  });

  it('stops at the end offsets it found at the start while letters keep coming', async () => {
    const busy = unique('dlq-busy');
    await createTopic(busy, 3);
    const producer = testKafka().producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    let written = 0;
    let writing = true;
    const writer = (async () => {
      while (writing) {
        await producer.send({
          topic: `${busy}.dlq`,
          messages: Array.from({ length: 20 }, (_, i) => ({
            key: `k${written + i}`,
            value: 'x',
            headers: { 'dlq-reason': 'schema', 'dlq-source-topic': busy },
          })),
        });
        written += 20;
      }
    })();
    try {
      await waitFor('letters being written', () => written >= 200);
      const result = await dlq(['list', ...kafkaFlags(busy)]);
      expect(result.code, result.stderr).toBe(0);
      const count = jsonLines(result.stdout).length;
      expect(result.stderr).toBe(`listed ${count} of ${count} dead letters in ${busy}.dlq\n`);
      const writtenBy = written;
      await waitFor('more letters after the listing', () => written > writtenBy + 100);
      expect(count).toBeGreaterThanOrEqual(200);
      expect(count).toBeLessThan(written);
    } finally {
      writing = false;
      await writer;
      await producer.disconnect();
    }
  });

  it('dlq list | head: a reader that goes away ends the listing with exit 0 and no trace', async () => {
    const many = unique('dlq-many');
    await createTopic(many, 1);
    const value = 'x'.repeat(200);
    const headers = { 'dlq-reason': 'schema', 'dlq-detail': 'd', 'dlq-source-topic': many };
    for (let i = 0; i < 3; i++) {
      await produceRaw(
        `${many}.dlq`,
        Array.from({ length: 1000 }, (_, j) => ({ key: `k${i}-${j}`, value, headers })),
      );
    }
    const child = spawn(process.execPath, [binPath, 'dlq', 'list', ...kafkaFlags(many)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.stdout.once('data', () => child.stdout.destroy());
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect([code, stderr]).toEqual([0, '']);
  });

  it('says so when the dead-letter topic is empty or missing', async () => {
    const empty = unique('dlq-empty');
    await createTopic(empty, 2);
    const listed = await dlq(['list', ...kafkaFlags(empty)]);
    expect([listed.code, listed.stdout, listed.stderr]).toEqual([
      0,
      '',
      `no dead letters in ${empty}.dlq: the topic is empty\n`,
    ]);
    const replayAll = await dlq(['replay', ...kafkaFlags(empty), '--all']);
    expect([replayAll.code, replayAll.stdout, replayAll.stderr]).toEqual([
      0,
      '',
      `replayed no dead letters from ${empty}.dlq\n`,
    ]);
    const replayNone = await dlq(['replay', ...kafkaFlags(empty), '--offset', '1:5']);
    expect([replayNone.code, replayNone.stdout, replayNone.stderr]).toEqual([
      1,
      '',
      `error: ${empty}.dlq/1/5 does not exist (partition 1 holds nothing)\n`,
    ]);

    const missing = unique('dlq-missing');
    for (const sub of [['list'], ['replay', '--all']]) {
      const result = await dlq([...sub, ...kafkaFlags(missing)]);
      expect(result.code).toBe(1);
      expect(result.stdout).toBe('');
      expect(result.stderr).toMatch(
        new RegExp(
          `^error: there is no dead-letter topic ${missing}\\.dlq: nothing was ever dead-lettered from ${missing}, or --topic names another topic \\(dead-letter topics here: .*\\)\\n$`,
        ),
      );
    }
  });

  it('names an unreachable Kafka and exits 1', async () => {
    const result = await dlq(['list', '--brokers', `127.0.0.1:${await freePort()}`]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^error: Kafka at 127\.0\.0\.1:\d+ does not answer/);
  });
});

describe('dlq: every reason the consumer writes; replay only to the events topic', () => {
  /** A letter as the consumer writes it, written with kafkajs straight into `<topic>.dlq`. */
  const letterFor = (key: string, reason: string, sourceTopic: string) => ({
    key,
    value: JSON.stringify(event('user_signup', dana.id)),
    headers: {
      'event-type': 'user_signup',
      'dlq-reason': reason,
      'dlq-detail': `${reason}: written by the test`,
      'dlq-source-topic': sourceTopic,
      'dlq-source-partition': '0',
      'dlq-source-offset': '0',
      'dlq-failed-at': new Date().toISOString(),
    },
  });
  const held = async (topic: string): Promise<number> => {
    const admin = testKafka().admin();
    await admin.connect();
    try {
      return (await admin.fetchTopicOffsets(topic)).reduce((n, o) => n + Number(o.high) - Number(o.low), 0);
    } finally {
      await admin.disconnect();
    }
  };

  it('dlq list and replay --all take --reason store-error (exit 0)', async () => {
    const topic = unique('dlq-store');
    await createTopic(topic, 1);
    await produceRaw(`${topic}.dlq`, [letterFor('s0', 'store-error', topic), letterFor('s1', 'schema', topic)]);
    const listed = await dlq(['list', ...kafkaFlags(topic), '--reason', 'store-error']);
    expect(listed.code, listed.stderr).toBe(0);
    expect(jsonLines(listed.stdout).map((l) => [l.key, l.reason])).toEqual([['s0', 'store-error']]);
    expect(listed.stderr).toContain(`listed 1 of 2 dead letters in ${topic}.dlq (reason store-error)\n`);
    const replayed = await dlq(['replay', ...kafkaFlags(topic), '--all', '--reason', 'store-error']);
    expect(replayed.code, replayed.stderr).toBe(0);
    expect(jsonLines(replayed.stdout).map((l) => l.replayedFrom)).toEqual([`${topic}.dlq/0/0`]);
    expect(await held(topic)).toBe(1);
  });

  it('refuses a letter whose dlq-source-topic names another topic, naming its offset and that topic (exit 1)', async () => {
    const topic = unique('dlq-foreign');
    const other = unique('other-app');
    await createTopic(topic, 1);
    await createTopic(other, 1);
    await produceRaw(`${topic}.dlq`, [
      letterFor('ours', 'schema', topic),
      letterFor('loop', 'schema', `${topic}.dlq`),
      letterFor('theirs', 'schema', other),
    ]);
    const all = await dlq(['replay', ...kafkaFlags(topic), '--all']);
    expect(all.code).toBe(1);
    expect(jsonLines(all.stdout).map((l) => l.key)).toEqual(['ours']);
    expect(all.stderr).toContain(
      `not replayed ${topic}.dlq/0/1: its dlq-source-topic names topic ${topic}.dlq, not the events topic ${topic}`,
    );
    expect(all.stderr).toContain(
      `not replayed ${topic}.dlq/0/2: its dlq-source-topic names topic ${other}, not the events topic ${topic}`,
    );
    expect(all.stderr).toMatch(
      new RegExp(
        `replayed 1 dead letter from ${topic}\\.dlq to ${topic} \\(schema 1\\); 2 dead letters not replayed\\n$`,
      ),
    );
    const one = await dlq(['replay', ...kafkaFlags(topic), '--offset', '0:2']);
    expect([one.code, one.stdout]).toEqual([1, '']);
    expect(one.stderr).toContain(`not replayed ${topic}.dlq/0/2: its dlq-source-topic names topic ${other}`);
    // nothing reached the other application's topic, nor the dead-letter topic; one letter reached ours
    expect([await held(topic), await held(other), await held(`${topic}.dlq`)]).toEqual([1, 0, 3]);
  });
});

describe('dlq usage errors', () => {
  it.each([
    [['list', '--limit', '0'], /--limit must be a whole number above 0, not "0"/],
    [['list', '--limit', 'ten'], /--limit must be a whole number above 0, not "ten"/],
    [['list', '--reason', 'bogus'], /argument 'bogus' is invalid\. Allowed choices are no-value, too-large/],
    [['list', '--brokers', 'nohost'], /broker "nohost" is not host:port/],
    [['replay'], /name the letters to replay: --offset <partition>:<offset>\.\.\. or --all/],
    [['replay', '--offset', '7'], /--offset takes <partition>:<offset> \(for example 0:42\), not "7"/],
    [
      ['replay', '--offset', '0:1', '--all'],
      /option '--offset <partition:offset\.\.\.>' cannot be used with option '--all'/,
    ],
    [['replay', '--all', '--reason', 'late'], /Allowed choices are/],
    [['lst'], /unknown command 'lst'/],
  ])('dlq %j: usage on stderr, exit 2, nothing on stdout', async (args, message) => {
    const result = await dlq(args);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).toMatch(/Usage: eventstream-tui dlq/);
    expect([result.code, result.stdout]).toEqual([2, '']);
  });
});
