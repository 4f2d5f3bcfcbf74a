/** Starting detached service processes, and stopping them by pid. */
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether `pid` is still the program we started (pids are reused), judged by its command line. */
export function isOurProcess(pid: number, marker: string): boolean {
  if (!isAlive(pid)) return false;
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(marker);
  } catch {
    // no /proc (macOS): trust the live pid
    return true;
  }
}

export interface Detached {
  pid: number;
  /** Resolves with the exit code if the process ends while we still watch it. */
  exited: Promise<number | null>;
}

/** Starts a long-running service with its output appended to `logFile`; it outlives this process. */
export function startDetached(command: string, args: string[], logFile: string, cwd: string): Detached {
  const fd = openSync(logFile, 'a');
  try {
    const child = spawn(command, args, { cwd, detached: true, stdio: ['ignore', fd, fd] });
    if (child.pid === undefined) throw new Error(`could not start ${command}`);
    const exited = new Promise<number | null>((resolve) => {
      child.once('exit', (code) => resolve(code));
      child.once('error', () => resolve(-1));
    });
    child.unref();
    return { pid: child.pid, exited };
  } finally {
    closeSync(fd);
  }
}

export async function waitUntil(
  condition: () => boolean | Promise<boolean>,
  timeoutMs: number,
  intervalMs = 200,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** SIGTERM, wait for a clean exit, SIGKILL after `graceMs`; resolves once the pid is gone. */
export async function stopPid(pid: number, graceMs = 30_000): Promise<'stopped' | 'killed' | 'not-running'> {
  if (!isAlive(pid)) return 'not-running';
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return 'not-running';
  }
  if (await waitUntil(() => !isAlive(pid), graceMs, 100)) return 'stopped';
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
  await waitUntil(() => !isAlive(pid), 5_000, 50);
  return 'killed';
}

export function tailOfFile(file: string, lines = 20): string {
  try {
    const text = readFileSync(file, 'utf8');
    return text.trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return `(no log at ${file})`;
  }
}
