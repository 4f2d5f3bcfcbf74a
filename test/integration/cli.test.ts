/** The pipeline's subcommands as a user types them. */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { dedupeGeneration, ledgerKey } from '../../src/adapters/redis/keys.js';
import { binPath, runCli, waitFor } from '../support/cli.js';
import {
  brokers,
  CliProcess,
  committedOffsets,
  createTopic,
  newRedis,
  produceEvents,
  event,
  readTopic,
  redisUrl,
  testKafka,
  unique,
} from '../support/pipeline.js';

const redis = newRedis();
const conn = (): string[] => ['--brokers', brokers(), '--redis', redisUrl()];

afterAll(() => {
  redis.disconnect();
});

/** Nothing was started: the topic was never created. */
async function expectNoTopic(topic: string): Promise<void> {
  const admin = testKafka().admin();
  await admin.connect();
  try {
    expect(await admin.listTopics()).not.toContain(topic);
  } finally {
    await admin.disconnect();
  }
}

describe('seed, users, prefs', () => {
  it('seed writes 24 sample users, never overwrites a changed preference, and --reset rewrites it', async () => {
    const first = await runCli(['seed', '--redis', redisUrl()]);
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/^24 sample users: \d+ fields written, \d+ kept as they were\n$/);
    expect(await redis.scard('users')).toBeGreaterThanOrEqual(24);
    // user-05's sample SMS preference is off; someone turns it on
    const set = await runCli(['prefs', 'set', 'user-05', 'sms', 'on', '--redis', redisUrl()]);
    expect(set.code).toBe(0);
    expect(JSON.parse(set.stdout)).toMatchObject({ userId: 'user-05', prefs: { sms: 'on' } });
    await runCli(['seed', '--redis', redisUrl()]);
    expect(await redis.hget('prefs:user-05', 'sms')).toBe('on');
    const reset = await runCli(['seed', '--reset', '--redis', redisUrl()]);
    expect(reset.stdout).toMatch(/\(reset\)/);
    expect(await redis.hget('prefs:user-05', 'sms')).toBe('off');
  });

  it('users lists every user with their channel states', async () => {
    const result = await runCli(['users', '--redis', redisUrl()]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^USER\s+NAME\s+EMAIL\s+SMS\s+PUSH\s+CONSOLE\s+WEBHOOK$/m);
    expect(result.stdout).toMatch(/^user-01\s+Ada Lovelace\s+on\s+off\s+off\s+on\s+off$/m);
    expect(result.stdout).toMatch(/^user-03\s+Grace Hopper\s+on\s+off\*\s+on\s+off\s+off$/m);
  });

  it('prefs get prints JSON, and refuses an unknown channel or value with exit 2', async () => {
    const got = await runCli(['prefs', 'get', 'user-02', '--redis', redisUrl()]);
    // Today's keys as they were; the rules beside them (test/integration/prefs-rules.test.ts).
    expect(JSON.parse(got.stdout)).toMatchObject({
      userId: 'user-02',
      prefs: { email: 'on', sms: 'on', push: 'on', console: 'off' },
      tz: 'UTC',
      windows: [],
    });
    const badChannel = await runCli(['prefs', 'set', 'user-02', 'fax', 'on', '--redis', redisUrl()]);
    expect(badChannel.code).toBe(2);
    expect(badChannel.stderr).toMatch(/unknown field "fax": a channel \(email, sms, push, console, webhook\)/);
    const badValue = await runCli(['prefs', 'set', 'user-02', 'sms', 'maybe', '--redis', redisUrl()]);
    expect(badValue.code).toBe(2);
    const missing = await runCli(['prefs', 'get', 'no-such-user', '--redis', redisUrl()]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/no user "no-such-user"/);
  });

  it('prefs set refuses a user that does not exist as prefs get does (exit 1), writing nothing', async () => {
    const user = unique('no-such-user');
    const result = await runCli(['prefs', 'set', user, 'sms', 'on', '--redis', redisUrl()]);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`error: no user "${user}" (hash user:${user} does not exist)\n`);
    expect(result.stdout).toBe('');
    expect(await redis.exists(`prefs:${user}`)).toBe(0);
  });
});

