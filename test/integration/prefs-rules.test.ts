/**
 * `prefs set|get` with the rules' fields, and `scheduled list`, through the real CLI on the real
 * Redis (docs/contracts.md, "Users and preferences" and "scheduled list").
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisSchedule } from '../../src/adapters/redis/schedule.js';
import type { ScheduledSend } from '../../src/pipeline/ports.js';
import { runCli } from '../support/cli.js';
import { newRedis, redisUrl, removeUsers, unique, writeUsers } from '../support/pipeline.js';

const redis = newRedis();
const user = unique('rules-user');
const prefsKey = `prefs:${user}`;
const CHANNELS = { email: 'on', sms: 'on', push: 'off', console: 'off' } as const;

const prefs = (...args: string[]) => runCli(['prefs', ...args, '--redis', redisUrl()]);

/** Runs the CLI as if it were `at` (EVENTSTREAM_CLOCK_OFFSET_MS, the test clock hook). */
const at = (iso: string): NodeJS.ProcessEnv => ({
  ...process.env,
  EVENTSTREAM_CLOCK_OFFSET_MS: String(Date.parse(iso) - Date.now()),
});

beforeAll(async () => {
  await writeUsers(redis, [
    { id: user, name: 'Rule Tester', email: 'rt@example.com', phone: '+15550199', prefs: CHANNELS },
  ]);
});

afterAll(async () => {
  await removeUsers(redis, [user]);
  redis.disconnect();
});

describe('prefs set <user> <field> <value>', () => {
  it('writes each kind of field, and prints the preferences as prefs get does', async () => {
    const channel = await prefs('set', user, 'push', 'on');
    expect(channel.code).toBe(0);
    expect(JSON.parse(channel.stdout)).toMatchObject({ userId: user, prefs: { push: 'on' } });

    const type = await prefs('set', user, 'item_purchased.sms', 'off');
    expect(type.code).toBe(0);
    expect(JSON.parse(type.stdout)).toMatchObject({
      types: { item_purchased: { sms: 'off' } },
      effective: { item_purchased: { sms: 'off', email: 'on' } },
    });

    // A zone in any case is stored as IANA spells it.
    const tz = await prefs('set', user, 'tz', 'europe/paris');
    expect(tz.code).toBe(0);
    expect(JSON.parse(tz.stdout)).toMatchObject({ tz: 'Europe/Paris' });

    // The windows are one argument, stored normalised.
    const quiet = await prefs('set', user, 'quiet', 'mon-fri 22:00-7:00;sat,sun 23:00-09:00');
    expect(quiet.code).toBe(0);
    expect(JSON.parse(quiet.stdout)).toMatchObject({ windows: ['mon-fri 22:00-07:00', 'sat,sun 23:00-09:00'] });

    expect(await redis.hgetall(prefsKey)).toEqual({
      ...CHANNELS,
      push: 'on',
      'item_purchased.sms': 'off',
      tz: 'Europe/Paris',
      quiet: 'mon-fri 22:00-07:00; sat,sun 23:00-09:00',
    });

    // default and none remove their field.
    expect((await prefs('set', user, 'item_purchased.sms', 'default')).code).toBe(0);
    expect((await prefs('set', user, 'quiet', 'none')).code).toBe(0);
    const after = await redis.hgetall(prefsKey);
    expect(after).not.toHaveProperty('item_purchased.sms');
    expect(after).not.toHaveProperty('quiet');
    expect(after).toMatchObject({ tz: 'Europe/Paris' });
    await redis.hset(prefsKey, { 'item_purchased.sms': 'off', quiet: 'mon-fri 22:00-07:00; sat,sun 23:00-09:00' });
  });

  it('refuses a bad field or value with exit 2, naming the field and the accepted form, and writes nothing', async () => {
    const before = await redis.hgetall(prefsKey);
    for (const [field, value, message] of [
      [
        'fax',
        'on',
        /unknown field "fax": a channel \(email, sms, push, console, webhook\), <type>\.<channel> \(types: user_signup, item_purchased, password_reset\), tz, quiet, cap\.<channel> or digest\.<type>/,
      ],
      ['sms', 'maybe', /sms: "maybe" is not on or off/],
      ['item_purchased.fax', 'off', /unknown channel "fax" \(one of email, sms, push, console, webhook\)/],
      [
        'rocket_launch.sms',
        'off',
        /unknown event type "rocket_launch" \(one of user_signup, item_purchased, password_reset\)/,
      ],
      ['item_purchased.sms', 'sometimes', /item_purchased\.sms: "sometimes" is not on, off or default/],
      ['password_reset.email', 'off', /password_reset\.email: email is required for password_reset/],
      ['tz', 'Mars/Base', /tz: "Mars\/Base" is not an IANA time zone/],
      ['quiet', '25:99-x', /quiet: .*"25:99" is not a time of day.*the form is `HH:MM-HH:MM`/],
      ['quiet', 'weekdays 22:00-07:00', /"weekdays" is not a day/],
      ['cap.sms', '3', /cap\.sms: "3" is not `<n>\/<duration>`/],
      ['cap.fax', '3/1h', /unknown channel "fax"/],
      ['digest.item_purchased', 'daily', /digest\.item_purchased: "daily" is not a duration/],
      ['digest.password_reset', '10m', /password_reset is never digested \(digestible: item_purchased\)/],
    ] as const) {
      const result = await prefs('set', user, field, value);
      expect(result.code, `${field} ${value}`).toBe(2);
      expect(result.stderr, `${field} ${value}`).toMatch(message);
      expect(result.stderr).toMatch(/Usage: eventstream-tui prefs set/);
      expect(result.stdout).toBe('');
    }
    expect(await redis.hgetall(prefsKey)).toEqual(before);
  });

  it('--help lists the fields and their forms', async () => {
    const help = await runCli(['prefs', 'set', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/<channel> on\|off +channels: email, sms, push, console, webhook/);
    expect(help.stdout).toMatch(
      /<type>\.<channel> on\|off\|default +types: user_signup, item_purchased, password_reset/,
    );
    expect(help.stdout).toMatch(/tz <IANA zone>/);
    expect(help.stdout).toMatch(/quiet "<windows>"\|none/);
  });

  it('refuses a user that does not exist (exit 1), writing nothing', async () => {
    const nobody = unique('no-such-user');
    const result = await prefs('set', nobody, 'tz', 'Europe/Paris');
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`error: no user "${nobody}" (hash user:${nobody} does not exist)\n`);
    expect(await redis.exists(`prefs:${nobody}`)).toBe(0);
  });
});

