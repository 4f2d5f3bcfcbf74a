/**
 * The real binary in a real terminal (tmux) against the real Kafka and Redis:
 * what a person sees and what lands in Redis.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { Dashboards } from '../support/dashboard.js';
import { newRedis, redisUrl, removeUsers, unique, writeUsers } from '../support/pipeline.js';

const redis = newRedis();
const dashboards = new Dashboards();

beforeAll(async () => {
  // the sample users as shipped: user-02 (Alan Turing) has SMS on and a phone
  const seeded = await runCli(['seed', '--reset', '--redis', redisUrl()]);
  expect(seeded.code).toBe(0);
});

afterAll(async () => {
  dashboards.kill();
  await runCli(['seed', '--reset', '--redis', redisUrl()]);
  redis.disconnect();
});

const line = (screen: string, re: RegExp): string | undefined => screen.split('\n').find((l) => re.test(l));

describe('the dashboard in a terminal', () => {
  it('shows the pipeline live; s injects, m toggles SMS in Redis and the next event has no SMS; q exits 0 and restores the terminal', async () => {
    const { session, screen: ready } = await dashboards.launch(
      { topic: unique('dash'), group: unique('dash-group') },
      {
        what: 'the dashboard, connected, with the users',
        until: (s) =>
          /Kafka \S+ connected/.test(s) &&
          /Redis \S+ connected/.test(s) &&
          /Users \(2\d\)/.test(s) &&
          /partitions \[0,1,2\]/.test(s),
      },
    );
    for (const title of ['Event stream', 'Deliveries', 'Redis look-ups', 'Throughput', 'Users'])
      expect(ready).toContain(title);
    // The footer's one line, from the keymap; at 120 columns the last hints give way to `…` (? lists every
    // key), never help and quit.
    expect(ready).toContain(
      's/b/r inject  ↑↓ move  e/m/p/c/w toggle  Tab focus  Enter detail  / filter  d dead letters  …  ? help  q quit',
    );
    expect(session.alternateScreen()).toBe(true);

    session.keys('j');
    await session.waitForScreen('user-02 selected', (s) => /▸user-02 Alan Turing/.test(s));

    session.keys('s');
    const first = await session.waitForScreen(
      'the user_signup and its SMS delivery',
      (s) => /user_signup\s+user-02/.test(s) && line(s, /sms\s+\+1555\S*\s+sent/) !== undefined,
    );
    expect(line(first, /email\s+alan\.turing@\S*\s+sent/)).toBeDefined();
    expect(line(first, /user-02\s+EMP·W\s+found/)).toBeDefined();

    session.keys('m');
    await session.waitForScreen('SMS off in the Users panel', (s) =>
      /▸user-02 Alan Turing\s+on\s+off\s+on\s+off/.test(s),
    );
    expect(await redis.hget('prefs:user-02', 'sms')).toBe('off');

    session.keys('s');
    const second = await session.waitForScreen(
      'the second user_signup with SMS skipped',
      (s) => line(s, /sms\s+user-02\s+skipped opted-out/) !== undefined,
    );
    expect(second.split('\n').filter((l) => /user_signup\s+user-02/.test(l))).toHaveLength(2);

    session.keys('q');
    expect(await session.exitCode()).toBe(0);
    expect(session.alternateScreen()).toBe(false);
    expect(session.screen()).not.toContain('Event stream');
  });

  it('shows a preference changed from outside (redis-cli) within a second', async () => {
    const { session } = await dashboards.launch(
      { topic: unique('dash'), group: unique('dash-group') },
      { what: 'the users', until: (s) => /▸user-01 Ada Lovelace\s+on\s+off\s+off\s+on/.test(s) },
    );
    await redis.hset('prefs:user-01', 'push', 'on');
    const started = Date.now();
    await session.waitForScreen(
      'push on for user-01',
      (s) => /▸user-01 Ada Lovelace\s+on\s+off\s+on\s+on/.test(s),
      5_000,
    );
    expect(Date.now() - started).toBeLessThan(1_500);
    session.keys('C-c');
    expect(await session.exitCode()).toBe(0);
  });
});

describe('keys pressed at the first frame, while Kafka connects', () => {
  // A user of this test's own, sorted before the sample users (and other tests' users) so it is the one
  // selected at start; removed afterwards.
  const id = unique('0key');

  afterAll(async () => {
    await removeUsers(redis, [id]);
  });

  it('s is queued (the footer says so), then sent once Kafka answers; m is written once Redis answers', async () => {
    await writeUsers(redis, [
      {
        id,
        name: 'First Frame',
        email: 'first.frame@example.com',
        phone: '+15550001',
        prefs: { email: 'on', sms: 'off', push: 'off', console: 'off' },
      },
    ]);
    const { session } = await dashboards.launch(
      { topic: unique('dash-first'), group: unique('dash-group') },
      { what: 'the first frame, Kafka connecting', until: (s) => /Kafka \S+ connecting/.test(s), timeoutMs: 10_000 },
    );
    session.keys('s');
    await session.waitForScreen(
      'the footer: queued while Kafka connects',
      (s) => new RegExp(`user_signup for (${id}|the selected user) queued: Kafka connecting`).test(s),
      5_000,
    );
    session.keys('m');
    await session.waitForScreen(
      'the signup sent once Kafka answered, and delivered',
      // The stream's user column keeps the end of an id that does not fit: …<its last 7 characters>.
      (s) =>
        new RegExp(`user_signup\\s+…${id.slice(-7)}`).test(s) &&
        line(s, /email\s+first\.frame@\S*\s+sent/) !== undefined,
    );
    await session.waitForScreen('SMS on for the user in the Users panel', (s) =>
      // the name gives way to the five channel columns: `First …`
      new RegExp(`▸${id} First[^║]*?\\s+on\\s+on\\s+off\\s+off`).test(s),
    );
    expect(await redis.hget(`prefs:${id}`, 'sms')).toBe('on');
    session.keys('q');
    expect(await session.exitCode()).toBe(0);
  });
});

describe('the embedded dashboard', () => {
  it('says EMBEDDED, why, and the command for the real pipeline; keys still work', async () => {
    const { session, screen } = await dashboards.launch(
      { embedded: true },
      { what: 'the embedded dashboard', until: (s) => /Users \(24\)/.test(s) && /partitions \[0,1,2\]/.test(s) },
    );
    expect(screen).toMatch(/eventstream-tui EMBEDDED {2}Kafka in-process log connected/);
    expect(screen).toMatch(
      /EMBEDDED: --embedded was given\. For the real pipeline: eventstream-tui \(without --embedded\)/,
    );
    session.keys('s');
    await session.waitForScreen(
      'the injected event delivered',
      (s) => /user_signup\s+user-01/.test(s) && /console\s+Ada Lovelace\s+sent/.test(s),
    );
    // The inspect keys on the in-process log: the detail, the (empty) dead letters, the partitions.
    session.keys('Tab');
    session.keys('Enter');
    await session.waitForScreen('the detail', (s) => s.includes('Trace') && s.includes('type      user_signup'));
    session.keys('Escape');
    await session.waitForScreen('the detail closed', (s) => !s.includes('Trace'));
    session.keys('d');
    await session.waitForScreen('no dead letters', (s) => s.includes('no dead letters in user_events.dlq'));
    session.keys('Escape');
    await session.waitForScreen('the dead letters closed', (s) => !s.includes('no dead letters in'));
    session.keys('l');
    await session.waitForScreen('the partitions, owned by this process', (s) =>
      /║\s*\d\s+1\s+1\s+0\s+embedded@pid \d+/.test(s),
    );
    // Esc and q in one breath (one read) close the partitions and quit, as the two keys they are.
    session.keys('Escape', 'q');
    expect(await session.exitCode()).toBe(0);
  });
  it('a key pressed at the first frame is carried out', async () => {
    const { session } = await dashboards.launch(
      { embedded: true },
      { what: 'the first frame', until: (s) => /eventstream-tui .*Kafka/.test(s), timeoutMs: 10_000 },
    );
    session.keys('r');
    await session.waitForScreen(
      'the password_reset delivered',
      (s) => /password_reset\s+user-01/.test(s) && /console\s+Ada Lovelace\s+sent/.test(s),
    );
    session.keys('q');
    expect(await session.exitCode()).toBe(0);
  });
});