describe('produce', () => {
  it('produces --count events of --type for --user, keyed by user id with the event-type header', async () => {
    const topic = unique('events');
    await createTopic(topic);
    const result = await runCli([
      'produce',
      ...conn(),
      '--topic',
      topic,
      '--type',
      'item_purchased',
      '--user',
      'user-04',
      '--count',
      '3',
    ]);
    expect(result.code).toBe(0);
    const lines = result.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(3);
    expect(lines.every((l) => l.kind === 'produced' && l.type === 'item_purchased' && l.userId === 'user-04')).toBe(
      true,
    );
    const messages = await readTopic(topic, 3);
    for (const m of messages) {
      expect(m.key).toBe('user-04');
      expect(m.headers['event-type']).toBe('item_purchased');
      const value = JSON.parse(m.value!.toString()) as Record<string, unknown>;
      expect(Object.keys(value).sort()).toEqual(['id', 'occurredAt', 'payload', 'type', 'userId']);
      expect(value.payload).toMatchObject({ item: expect.any(String), amount: expect.any(Number) });
    }
  });

  it('refuses an unknown event type, naming the known ones', async () => {
    const result = await runCli(['produce', ...conn(), '--topic', unique('events'), '--type', 'rocket_launch']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/unknown event type "rocket_launch"; known: .*user_signup/);
  });
});

describe('produce --user, --type: the envelope’s rules', () => {
  it.each([
    ['--user ""', ['--user', ''], '--user must be at least 1 character (it is empty)'],
    ['--user <300 characters>', ['--user', 'u'.repeat(300)], '--user must be at most 200 characters (it has 300)'],
    ['--type ""', ['--type', ''], '--type must be at least 1 character (it is empty)'],
  ])('produce %s is a usage error (exit 2, the help printed), producing nothing', async (_, flags, message) => {
    const topic = unique('events');
    const result = await runCli(['produce', ...conn(), '--topic', topic, ...flags]);
    expect([result.code, result.stdout]).toEqual([2, '']);
    expect(result.stderr).toContain(`error: ${message}\n`);
    expect(result.stderr).toMatch(/Usage: eventstream-tui produce/);
    await expectNoTopic(topic);
  });

  it('a user id of 200 characters, the envelope’s limit, is produced as given', async () => {
    const topic = unique('events');
    await createTopic(topic, 1);
    const user = 'u'.repeat(200);
    const result = await runCli(['produce', ...conn(), '--topic', topic, '--user', user, '--type', 'user_signup']);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ kind: 'produced', userId: user });
    const [message] = await readTopic(topic, 1);
    expect(message!.key).toBe(user);
  });
});

describe('produce stopped by a signal', () => {
  /** The events the topic holds: the sum of its partitions' end offsets (a fresh topic starts at 0). */
  async function endOffsets(topic: string): Promise<number> {
    const admin = testKafka().admin();
    await admin.connect();
    try {
      return (await admin.fetchTopicOffsets(topic)).reduce((n, o) => n + Number(o.high), 0);
    } finally {
      await admin.disconnect();
    }
  }

  it('a signal during the set-up (a broker slow to answer) stops it at once: exit 0, nothing produced', async () => {
    // A broker that takes the connection and never answers: the set-up waits on it.
    const sockets: net.Socket[] = [];
    const server = net.createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    const p = new CliProcess(['produce', '--brokers', `127.0.0.1:${port}`, '--redis', redisUrl(), '--count', '5']);
    try {
      await waitFor('produce to reach the broker', () => sockets.length > 0, 30_000);
      p.child.kill('SIGINT');
      expect(await p.exited, p.stderr).toEqual({ code: 0, signal: null });
      expect(p.lines).toEqual([]);
    } finally {
      await p.stop('SIGKILL');
      for (const socket of sockets) socket.destroy();
      server.close();
    }
  });

  it.each([
    ['--count', '1000000'],
    ['--rate', '20000'],
  ])(
    'produce %s %s: SIGINT mid-way prints every event Kafka acknowledged (stdout lines = end offsets), exit 0 (or 3 and the file)',
    async (flag, value) => {
      const topic = unique('events');
      await createTopic(topic);
      const dir = mkdtempSync(path.join(os.tmpdir(), 'etui-produce-sigint-'));
      const p = new CliProcess(['produce', ...conn(), '--topic', topic, flag, value], {}, dir);
      try {
        await p.waitForLines('the first produced events on stdout', (lines) => lines.length > 0, 60_000);
        p.child.kill('SIGINT');
        const exit = await p.exited;
        const produced = p.lines.filter((l) => l.kind === 'produced');
        expect(produced).toHaveLength(p.lines.length);
        expect(new Set(produced.map((l) => l.eventId)).size).toBe(produced.length);
        // stopped mid-way, not at the end of the count
        expect(produced.length).toBeLessThan(1_000_000);
        const inKafka = await endOffsets(topic);
        expect([0, 3], p.stderr).toContain(exit.code);
        if (exit.code === 0) {
          expect(produced.length).toBe(inKafka);
        } else {
          // the rest were listed in the file: what Kafka holds lies between what was printed and both together
          const file = /written to (\S+\.jsonl)/.exec(p.stderr)?.[1];
          expect(file, p.stderr).toBeDefined();
          const listed = readFileSync(file!, 'utf8').trim().split('\n').length;
          expect(inKafka).toBeGreaterThanOrEqual(produced.length);
          expect(inKafka).toBeLessThanOrEqual(produced.length + listed);
        }
      } finally {
        await p.stop('SIGKILL');
      }
    },
  );
});

