/**
 * Users at production size, on the real Redis (a database of its own, so the counts are exact): the
 * generated users of `seed --users`, `users` streaming in scan order, the dashboard's Users panel and
 * the producer reading only what they use, a search among the ids, and a user or a `users` key of
 * another type named and isolated.
 */
import { spawn } from 'node:child_process';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Pipeline, pipelineSettings, PRODUCER_POOL } from '../../src/app/runtime.js';
import { MATCH_LIMIT, SMALL_SET, UsersFeed, WINDOW } from '../../src/cli/dashboard/users-feed.js';
import { resolveConfig } from '../../src/config/config.js';
import { createLogger } from '../../src/log/logger.js';
import { binPath, runCli, waitFor } from '../support/cli.js';
import { redisUrl } from '../support/pipeline.js';

/** More than the dashboard reads whole (SMALL_SET), so it pages and searches as against millions. */
const GENERATED = 5_000;
const url = (): string => `${redisUrl()}/9`;
let redis: Redis;

async function calls(command: string): Promise<number> {
  const stats = await redis.info('commandstats');
  return Number(new RegExp(`cmdstat_${command}:calls=(\\d+)`).exec(stats)?.[1] ?? 0);
}

async function openPipeline(): Promise<Pipeline> {
  const pipeline = await Pipeline.open(
    pipelineSettings(resolveConfig({ redis: url() }), {}),
    createLogger({ kind: 'silent' }),
  );
  await waitFor('Redis ready', () => pipeline.redis.status === 'ready');
  return pipeline;
}

beforeAll(async () => {
  expect(GENERATED).toBeGreaterThan(SMALL_SET);
  redis = new Redis(url(), { maxRetriesPerRequest: 1 });
  await redis.flushdb();
  const seeded = await runCli(['seed', '--users', String(GENERATED), '--redis', url()]);
  expect(seeded.stderr).toBe('');
  expect(seeded.code).toBe(0);
  expect(seeded.stdout).toMatch(new RegExp(`^${GENERATED} generated users written \\(gen-…\\) in [\\d.]+ s$`, 'm'));
});

afterAll(async () => {
  await redis.flushdb();
  redis.disconnect();
});

describe('seed --users', () => {
  it('writes n generated users beside the 24 sample users, with the sample mix of channels and addresses', async () => {
    expect(await redis.scard('users')).toBe(GENERATED + 24);
    expect(await redis.hgetall('user:gen-0000003')).toEqual({
      name: 'Generated User 3',
      email: 'gen-0000003@example.com',
      pushToken: expect.stringMatching(/^ptk_/) as string,
    });
    expect(await redis.hgetall('prefs:gen-0005000')).toEqual({
      email: 'on',
      sms: 'on',
      push: 'on',
      console: 'off',
      webhook: 'off',
    });
  });

  it('refuses more than ten million, or not a number, with usage help (exit 2), writing nothing', async () => {
    for (const n of ['10000001', 'many', '0']) {
      const result = await runCli(['seed', '--users', n, '--redis', url()]);
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/--users/);
      expect(result.stderr).toMatch(/Usage: eventstream-tui seed/);
    }
    expect(await redis.scard('users')).toBe(GENERATED + 24);
  });
});

