/**
 * A production-sized Redis: the dashboard idle at 1 event/s with the 24 sample users and with a million
 * users (CPU share of a core and RSS, sampled as a person would run it: in tmux), `users | head -5`,
 * `users > file` (wall time and peak RSS) beside `redis-cli --scan` and SMEMBERS as references, and a
 * search among a million ids typed into the dashboard. The Redis is one of its own, on a spare port,
 * started and stopped by pid here; it is seeded by `seed --users`.
 *
 * BENCH_USERS (default 1000000) sets the size; `npm run bench -- --only users` runs this part alone.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bin, commandPid, dashboardInTmux, freePort, log, sample, sleep, type Row } from './common.js';

const USERS = Number(process.env.BENCH_USERS ?? 1_000_000);

/** The peak RSS (VmHWM) of a process, in MB, read until it exits. */
function peakRss(pid: number): number {
  try {
    const line = readFileSync(`/proc/${pid}/status`, 'utf8')
      .split('\n')
      .find((l) => l.startsWith('VmHWM:'));
    const kb = Number(line?.split(/\s+/)[1]);
    return Number.isFinite(kb) ? Math.round(kb / 1024) : 0; // gone (a zombie has no VmHWM)
  } catch {
    return 0;
  }
}

/** A shell pipeline timed to its end; the peak RSS of its node process (the CLI), polled every 20 ms. */
async function timed(script: string): Promise<{ ms: number; peakMb: number; code: number | null }> {
  const started = performance.now();
  const child = spawn('bash', ['-c', script], { env: { ...process.env, CI: 'true' }, stdio: 'ignore' });
  let peakMb = 0;
  const poll = setInterval(() => {
    // bash runs a lone command in its own process (exec); a pipeline's commands are its children.
    // The executable runs `users` in a child node of its own (src/cli/exec.ts): commandPid finds it.
    peakMb = Math.max(peakMb, peakRss(child.pid!), peakRss(commandPid(child.pid!)));
    try {
      const pids = execFileSync('pgrep', ['-P', String(child.pid)], { encoding: 'utf8' })
        .trim()
        .split('\n');
      for (const p of pids) if (p) peakMb = Math.max(peakMb, peakRss(Number(p)), peakRss(commandPid(Number(p))));
    } catch {
      // no child yet, or gone
    }
  }, 20);
  const code = await new Promise<number | null>((r) => child.on('exit', r));
  clearInterval(poll);
  return { ms: Math.round(performance.now() - started), peakMb, code };
}

async function idleDashboard(redisUrl: string, label: string, dir: string): Promise<{ cpu: number; rss: number }> {
  const dashboard = dashboardInTmux({
    session: `etui-bench-users-${process.pid}`,
    command: `${bin} --redis ${redisUrl}`,
    rate: 1,
    topicPrefix: 'bench-users',
    logFile: path.join(dir, `${label}.log`),
    lingerS: 3,
  });
  try {
    await sleep(10_000);
    return await sample(dashboard.pid(), 30_000);
  } finally {
    await dashboard.quit();
  }
}

/** Typed into the dashboard: `/` and an id, Enter, until the panel says it found it. */
async function searchInDashboard(redisUrl: string, id: string, dir: string): Promise<number> {
  const dashboard = dashboardInTmux({
    session: `etui-bench-search-${process.pid}`,
    command: `${bin} --redis ${redisUrl}`,
    rate: 1,
    topicPrefix: 'bench-users',
    logFile: path.join(dir, 'search.log'),
    lingerS: 3,
  });
  const session = `etui-bench-search-${process.pid}`;
  try {
    const deadline = Date.now() + 30_000;
    while (!/Users \([\d,]+\)/.test(dashboard.screen())) {
      if (Date.now() > deadline) throw new Error('the Users panel showed no count within 30 s');
      await sleep(100);
    }
    execFileSync('tmux', ['send-keys', '-t', session, '/', id, 'Enter']);
    const started = performance.now();
    while (!dashboard.screen().includes(`"${id}": 1 match of`)) {
      if (performance.now() - started > 60_000) throw new Error(`the search for ${id} found nothing within 60 s`);
      await sleep(20);
    }
    return Math.round(performance.now() - started);
  } finally {
    await dashboard.quit();
  }
}

