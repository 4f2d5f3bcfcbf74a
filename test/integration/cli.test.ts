/** The pipeline's subcommands as a user types them. */
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { brokers, CliProcess, createTopic, newRedis, readTopic, redisUrl, unique } from '../support/pipeline.js';

const redis = newRedis();
const conn = (): string[] => ['--brokers', brokers(), '--redis', redisUrl()];

afterAll(() => {
  redis.disconnect();
});

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
    expect(result.stdout).toMatch(/^USER\s+NAME\s+EMAIL\s+SMS\s+PUSH\s+CONSOLE$/m);
    expect(result.stdout).toMatch(/^user-01\s+Ada Lovelace\s+on\s+off\s+off\s+on$/m);
    expect(result.stdout).toMatch(/^user-03\s+Grace Hopper\s+on\s+off\*\s+on\s+off$/m);
  });

  it('prefs get prints JSON, and refuses an unknown channel or value with exit 2', async () => {
    const got = await runCli(['prefs', 'get', 'user-02', '--redis', redisUrl()]);
    expect(JSON.parse(got.stdout)).toEqual({
      userId: 'user-02',
      prefs: { email: 'on', sms: 'on', push: 'on', console: 'off' },
    });
    const badChannel = await runCli(['prefs', 'set', 'user-02', 'fax', 'on', '--redis', redisUrl()]);
    expect(badChannel.code).toBe(2);
    expect(badChannel.stderr).toMatch(/unknown channel "fax"; channels: email, sms, push, console/);
    const badValue = await runCli(['prefs', 'set', 'user-02', 'sms', 'maybe', '--redis', redisUrl()]);
    expect(badValue.code).toBe(2);
    const missing = await runCli(['prefs', 'get', 'no-such-user', '--redis', redisUrl()]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/no user "no-such-user"/);
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
    ]) {
      const result = await runCli(args);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr, args.join(' ')).toMatch(/Usage: eventstream-tui/);
    }
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
      ['stack'],
      ['stack', 'up'],
    ]) {
      const result = await runCli([...args, '--help']);
      expect(result.code, args.join(' ')).toBe(0);
      expect(result.stdout).toMatch(/Usage: eventstream-tui/);
    }
  });
});
