/**
 * The dashboard as the end-to-end tests start it: the real binary in a real terminal (tmux), waited for
 * until the screen shows what the test needs first. One at a time per file: a launch ends the one
 * before it, and `kill` (in the file's afterAll) ends the last.
 */
import { binPath } from './cli.js';
import { brokers, redisUrl } from './pipeline.js';
import { TmuxSession } from './tmux.js';

/** What the dashboard runs on. It injects nothing by itself (`--rate 0`): the tests press the keys. */
export type DashboardTarget =
  /** The suite's Kafka and Redis, on a topic and group of the test's own; `cwd`: its working directory. */
  | { topic: string; group: string; cwd?: string }
  /** The in-process stand-ins (`--embedded`). */
  | { embedded: true };

/** What the screen shows once the dashboard is as far as the test needs (30 s unless said). */
export interface Ready {
  what: string;
  until: (screen: string) => boolean;
  timeoutMs?: number;
}

const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

export function dashboardCommand(target: DashboardTarget): string[] {
  if ('embedded' in target) return [process.execPath, binPath, '--embedded', '--rate', '0'];
  const command = [process.execPath, binPath, '--brokers', brokers(), '--redis', redisUrl()].concat([
    '--topic',
    target.topic,
    '--group',
    target.group,
    '--rate',
    '0',
  ]);
  if (target.cwd === undefined) return command;
  return ['sh', '-c', `cd ${quote(target.cwd)} && exec ${command.map(quote).join(' ')}`];
}

export class Dashboards {
  private session: TmuxSession | undefined;

  /** Ends the dashboard before (if any), starts one in a terminal of `columns`×`rows`, waits until `ready`. */
  async launch(
    target: DashboardTarget,
    ready: Ready,
    { columns = 120, rows = 40 }: { columns?: number; rows?: number } = {},
  ): Promise<{ session: TmuxSession; screen: string }> {
    this.kill();
    const session = new TmuxSession(dashboardCommand(target), columns, rows);
    this.session = session;
    const screen = await session.waitForScreen(ready.what, ready.until, ready.timeoutMs);
    return { session, screen };
  }

  /** Ends the last dashboard launched, and its terminal. */
  kill(): void {
    this.session?.kill();
    this.session = undefined;
  }
}