export async function usersAtScale(): Promise<Row[]> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'etui-bench-users-'));
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  const redis = spawn('redis-server', ['--port', String(port), '--save', '', '--appendonly', 'no', '--dir', dir], {
    stdio: 'ignore',
  });
  try {
    const deadline = Date.now() + 10_000;
    for (;;) {
      try {
        const pong = execFileSync('redis-cli', ['-p', String(port), 'ping'], {
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'ignore'],
        });
        if (pong.includes('PONG')) break;
      } catch {
        // not yet
      }
      if (Date.now() > deadline) throw new Error(`the bench's redis-server on ${port} did not answer`);
      await sleep(100);
    }
    const cli = (args: string): string => `"${bin}" ${args} --redis ${url}`;
    execFileSync('bash', ['-c', cli('seed')], { stdio: 'ignore' });
    log('users at scale: the dashboard idle at 1 event/s with the 24 sample users');
    const small = await idleDashboard(url, 'users-24', dir);

    log(`users at scale: seed --users ${USERS.toLocaleString('en-US')}`);
    const seed = await timed(cli(`seed --users ${USERS}`));
    if (seed.code !== 0) throw new Error(`seed --users exited ${seed.code}`);
    const memory = execFileSync('redis-cli', ['-p', String(port), 'info', 'memory'], { encoding: 'utf8' });
    const redisMb = Math.round(Number(/used_memory:(\d+)/.exec(memory)?.[1]) / 2 ** 20);

    log('users at scale: the dashboard idle at 1 event/s with them');
    const large = await idleDashboard(url, 'users-large', dir);
    log('users at scale: a search typed into the dashboard');
    const target = `gen-${String(Math.ceil(USERS * 0.4242)).padStart(Math.max(7, String(USERS).length), '0')}`;
    const searchMs = await searchInDashboard(url, target, dir);

    log('users at scale: users | head -5, users > file, and the references');
    const head = await timed(`set -o pipefail; ${cli('users')} | head -5 > /dev/null`);
    const file = path.join(dir, 'users.txt');
    const all = await timed(`${cli('users')} > ${file}`);
    const lines = execFileSync('wc', ['-l', file], { encoding: 'utf8' }).trim().split(' ')[0];
    const fileMb = Math.round(statSync(file).size / 2 ** 20);
    const scanRef = await timed(`redis-cli -p ${port} --scan --pattern 'user:*' > /dev/null`);
    const smembersRef = await timed(`redis-cli -p ${port} smembers users > /dev/null`);

    const n = USERS.toLocaleString('en-US');
    const delta = large.cpu - small.cpu;
    return [
      [
        `seed --users ${n}`,
        `${(seed.ms / 1000).toFixed(1)} s (${Math.round(USERS / (seed.ms / 1000)).toLocaleString('en-US')} users/s)`,
        `Redis then holds ${redisMb} MB`,
      ],
      ['dashboard idle at 1/s, 24 users', `${small.cpu}% of a core, ${small.rss} MB`, 'CPU over 30 s after 10 s'],
      [
        `dashboard idle at 1/s, ${n} users`,
        `${large.cpu}% of a core, ${large.rss} MB`,
        `${delta >= 0 ? '+' : ''}${delta}% of a core beside 24 users; target within 5% and < 300 MB`,
      ],
      [`dashboard: / finds one id among ${n}`, `${searchMs} ms`, 'typed in tmux until the panel says 1 match'],
      ['users \\| head -5', `${head.ms} ms`, `exit ${head.code}; target < 1,000 ms (node's start included)`],
      [
        'users > file',
        `${(all.ms / 1000).toFixed(1)} s, peak ${all.peakMb} MB`,
        `${lines} lines, ${fileMb} MB; target < 150 MB; redis-cli --scan 'user:*' ${(scanRef.ms / 1000).toFixed(1)} s, SMEMBERS ${(smembersRef.ms / 1000).toFixed(1)} s (references: ids only)`,
      ],
    ];
  } finally {
    redis.kill('SIGTERM');
    await new Promise((r) => redis.on('exit', r));
    rmSync(dir, { recursive: true, force: true });
  }
}