describe('run --headless', () => {
  it('produces on a schedule and delivers, as JSON lines on stdout', async () => {
    const topic = unique('events');
    const p = new CliProcess([
      'run',
      '--headless',
      ...conn(),
      '--topic',
      topic,
      '--group',
      unique('group'),
      '--rate',
      '20',
    ]);
    try {
      await p.waitForLines(
        'produced events and their deliveries',
        (lines) =>
          lines.filter((l) => l.kind === 'produced').length >= 10 &&
          lines.some((l) => l.kind === 'delivery' && l.status === 'sent'),
      );
      expect(p.lines.find((l) => l.kind === 'produced')).toMatchObject({
        type: expect.stringMatching(/^(user_signup|item_purchased|password_reset)$/),
        userId: expect.stringMatching(/^user-\d\d$/),
      });
    } finally {
      const { code } = await p.stop('SIGTERM');
      expect(code).toBe(0);
    }
  });
});

describe('consume --dedupe-window', () => {
  it('remembers deliveries in generations of that window, expiring after two of them', async () => {
    const topic = unique('events');
    await createTopic(topic);
    const produced = await runCli(['produce', ...conn(), '--topic', topic, '--user', 'user-02', '--count', '3']);
    expect(produced.code).toBe(0);
    const ids = produced.stdout
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { eventId: string }).eventId);
    const before = Math.floor(Date.now() / 3_600_000);
    const consumed = await runCli([
      'consume',
      ...conn(),
      '--topic',
      topic,
      '--group',
      unique('group'),
      '--drain',
      '--output',
      'none',
      '--dedupe-window',
      '1h',
    ]);
    expect(consumed.code, consumed.stderr).toBe(0);
    const after = Math.floor(Date.now() / 3_600_000);
    // one generation per hour (the hour the run fell in), not the default day
    const generations = [...new Set([before, after])];
    const marks = await Promise.all(generations.map((g) => redis.hmget(`delivered:g${g}`, ...ids)));
    expect(ids.every((_, i) => marks.some((m) => typeof m[i] === 'string'))).toBe(true);
    const ttl = await redis.ttl(`delivered:g${after}`);
    expect(ttl).toBeGreaterThan(3600);
    expect(ttl).toBeLessThanOrEqual(7200);
  });

  it('refuses a window that is not a duration or out of range, with usage (exit 2)', async () => {
    for (const value of ['soon', '10s', '31d']) {
      const result = await runCli(['consume', '--dedupe-window', value]);
      expect(result.code, value).toBe(2);
      expect(result.stderr, value).toMatch(/--dedupe-window ".+" is (not a duration|out of range)/);
    }
  });
});

describe('consume --topic, --group', () => {
  it('refuses a topic Kafka would refuse, or whose <topic>.dlq it would, with usage (exit 2), creating nothing', async () => {
    const tooLong = unique('events').padEnd(249, 'x');
    for (const [args, env, message] of [
      [['--topic', 'a b'], {}, /--topic "a b" is not a Kafka topic name/],
      [['--topic', ''], {}, /--topic "" is not a Kafka topic name/],
      [['--topic', '..'], {}, /--topic "\.\." is not a Kafka topic name/],
      [['--topic', 'x'.repeat(300)], {}, /is 300 characters long: at most 245/],
      [['--topic', tooLong], {}, /is 249 characters long: at most 245/],
      [[], { EVENTS_TOPIC: 'bad topic' }, /EVENTS_TOPIC "bad topic" is not a Kafka topic name/],
      [['--group', ''], {}, /--group "" is empty/],
    ] as const) {
      const result = await runCli(['consume', ...conn(), '--drain', ...args], { ...process.env, ...env });
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr, args.join(' ')).toMatch(message);
      expect(result.stderr, args.join(' ')).toMatch(/Usage: eventstream-tui consume/);
    }
    const admin = testKafka().admin();
    await admin.connect();
    try {
      expect(await admin.listTopics()).not.toContain(tooLong);
    } finally {
      await admin.disconnect();
    }
  });
});