describe('prefs get <user>', () => {
  it('in quiet hours: the matrix, the zone, the windows and until when', async () => {
    // Wednesday 23:30 in Paris: in the mon-fri window until Thursday 07:00.
    const got = await runCli(['prefs', 'get', user, '--redis', redisUrl()], at('2026-01-14T22:30:00Z'));
    expect(got.code).toBe(0);
    expect(got.stdout.trim().split('\n')).toHaveLength(1);
    expect(JSON.parse(got.stdout)).toEqual({
      userId: user,
      prefs: { email: 'on', sms: 'on', push: 'on', console: 'off', webhook: 'off' },
      types: {
        user_signup: { email: 'default', sms: 'default', push: 'default', console: 'default', webhook: 'default' },
        item_purchased: { email: 'default', sms: 'off', push: 'default', console: 'default', webhook: 'default' },
        password_reset: { email: 'required', sms: 'default', push: 'default', console: 'default', webhook: 'default' },
      },
      effective: {
        user_signup: { email: 'on', sms: 'on', push: 'on', console: 'off', webhook: 'off' },
        item_purchased: { email: 'on', sms: 'off', push: 'on', console: 'off', webhook: 'off' },
        password_reset: { email: 'on', sms: 'on', push: 'on', console: 'off', webhook: 'off' },
      },
      tz: 'Europe/Paris',
      windows: ['mon-fri 22:00-07:00', 'sat,sun 23:00-09:00'],
      quietNow: {
        quiet: true,
        until: '2026-01-15T06:00:00.000Z',
        untilLocal: '07:00 Europe/Paris',
        window: 'mon-fri 22:00-07:00',
      },
      invalid: [],
      caps: {},
      digests: {},
    });
  });

  it('outside quiet hours: when the next window starts', async () => {
    // Saturday noon in Paris: the next window is Saturday 23:00.
    const got = await runCli(['prefs', 'get', user, '--redis', redisUrl()], at('2026-01-17T11:00:00Z'));
    expect(JSON.parse(got.stdout)).toMatchObject({
      quietNow: { quiet: false, next: '2026-01-17T22:00:00.000Z', nextLocal: '23:00 Europe/Paris' },
    });
  });

  it('names the fields another program wrote that cannot be parsed', async () => {
    await redis.hset(prefsKey, { tz: 'Mars/Base', quiet: '25:99-x' });
    try {
      const got = await prefs('get', user);
      expect(got.code).toBe(0);
      expect(JSON.parse(got.stdout)).toMatchObject({
        tz: 'UTC',
        windows: [],
        quietNow: { quiet: false, next: null, nextLocal: null },
        invalid: ['tz', 'quiet'],
      });
    } finally {
      await redis.hset(prefsKey, { tz: 'Europe/Paris', quiet: 'mon-fri 22:00-07:00; sat,sun 23:00-09:00' });
    }
  });
});