describe('users, streamed', () => {
  it('prints every user once, in fixed columns, and the count', async () => {
    const result = await runCli(['users', '--redis', url()]);
    expect(result.code).toBe(0);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe('USER                  NAME                      EMAIL  SMS   PUSH  CONSOLE  WEBHOOK');
    expect(result.stderr).toBe(`${GENERATED + 24} users (* = no address for that channel: skipped with no-address)\n`);
    const rows = lines.slice(1);
    expect(rows).toHaveLength(GENERATED + 24);
    expect(new Set(rows.map((r) => r.split(' ')[0])).size).toBe(GENERATED + 24);
    // Fixed widths: the channel columns start at the same place on every row, whatever the name.
    expect(rows).toContain('gen-0000003           Generated User 3          on     off*  on    off      off');
    expect(rows).toContain('user-01               Ada Lovelace              on     off   off   on       off');
  });

  it('--json prints one user a line', async () => {
    const result = await runCli(['users', '--json', '--redis', url()]);
    expect(result.code).toBe(0);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(GENERATED + 24);
    const ada = lines.map((l) => JSON.parse(l) as { profile: { id: string } }).find((u) => u.profile.id === 'user-01');
    expect(ada).toEqual({
      profile: {
        id: 'user-01',
        name: 'Ada Lovelace',
        email: 'ada.lovelace@example.com',
        phone: expect.any(String),
        pushToken: expect.any(String),
      },
      prefs: { email: 'on', sms: 'off', push: 'off', console: 'on', webhook: 'off' },
    });
  });

  it('users | head -5: the first rows at once, and a quiet exit 0 when the reader goes away', async () => {
    // pipefail: the exit code is the users command's, not head's.
    const child = spawn(
      'bash',
      ['-c', `set -o pipefail; "${process.execPath}" "${binPath}" users --redis ${url()} | head -5`],
      {
        env: { ...process.env, CI: 'true' },
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(0);
    expect(stdout.split('\n').filter((l) => /^(USER|gen-|user-)/.test(l))).toHaveLength(5);
    expect(stderr).toBe('');
  });
});

describe('the dashboard and the producer read what they use, never the whole set', () => {
  it('the Users panel: the count, one page of ids, and the hashes of the rows around the selection', async () => {
    const pipeline = await openPipeline();
    try {
      await redis.config('RESETSTAT');
      let selected = 0;
      const feed = new UsersFeed(
        pipeline,
        () => 0,
        undefined,
        () => ({ selected, search: '' }),
      );
      await feed.refresh();
      const first = feed.take();
      expect(first).toMatchObject({ userTotal: GENERATED + 24, usersFrom: 0 });
      expect(first!.users).toHaveLength(WINDOW);
      expect(await calls('smembers')).toBe(0);
      expect(await calls('hgetall')).toBe(2 * WINDOW);
      expect(await calls('sscan')).toBeLessThanOrEqual(2);
      // Scrolled down: the rows there are read, and the ids as far as the selection went.
      selected = 1_500;
      await feed.refresh();
      const later = feed.take()!;
      expect(later.usersFrom).toBe(selected - WINDOW / 2);
      expect(later.users).toHaveLength(WINDOW);
      expect(later.users.every((u) => /^(gen|user)-/.test(u.id) && u.name !== '')).toBe(true);
      expect(await calls('hgetall')).toBe(4 * WINDOW);
    } finally {
      await pipeline.stop();
    }
  });

  it('/ among the ids: SSCAN MATCH, any case, every match once', async () => {
    const pipeline = await openPipeline();
    try {
      let search = 'GEN-00042';
      const feed = new UsersFeed(
        pipeline,
        () => 0,
        undefined,
        () => ({ selected: 0, search }),
      );
      await feed.refresh();
      let patch: ReturnType<UsersFeed['take']>;
      await waitFor('the search done', async () => {
        await feed.refresh();
        patch = feed.take(search) ?? patch;
        return patch?.userSearch?.state === 'done';
      });
      // gen-0004200 .. gen-0004299, found whatever the case typed, each once, in order
      expect(patch!.userSearch).toEqual({ query: search, state: 'done', matches: 100, capped: false });
      expect(patch!.userCount).toBe(100);
      expect(patch!.users.map((u) => u.id)).toEqual(
        Array.from({ length: 100 }, (_, i) => `gen-00042${String(i).padStart(2, '0')}`),
      );
      // A search matching more than it keeps stops there.
      search = 'gen';
      await waitFor('the second search done', async () => {
        await feed.refresh();
        patch = feed.take(search) ?? patch;
        return patch?.userSearch?.query === 'gen' && patch.userSearch.state === 'done';
      });
      expect(patch!.userSearch).toMatchObject({ matches: MATCH_LIMIT, capped: true });
    } finally {
      await pipeline.stop();
    }
  });

  it('the producer picks among a random sample (SRANDMEMBER), not the whole set', async () => {
    const pipeline = await openPipeline();
    try {
      await redis.config('RESETSTAT');
      const ids = await pipeline.refreshUsers();
      expect(ids).toHaveLength(PRODUCER_POOL);
      expect(new Set(ids).size).toBe(PRODUCER_POOL);
      expect(await calls('smembers')).toBe(0);
      expect(await calls('srandmember')).toBe(1);
    } finally {
      await pipeline.stop();
    }
  });
});

describe('a key of the wrong type is named and isolated', () => {
  it('a user whose prefs hash is a string: users lists the others and names the key; prefs get names it; the panel marks the row', async () => {
    await redis.set('prefs:user-03', 'garbage');
    try {
      const listed = await runCli(['users', '--redis', url()]);
      expect(listed.code).toBe(1);
      expect(listed.stderr).toBe(
        'warning: user user-03 skipped: prefs:user-03 holds a value of another type, not a hash (WRONGTYPE)\n' +
          `${GENERATED + 23} users (* = no address for that channel: skipped with no-address); 1 not readable, named above\n`,
      );
      expect(listed.stdout).toMatch(/^user-04\s+Edsger Dijkstra/m);
      expect(listed.stdout).not.toMatch(/^user-03/m);

      const got = await runCli(['prefs', 'get', 'user-03', '--redis', url()]);
      expect(got.code).toBe(1);
      expect(got.stderr).toMatch(/user user-03 cannot be read: prefs:user-03 holds a value of another type/);
      const other = await runCli(['prefs', 'set', 'user-04', 'sms', 'off', '--redis', url()]);
      expect(other.code).toBe(0);

      const pipeline = await openPipeline();
      try {
        const said: string[] = [];
        const feed = new UsersFeed(
          pipeline,
          () => 0,
          undefined,
          () => ({ selected: 0, search: 'user-0' }),
          (t) => said.push(t),
        );
        let patch: ReturnType<UsersFeed['take']>;
        await waitFor('the search done', async () => {
          await feed.refresh();
          patch = feed.take('user-0') ?? patch;
          return patch?.userSearch?.state === 'done';
        });
        await feed.refresh();
        const rows = patch!.users;
        expect(rows.find((u) => u.id === 'user-03')?.broken).toMatch(/prefs:user-03 holds a value of another type/);
        expect(rows.find((u) => u.id === 'user-04')).toMatchObject({ name: 'Edsger Dijkstra', prefs: { sms: 'off' } });
        // Said once, however many reads meet it.
        expect(said).toEqual([
          'user user-03 skipped: prefs:user-03 holds a value of another type, not a hash (WRONGTYPE)',
        ]);
      } finally {
        await pipeline.stop();
      }
    } finally {
      await redis.del('prefs:user-03');
      await redis.hset('prefs:user-03', { email: 'on', sms: 'off', push: 'on', console: 'off' });
    }
  });

  it('a user whose profile is a string: prefs get and set still act on the preferences, warning with the key', async () => {
    const profile = await redis.hgetall('user:user-05');
    await redis.del('user:user-05');
    await redis.set('user:user-05', 'garbage');
    try {
      const got = await runCli(['prefs', 'get', 'user-05', '--redis', url()]);
      expect(got.code).toBe(0);
      expect(JSON.parse(got.stdout)).toMatchObject({
        userId: 'user-05',
        prefs: { email: 'on', sms: 'off', push: 'off', console: 'off' },
      });
      expect(got.stderr).toMatch(/^warning: user user-05 cannot be read: user:user-05 holds a value of another type/);
      const set = await runCli(['prefs', 'set', 'user-05', 'push', 'on', '--redis', url()]);
      expect(set.code).toBe(0);
      expect(JSON.parse(set.stdout)).toMatchObject({ prefs: { push: 'on' } });
      expect(await redis.hget('prefs:user-05', 'push')).toBe('on');
    } finally {
      await redis.del('user:user-05');
      await redis.hset('user:user-05', profile);
      await redis.hset('prefs:user-05', 'push', 'off');
    }
  });

  it('a users key that is not a set: users and the panel name it', async () => {
    await redis.rename('users', 'users-kept');
    await redis.set('users', 'garbage');
    try {
      const listed = await runCli(['users', '--redis', url()]);
      expect(listed.code).toBe(1);
      expect(listed.stderr).toMatch(/^error: the key "users" holds a value of another type, not a set of user ids/m);
      expect(listed.stdout).toBe('');
      const pipeline = await openPipeline();
      try {
        const said: string[] = [];
        const feed = new UsersFeed(
          pipeline,
          () => 0,
          undefined,
          undefined,
          (t) => said.push(t),
        );
        await feed.refresh();
        await feed.refresh();
        expect(feed.take()).toMatchObject({
          users: [],
          userCount: 0,
          usersProblem: expect.stringMatching(/"users"/) as string,
        });
        expect(said).toHaveLength(1);
      } finally {
        await pipeline.stop();
      }
    } finally {
      await redis.del('users');
      await redis.rename('users-kept', 'users');
    }
  });
});