describe('errors a user can act on', () => {
  it('a Kafka that does not answer: names it and says how to start one, exit 1', async () => {
    const result = await runCli(['consume', '--brokers', 'localhost:1', '--redis', redisUrl()]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/Kafka at localhost:1 does not answer/);
    expect(result.stderr).toMatch(/eventstream-tui stack up/);
  });

  it('a Redis that does not answer: names it, exit 1', async () => {
    const result = await runCli(['users', '--redis', 'redis://127.0.0.1:1']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/Redis at redis:\/\/127.0.0.1:1 does not answer/);
  });

  it('an unknown flag or a bad value prints usage and exits 2', async () => {
    for (const args of [
      ['consume', '--bogus'],
      ['consume', '--output', 'xml'],
      ['produce', '--count', '-3'],
      ['run', '--rate', 'fast'],
      // refused by the program rather than by commander: the same usage follows the message
      ['produce', ...conn(), '--type', 'nope'],
      ['prefs', 'set', 'user-02', 'fax', 'on', '--redis', redisUrl()],
      ['users', '--redis', 'http://x'],
    ]) {
      const result = await runCli(args);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr, args.join(' ')).toMatch(/Usage: eventstream-tui/);
    }
  });

  it('an unknown option of the dashboard is named, with the commands listed (exit 2)', async () => {
    const result = await runCli(['--bogus-flag']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^error: unknown option '--bogus-flag'\n/);
    expect(result.stderr).toMatch(/^Usage: eventstream-tui \[options\] \[command\]$/m);
    expect(result.stderr).toMatch(/^Commands:\n(.*\n)* {2}consume /m);
  });

  it('an unknown command is named as one, with the commands listed (exit 2)', async () => {
    const result = await runCli(['frobnicate']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^error: unknown command 'frobnicate'\n/);
    expect(result.stderr).not.toMatch(/too many arguments/);
    expect(result.stderr).toMatch(/^Commands:\n(.*\n)* {2}consume /m);
    // the word as given, what it carries for the terminal shown escaped
    const escaped = await runCli(['\u001b]0;owned\u0007frob']);
    expect(escaped.code).toBe(2);
    expect(escaped.stderr).toMatch(/^error: unknown command '\\u001b\]0;owned\\u0007frob'\n/);
    expect(escaped.stderr).not.toMatch(/[\u001b\u0007]/);
  });

  it('a malformed --redis or REDIS_URL is refused (exit 2) without ever printing its password', async () => {
    for (const url of ['rediss//user:s3cret-pw@host', 'redis://u:s3cret-pw@h:99999', 'http://u:s3cret-pw@h:1']) {
      for (const [args, env] of [
        [['users', '--redis', url], process.env],
        [['consume'], { ...process.env, REDIS_URL: url }],
      ] as const) {
        const result = await runCli([...args], env);
        expect(result.code, url).toBe(2);
        expect(result.stderr, url).toMatch(/^error: Redis URL ".*\*\*\*@.*" (is not a URL|must start with)/);
        expect(result.stderr + result.stdout, url).not.toContain('s3cret-pw');
      }
    }
    // a ?password= query, in the message that Redis does not answer
    const refused = await runCli(['users', '--redis', 'redis://127.0.0.1:1?password=s3cret-pw']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/Redis at redis:\/\/127.0.0.1:1\?password=\*\*\* does not answer/);
    expect(refused.stderr).not.toContain('s3cret-pw');
  });

  it('--rate above 100,000/s is a usage error (exit 2), before anything is built', async () => {
    for (const args of [
      ['produce', '--rate', '20000000'],
      ['run', '--headless', '--rate', '100001'],
      ['--rate', '1e9'],
    ]) {
      const started = Date.now();
      const result = await runCli(args, process.env, 20_000);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr, args.join(' ')).toMatch(/--rate must be at most 100,000 events per second/);
      expect(result.stderr, args.join(' ')).toMatch(/Usage: eventstream-tui/);
      expect(Date.now() - started).toBeLessThan(10_000);
    }
  });

  it('a bad setting in the environment is a usage error at start (exit 2), before anything is written', async () => {
    const topic = unique('events');
    for (const [name, value, message] of [
      [
        'EVENTSTREAM_OUTBOX_MAXLEN',
        '1.5',
        /EVENTSTREAM_OUTBOX_MAXLEN "1.5" is not a whole number from 1 to 10,000,000/,
      ],
      ['LOG_LEVEL', 'loud', /LOG_LEVEL "loud" is not one of/],
      ['KAFKA_TLS', 'maybe', /KAFKA_TLS "maybe" is not one of/],
      ['CONSUMER_GROUP', 'g'.repeat(256), /CONSUMER_GROUP "g+\.\.\." is 256 characters long: at most 255/],
    ] as const) {
      const result = await runCli(['consume', ...conn(), '--topic', topic], { ...process.env, [name]: value });
      expect(result.code, name).toBe(2);
      expect(result.stderr, name).toMatch(message);
    }
    // nothing started: the topic was never created
    await expectNoTopic(topic);
  });

  it('--help works on every subcommand', async () => {
    for (const args of [
      ['consume'],
      ['produce'],
      ['run'],
      ['seed'],
      ['users'],
      ['prefs'],
      ['prefs', 'set'],
      ['prefs', 'get'],
      ['scheduled'],
      ['scheduled', 'list'],
      ['stack'],
      ['stack', 'up'],
    ]) {
      const result = await runCli([...args, '--help']);
      expect(result.code, args.join(' ')).toBe(0);
      expect(result.stdout).toMatch(/Usage: eventstream-tui/);
    }
  });
});