describe('scheduled list [--user <id>] [--limit <n>]', () => {
  const schedule = new RedisSchedule(redis);
  const alice = unique('sched-alice');
  const bob = unique('sched-bob');
  // Due in a month and more: no consumer sharing this Redis claims them while the test runs.
  // A UTC midnight a month from now.
  const dueBase = Math.ceil((Date.now() + 30 * 86_400_000) / 86_400_000) * 86_400_000;
  const entry = (userId: string, channel: string, dueAt: number, zone: string): ScheduledSend => ({
    eventId: unique('evt'),
    channel,
    userId,
    type: 'item_purchased',
    dueAt,
    zone,
    reason: 'quiet-hours',
    deferredAt: dueAt - 8 * 3600_000,
    event: '{}',
    occurredAtMs: dueAt - 8 * 3600_000,
    topic: 'user_events',
    partition: 0,
    offset: '0',
    timestamp: String(dueAt - 8 * 3600_000),
  });
  // 06:00 UTC is 07:00 in Paris (winter) and 15:00 in Tokyo; written out of order.
  const entries = [
    entry(alice, 'sms', dueBase + 7 * 3600_000, 'Europe/Paris'),
    entry(bob, 'email', dueBase + 6 * 3600_000, 'Asia/Tokyo'),
    entry(alice, 'email', dueBase + 6 * 3600_000 + 60_000, 'Europe/Paris'),
    entry(alice, 'push', dueBase + 9 * 3600_000, 'Europe/Paris'),
  ];
  const list = (...args: string[]) => runCli(['scheduled', 'list', ...args, '--redis', redisUrl()]);
  const lines = (stdout: string) =>
    stdout
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);

  beforeAll(async () => {
    await schedule.add(entries);
  });

  afterAll(async () => {
    await schedule.done(entries);
  });

  it("prints a user's pending sends as JSON lines, soonest due first, with the due time in UTC and in their zone", async () => {
    const result = await list('--user', alice);
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(new RegExp(`^3 of \\d+ scheduled sends \\(user ${alice}\\)\n$`));
    const [first, second, third] = [entries[2]!, entries[0]!, entries[3]!];
    expect(lines(result.stdout)).toEqual(
      [first, second, third].map((e) => ({
        kind: 'scheduled',
        eventId: e.eventId,
        type: 'item_purchased',
        userId: alice,
        channel: e.channel,
        dueAt: new Date(e.dueAt).toISOString(),
        dueLocal: expect.stringMatching(/^(\w{3} )?\d\d:\d\d Europe\/Paris$/) as unknown,
        reason: 'quiet-hours',
        deferredAt: new Date(e.deferredAt).toISOString(),
      })),
    );
    // The local time in the entry's zone: 06:01 UTC is 07:01 in Paris in winter, or 08:01 in summer.
    expect(lines(result.stdout)[0]!.dueLocal).toMatch(/0[78]:01 Europe\/Paris$/);
  });

  it('--limit keeps the soonest; --user of another zone shows its local time; a user with none prints nothing', async () => {
    const limited = await list('--user', alice, '--limit', '2');
    expect(limited.code).toBe(0);
    expect(lines(limited.stdout).map((l) => l.channel)).toEqual(['email', 'sms']);
    expect(limited.stderr).toMatch(/\(user .*, soonest 2\)\n$/);

    const tokyo = await list('--user', bob);
    expect(lines(tokyo.stdout)).toEqual([
      expect.objectContaining({ userId: bob, dueLocal: expect.stringMatching(/15:00 Asia\/Tokyo$/) as unknown }),
    ]);

    const none = await list('--user', unique('nobody'));
    expect(none.code).toBe(0);
    expect(none.stdout).toBe('');
    expect(none.stderr).toMatch(/^0 of \d+ scheduled sends \(user /);
  });

  it('without --user: every pending send, ours among them in due order', async () => {
    const result = await list();
    expect(result.code).toBe(0);
    const all = lines(result.stdout);
    expect(result.stderr).toBe(`${all.length} scheduled send${all.length === 1 ? '' : 's'}\n`);
    const dues = all.map((l) => Date.parse(String(l.dueAt)));
    expect(dues).toEqual([...dues].sort((a, b) => a - b));
    const ours = all.filter((l) => l.userId === alice || l.userId === bob).map((l) => l.eventId);
    expect(ours).toEqual([entries[1]!, entries[2]!, entries[0]!, entries[3]!].map((e) => e.eventId));
  });

  it('a bad --limit, or a --group it does not take, is a usage error (exit 2)', async () => {
    for (const args of [
      ['--limit', '0'],
      ['--limit', 'ten'],
      ['--group', 'g'],
    ]) {
      const result = await list(...args);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr, args.join(' ')).toMatch(/Usage: eventstream-tui scheduled list/);
    }
  });
});
