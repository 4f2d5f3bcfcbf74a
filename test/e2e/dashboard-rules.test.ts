/**
 * The rules in a real terminal (tmux, 120×40) against the real Kafka and Redis: the preferences editor
 * (Enter on a Users row) turns `item_purchased.sms` off, redis-cli sees it, and the next `b` for that
 * user skips SMS with `type-opted-out`; a user in quiet hours gets a deferred send that the Scheduled
 * view (S) lists. Users and schedule entries are the test's own, removed after it.
 */
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { RedisSchedule } from '../../src/adapters/redis/schedule.js';
import type { RedisClient } from '../../src/adapters/redis/client.js';
import { Dashboards } from '../support/dashboard.js';
import { createTopic, newRedis, redisUrl, removeUsers, unique, writeUsers } from '../support/pipeline.js';

const dashboards = new Dashboards();
const optedIn = unique('rules-ed');
const quiet = unique('rules-qh');
let redis: Redis;

const hhmm = (ms: number): string => new Date(ms).toISOString().slice(11, 16);

beforeAll(async () => {
  redis = newRedis();
  const profile = (id: string) => ({
    id,
    name: id === quiet ? 'Quiet Tester' : 'Editor Tester',
    email: `${id}@example.com`,
    phone: '+15550100',
    pushToken: `ptk_${id}`,
    prefs: { email: 'on', sms: 'on', push: 'on', console: 'on' } as const,
  });
  await writeUsers(redis, [profile(optedIn), profile(quiet)]);
  // Quiet from an hour ago to two hours from now, in UTC: the send is deferred about two hours.
  const now = Date.now();
  await redis.hset(`prefs:${quiet}`, 'tz', 'UTC', 'quiet', `${hhmm(now - 3600_000)}-${hhmm(now + 2 * 3600_000)}`);
});

afterAll(async () => {
  dashboards.kill();
  await removeUsers(redis, [optedIn, quiet]);
  // The schedule is shared by every test and consumer: only this test's entries are removed.
  const schedule = new RedisSchedule(redis as unknown as RedisClient);
  const mine = await schedule.list({ userId: quiet });
  if (mine.length > 0) await schedule.done(mine);
  redis.disconnect();
});

const redisCli = (...args: string[]): string =>
  execFileSync('redis-cli', ['-u', redisUrl(), ...args], { encoding: 'utf8' });

describe('notification rules from the dashboard at 120×40', () => {
  it('the editor turns item_purchased.sms off (redis-cli sees it, b skips SMS: type-opted-out); S lists a deferred send', async () => {
    const topic = unique('rules');
    const group = unique('rules-group');
    await createTopic(topic);
    const { session: s } = await dashboards.launch(
      { topic, group },
      { what: 'connected, users read', until: (t) => /Kafka \S+ connected/.test(t) && /Users \(\d+\)/.test(t) },
    );

    // The Users panel is focused: / searches the ids; the one match is selected.
    s.keys('/');
    s.keys('-l', optedIn);
    s.keys('Enter');
    await s.waitForScreen(
      'the user found',
      (t) => t.includes(`Users "${optedIn}": 1 match`) && t.includes(`▸${optedIn}`),
    );
    s.keys('Enter');
    await s.waitForScreen(
      'the editor',
      (t) => t.includes(`Preferences of ${optedIn} (Editor Tester)`) && /item_purchased\s+def·on\s+def·on/.test(t),
    );
    // ↓↓: item_purchased; →: sms; space: default → off, written at once.
    s.keys('Down', 'Down', 'Right', 'Space');
    await s.waitForScreen(
      'the write said and the cell off',
      (t) =>
        t.includes(`HSET prefs:${optedIn} item_purchased.sms off`) && /item_purchased\s+def·on\s+off\s+def·on/.test(t),
    );
    const hash = redisCli('HGETALL', `prefs:${optedIn}`).trim().split('\n');
    const at = hash.indexOf('item_purchased.sms');
    expect(at, hash.join(' ')).toBeGreaterThanOrEqual(0);
    expect(hash[at + 1]).toBe('off');

    // Esc: the panels; b: item_purchased for the selected user, SMS skipped by the type rule.
    s.keys('Escape');
    await s.waitForScreen('the editor closed', (t) => !t.includes('Preferences of') && t.includes(`▸${optedIn}`));
    s.keys('b');
    const skipped = await s.waitForScreen(
      'SMS skipped: type-opted-out',
      (t) => /sms\s+\S+\s+skipped type-opted-out/.test(t) || /sms.*type-opted-out/.test(t),
    );
    expect(skipped).toMatch(/email\s+.*sent/);

    // The user in quiet hours: b defers; S lists the deferred sends.
    s.keys('Escape');
    await s.waitForScreen('the search cleared', (t) => !t.includes(`Users "${optedIn}"`));
    s.keys('/');
    s.keys('-l', quiet);
    s.keys('Enter');
    await s.waitForScreen('the quiet user found, marked ☾', (t) => new RegExp(`▸${quiet} .*☾`).test(t));
    s.keys('b');
    await s.waitForScreen('deferred', (t) => /deferred\s+until \d\d:\d\d/.test(t));
    s.keys('S');
    const scheduled = await s.waitForScreen(
      'the deferred sends listed',
      (t) => /Scheduled \(\d+\)/.test(t) && new RegExp(`UTC\\s+in \\S+\\s+${quiet}\\s+item_purchased\\s+email`).test(t),
    );
    expect(scheduled).toMatch(new RegExp(`${quiet}\\s+item_purchased\\s+sms`));
    s.keys('Escape');
    await s.waitForScreen('the view closed', (t) => !t.includes('Scheduled ('));
    s.keys('q');
    expect(await s.exitCode()).toBe(0);
  });
});