describe('consume | head -1', () => {
  it('exits 0 quietly once the reader is gone, after settling and committing the chunk in flight', async () => {
    const topic = unique('events');
    const group = unique('group');
    await createTopic(topic, 1);
    const first = event('user_signup', 'user-01');
    await produceEvents(topic, [first]);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'etui-epipe-'));
    const stderrFile = path.join(dir, 'stderr');
    // The shell's pipeline, as a user types it; bash reports the consumer's own exit status.
    const shell = spawn(
      'bash',
      [
        '-c',
        '"$@" 2>"$ERR" | head -1; echo "consume exited ${PIPESTATUS[0]}"',
        'bash',
        process.execPath,
        binPath,
        'consume',
        ...conn(),
        '--topic',
        topic,
        '--group',
        group,
      ],
      { env: { ...process.env, CI: 'true', ERR: stderrFile }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    shell.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    const exited = new Promise<void>((resolve) => shell.once('exit', () => resolve()));
    try {
      await waitFor('head to print the first line', () => out.includes('\n'), 30_000);
      expect(JSON.parse(out.split('\n')[0]!)).toMatchObject({ kind: expect.any(String) });
      // head is gone: the consumer's next write (the rest of this event's lines, or the next events')
      // finds the pipe closed
      const more = Array.from({ length: 20 }, () => event('user_signup', 'user-02'));
      await produceEvents(topic, more);
      await waitFor('the consumer to exit', () => /consume exited \d+/.test(out), 30_000);
      expect(out).toMatch(/consume exited 0\n$/);
      const stderr = readFileSync(stderrFile, 'utf8');
      expect(stderr).not.toMatch(/EPIPE|Unhandled|node:internal| {4}at /);
      // The chunk in flight was settled and committed: every event delivered (in the dedupe ledger) lies
      // below the committed offset, and every one below it was delivered; the first one, at least.
      const { committed } = await committedOffsets(group, topic);
      const ids = [first, ...more].map((e) => e.id);
      const generation = dedupeGeneration(Date.now());
      const [current, previous] = await Promise.all([
        redis.hmget(ledgerKey(generation), ...ids),
        redis.hmget(ledgerKey(generation - 1), ...ids),
      ]);
      const delivered = ids.map((_, i) => current[i] !== null || previous[i] !== null);
      const end = Number(committed.get(0) ?? 0n);
      expect(end).toBeGreaterThanOrEqual(1);
      expect(delivered).toEqual(ids.map((_, offset) => offset < end));
    } finally {
      shell.kill('SIGKILL');
      await exited;
    }
  });
});
