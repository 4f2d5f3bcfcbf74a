/**
 * `stack up redis --redis-replica` with a Sentinel URL: a primary, its replica and a Sentinel on spare
 * ports in a home of their own; `status` shows each with its role (and the roles swapped after a
 * failover); the pipeline's commands reach the primary through the Sentinel; `down` stops all three.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isAlive, stopPid } from '../../src/stack/processes.js';
import { freePort, runCli, waitFor } from '../support/cli.js';

describe('stack up redis --redis-replica', () => {
  it('starts primary, replica and Sentinel, reports their roles through a failover, and stops them all', async () => {
    const home = mkdtempSync(path.join(os.tmpdir(), 'etui-sentinel-stack-'));
    const [primary, replica, sentinel] = [await freePort(), await freePort(), await freePort()];
    const url = `redis+sentinel://127.0.0.1:${sentinel}/etui-stack`;
    const env = { ...process.env, EVENTSTREAM_HOME: home };
    const flags = ['--redis', url];
    const pids: number[] = [];
    try {
      const bad = await runCli(['stack', 'up', 'redis', ...flags, '--redis-replica', `${primary}`], env);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(/--redis-replica "\d+" is not <primary-port>,<replica-port>/);
      expect(bad.stderr).toContain('Usage: eventstream-tui stack up');
      const plain = await runCli(
        ['stack', 'up', 'redis', '--redis', `redis://127.0.0.1:${primary}`, '--redis-replica', `${primary},${replica}`],
        env,
      );
      expect(plain.code).toBe(2);

      const up = await runCli(['stack', 'up', 'redis', ...flags, '--redis-replica', `${primary},${replica}`], env);
      expect(up.code, up.stderr).toBe(0);
      for (const [role, port] of [
        ['primary', primary],
        ['replica', replica],
        ['sentinel', sentinel],
      ] as const) {
        const pid = Number(new RegExp(`Redis ${role} 127.0.0.1:${port}: started \\(pid (\\d+)`).exec(up.stdout)?.[1]);
        expect(pid, up.stdout).toBeGreaterThan(0);
        pids.push(pid);
      }
      const state = JSON.parse(readFileSync(path.join(home, 'stack.json'), 'utf8')) as {
        started: { pid: number; role: string; set: string }[];
      };
      expect(state.started.map((r) => [r.role, r.set, r.pid])).toEqual([
        ['primary', 'etui-stack', pids[0]],
        ['replica', 'etui-stack', pids[1]],
        ['sentinel', 'etui-stack', pids[2]],
      ]);

      const status = await runCli(['stack', 'status', ...flags, '--json'], env);
      const rows = JSON.parse(status.stdout) as { address: string; role?: string; managed: boolean }[];
      const roles = Object.fromEntries(rows.filter((r) => r.role).map((r) => [r.address, r.role]));
      expect(roles).toEqual({
        [`127.0.0.1:${sentinel}`]: 'sentinel',
        [`127.0.0.1:${primary}`]: 'primary',
        [`127.0.0.1:${replica}`]: 'replica',
      });

      // The pipeline's commands find the primary through the Sentinel.
      const seeded = await runCli(['users', '--redis', url, '--json'], env);
      expect(seeded.code, seeded.stderr).toBe(0);

      // The primary dies: the Sentinel promotes the replica, and status says so.
      process.kill(pids[0]!, 'SIGKILL');
      await waitFor(
        'the replica promoted',
        async () => {
          const again = await runCli(['stack', 'status', ...flags, '--json'], env);
          const now = JSON.parse(again.stdout) as { address: string; role?: string }[];
          return now.find((r) => r.address === `127.0.0.1:${replica}`)?.role === 'primary' || undefined;
        },
        30_000,
        500,
      );

      const down = await runCli(['stack', 'down', 'redis', ...flags], env);
      expect(down.code, down.stderr).toBe(0);
      expect(down.stdout).toContain(`Redis 127.0.0.1:${primary}: was no longer running (pid ${pids[0]})`);
      expect(down.stdout).toContain(`Redis 127.0.0.1:${replica}: stopped (pid ${pids[1]})`);
      expect(down.stdout).toContain(`Redis 127.0.0.1:${sentinel}: stopped (pid ${pids[2]})`);
      expect(pids.filter(isAlive)).toEqual([]);
    } finally {
      await Promise.all(pids.filter(isAlive).map((pid) => stopPid(pid, 5_000)));
      rmSync(home, { recursive: true, force: true });
    }
  });
});
