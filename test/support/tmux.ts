/** Drives a program in a real terminal (tmux), as a person would: keys in, screen out. */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { waitFor } from './cli.js';

const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * Each session on a tmux server of its own (`-L <name>`): on the shared default server, the server
 * shutting down as another test's last session closed could refuse the next `new-session` (seen when
 * two test runs shared the machine).
 */
export class TmuxSession {
  readonly name = `etui-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  private readonly exitFile: string;

  constructor(command: string[], columns = 120, rows = 40, env: Record<string, string> = {}) {
    this.exitFile = path.join(mkdtempSync(path.join(os.tmpdir(), 'etui-tmux-')), 'exit');
    const envs = Object.entries(env).map(([k, v]) => `${k}=${quote(v)}`);
    // CI=true (as .ci/run sets it) makes Ink skip live frames: a person's terminal has no CI variable.
    const shell = `env -u CI ${envs.join(' ')} ${command.map(quote).join(' ')}; echo $? > ${quote(this.exitFile)}; sleep 600`;
    execFileSync('tmux', [
      '-L',
      this.name,
      'new-session',
      '-d',
      '-x',
      String(columns),
      '-y',
      String(rows),
      '-s',
      this.name,
      shell,
    ]);
  }

  screen(): string {
    return execFileSync('tmux', ['-L', this.name, 'capture-pane', '-p', '-t', this.name], { encoding: 'utf8' });
  }

  /** Whether the program is showing the alternate screen. */
  alternateScreen(): boolean {
    return (
      execFileSync('tmux', ['-L', this.name, 'display-message', '-p', '-t', this.name, '#{alternate_on}'], {
        encoding: 'utf8',
      }).trim() === '1'
    );
  }

  keys(...keys: string[]): void {
    execFileSync('tmux', ['-L', this.name, 'send-keys', '-t', this.name, ...keys]);
  }

  async waitForScreen(what: string, predicate: (screen: string) => boolean, timeoutMs = 30_000): Promise<string> {
    let last = '';
    try {
      return await waitFor(
        what,
        () => {
          last = this.screen();
          return predicate(last) ? last : undefined;
        },
        timeoutMs,
        100,
      );
    } catch (error) {
      throw new Error(`${(error as Error).message}\n--- screen ---\n${last}`);
    }
  }

  async exitCode(timeoutMs = 10_000): Promise<number> {
    await waitFor(
      'the program to exit',
      () => existsSync(this.exitFile) && readFileSync(this.exitFile, 'utf8').trim() !== '',
      timeoutMs,
    );
    return Number(readFileSync(this.exitFile, 'utf8').trim());
  }

  /**
   * Ends the session, and first the program in it, by pid: a program whose event loop is blocked never
   * runs its SIGHUP handler, so closing the session alone would leave it running.
   */
  kill(): void {
    try {
      const shell = execFileSync('tmux', ['-L', this.name, 'display-message', '-p', '-t', this.name, '#{pane_pid}'], {
        encoding: 'utf8',
      }).trim();
      const children = execFileSync('ps', ['-o', 'pid=', '--ppid', shell], { encoding: 'utf8' })
        .split('\n')
        .map((l) => Number(l.trim()))
        .filter((pid) => pid > 0);
      for (const pid of children) process.kill(pid, 'SIGKILL');
    } catch {
      // no session or no program left
    }
    try {
      execFileSync('tmux', ['-L', this.name, 'kill-session', '-t', this.name], { stdio: 'ignore' });
    } catch {
      // already gone
    }
  }
}
