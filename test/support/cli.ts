import { execFile } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const binPath = path.join(repoRoot, 'bin', 'eventstream-tui');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the real CLI (the built one, as a user would) and collects its output. */
export function runCli(args: string[], env: NodeJS.ProcessEnv = process.env, timeoutMs = 60_000): Promise<CliResult> {
  return new Promise((resolve) => {
    let timedOut = false;
    const child = execFile(
      process.execPath,
      [binPath, ...args],
      { env: { ...env, CI: 'true' }, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        clearTimeout(timer);
        // Stopped by the deadline, it may still exit 0 (SIGTERM is a clean stop): that is no success.
        if (timedOut) resolve({ code: 124, stdout, stderr: `${stderr}\n[runCli] timed out after ${timeoutMs} ms` });
        else resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
      },
    );
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGTERM');
    }, timeoutMs);
  });
}

export interface ExecReport {
  pid: number;
  ppid: number;
  execArgv: string[];
  /** The V8 flags it re-ran node with ([]: it ran the command itself). */
  rerun: string[];
}

/** The `exec: {…}` lines of stderr (EVENTSTREAM_DEBUG_EXEC set), the executable's parent process first. */
export function execReports(stderr: string): ExecReport[] {
  return stderr
    .split('\n')
    .filter((l) => l.startsWith('exec: '))
    .map((l) => JSON.parse(l.slice('exec: '.length)) as ExecReport);
}

/** Whether a server can listen on 127.0.0.1:`port` now. */
export function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * A free port for a server the tests start (a broker takes it and the next one, its controller's).
 * Picked below the kernel's ephemeral range (32768 and up): a port the kernel handed out (port 0)
 * can be taken by any client's outgoing connection before the server binds it, and once was (a SASL
 * broker's controller: "Address already in use", in CI).
 */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if ((await canListen(port)) && (await canListen(port + 1))) return port;
  }
}

/** Polls until `check` returns a value (not undefined/false), or fails with `what` after the deadline. */
export async function waitFor<T>(
  what: string,
  check: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 15_000,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}`,
      );
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
