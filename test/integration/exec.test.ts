/**
 * The executable re-runs itself with V8's young-generation flag for `consume` and `run --headless`
 * (src/cli/exec.ts): the process a script starts is the parent; the signals sent to it reach the
 * command, and its exit code or signal comes back.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { binPath, execReports, freePort, runCli, waitFor } from '../support/cli.js';
import { brokers, CliProcess, consumeArgs, createTopic, redisUrl, unique } from '../support/pipeline.js';

const DEBUG = { EVENTSTREAM_DEBUG_EXEC: '1' };

/** Gone, or a zombie nobody reaped (a container's init may not). */
function gone(pid: number): boolean {
  const stat = `/proc/${pid}/stat`;
  if (!existsSync(stat)) return true;
  try {
    return readFileSync(stat, 'utf8').split(') ')[1]!.startsWith('Z');
  } catch {
    return true;
  }
}

async function running(topic: string, group: string): Promise<{ p: CliProcess; child: number }> {
  const p = new CliProcess(consumeArgs(topic, group, ['--output', 'none']), DEBUG);
  await p.waitForAssignment();
  const [parent, child] = execReports(p.stderr);
  expect(parent).toMatchObject({ pid: p.child.pid, rerun: ['--max-semi-space-size=64'] });
  expect(child).toMatchObject({ ppid: p.child.pid, execArgv: ['--max-semi-space-size=64'], rerun: [] });
  return { p, child: child!.pid };
}

describe('the executable re-runs the headless pipeline with a 64 MB young generation', () => {
  it('node bin/eventstream-tui consume --drain: the command runs in a child started with the flag, exit 0', async () => {
    const topic = unique('exec');
    await createTopic(topic, 1);
    const result = await runCli(consumeArgs(topic, unique('exec-group'), ['--drain', '--output', 'none']), {
      ...process.env,
      ...DEBUG,
    });
    expect(result.code, result.stderr).toBe(0);
    const reports = execReports(result.stderr);
    expect(reports.map((r) => r.execArgv)).toEqual([[], ['--max-semi-space-size=64']]);
    expect(reports[1]!.ppid).toBe(reports[0]!.pid);
  });

  it('users and the dashboard run in the first process', async () => {
    const users = await runCli(['users', '--redis', redisUrl()], { ...process.env, ...DEBUG });
    expect(users.code, users.stderr).toBe(0);
    expect(users.stderr).toMatch(/\d+ users \(/);
    expect(execReports(users.stderr)).toEqual([expect.objectContaining({ execArgv: [], rerun: [] })]);
    // `run` without --headless is the dashboard: it keeps the terminal (here it has none: exit 2)
    const dashboard = await runCli(['run', '--brokers', brokers()], { ...process.env, ...DEBUG });
    expect(dashboard.code).toBe(2);
    expect(execReports(dashboard.stderr)).toEqual([expect.objectContaining({ execArgv: [], rerun: [] })]);
  });

  it('exit codes come back: a usage error 2, a service that does not answer 1', async () => {
    const usage = await runCli(['consume', '--no-such-flag'], { ...process.env, ...DEBUG });
    expect(usage.code).toBe(2);
    expect(execReports(usage.stderr)).toHaveLength(2);
    const down = await runCli(['consume', '--brokers', `127.0.0.1:${await freePort()}`, '--redis', redisUrl()]);
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/does not answer/);
  });

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`${signal} to the pid a script started reaches the consumer: it settles and exits 0, both processes gone`, async () => {
      const topic = unique('exec-sig');
      await createTopic(topic, 1);
      const { p, child } = await running(topic, unique('exec-sig-group'));
      const exit = await p.stop(signal);
      expect(exit, p.stderr).toEqual({ code: 0, signal: null });
      expect(p.stderr).toContain(`${signal}: settling the batch in flight and leaving`);
      await waitFor('the child gone', () => gone(child), 5_000);
    });
  }

  it("a terminal's Ctrl-C (SIGINT to the process group: parent and child, then forwarded) is one clean stop", async () => {
    const topic = unique('exec-group');
    await createTopic(topic, 1);
    const child = spawn(process.execPath, [binPath, ...consumeArgs(topic, unique('exec-pg'), ['--output', 'none'])], {
      env: { ...process.env, ...DEBUG, CI: 'true' },
      stdio: ['ignore', 'ignore', 'pipe'],
      detached: true, // a process group of its own, as a shell's job
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.once('exit', (code, signal) => resolve({ code, signal })),
    );
    await waitFor('an assignment', () => /"kind":"assignment"/.test(stderr), 30_000);
    process.kill(-child.pid!, 'SIGINT');
    expect(await exited, stderr).toEqual({ code: 0, signal: null });
    expect(stderr.match(/SIGINT: settling/g)).toHaveLength(1);
  });

  it('SIGKILL to the parent takes the child with it (a power cut stays a power cut)', async () => {
    const topic = unique('exec-kill');
    await createTopic(topic, 1);
    const { p, child } = await running(topic, unique('exec-kill-group'));
    expect(await p.stop('SIGKILL')).toEqual({ code: null, signal: 'SIGKILL' });
    await waitFor('the child gone', () => gone(child), 2_000, 20);
  });

  it("the child's own SIGKILL (the crash hook) comes back as the parent's signal", async () => {
    const topic = unique('exec-crash');
    await createTopic(topic, 1);
    const p = new CliProcess(consumeArgs(topic, unique('exec-crash-group'), ['--output', 'none']), {
      ...DEBUG,
      EVENTSTREAM_CRASH_AT: 'before-commit',
    });
    await p.waitForAssignment();
    await runCli(['produce', '--brokers', brokers(), '--topic', topic, '--type', 'user_signup', '--user', 'u-1']);
    expect(await p.exited).toEqual({ code: null, signal: 'SIGKILL' });
  });
});
