/** What the bench's two scripts (run.ts, cpu-per-event.ts) share: paths, /proc readings, topics, events, kcat. */
import { execFileSync } from 'node:child_process';
import net from 'node:net';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { createKafka, createLogger } from '../src/index.js';

/** The checkout: the nearest folder above this file with a package.json (bench/ as source, dist-bench/bench/ built). */
function findRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`no package.json above ${from}`);
  }
}

export const root = findRoot(path.dirname(fileURLToPath(import.meta.url)));
/** The executable, as a user runs it (its shebang carries the heap flags). */
export const bin = path.join(root, 'bin', 'eventstream-tui');

export const log = (line: string): void => void process.stderr.write(`[bench] ${line}\n`);
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** /proc's clock ticks per second (USER_HZ). */
export const TICK = 100;

/** A process's CPU time so far (user + system), in ticks of 1/TICK s. */
export function cpuTicks(pid: number): number {
  const fields = (readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1] ?? '').split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

/**
 * The process that runs a command the bench started as `pid`: the executable re-runs `consume`,
 * `run --headless` and `users` in a child node started with V8's heap flags (src/cli/exec.ts) and
 * waits for it; that child, once it is there, else `pid` itself.
 */
export function commandPid(pid: number): number {
  try {
    const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/);
    for (const child of children.filter(Boolean).map(Number)) {
      const argv = readFileSync(`/proc/${child}/cmdline`, 'utf8').split('\0');
      if (argv.some((a) => a.startsWith('--max-semi-space-size') || a.startsWith('--max-old-space-size'))) return child;
    }
  } catch {
    // gone, or not started yet
  }
  return pid;
}

/** A process's CPU time so far (user + system), in seconds. */
export const procCpuSeconds = (pid: number): number => cpuTicks(pid) / TICK;

/** The table the bench prints: one markdown row per measure. */
export type Row = [measure: string, figure: string, note: string];

export const markdownTable = (rows: readonly Row[]): string =>
  ['| measure | figure | note |', '| --- | --- | --- |', ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');

/** Calls `onLine` with each JSON line a child prints on `stream`. */
export function onJsonLines(stream: Readable, onLine: (line: Record<string, unknown>) => void): void {
  let buffer = '';
  stream.setEncoding('utf8').on('data', (chunk: string) => {
    buffer += chunk;
    let nl;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      if (line) onLine(JSON.parse(line) as Record<string, unknown>);
    }
  });
}

/** `topic` and its dead-letter topic with `partitions` each; resolves with what deletes them again. */
export async function createTopic(brokers: string[], topic: string, partitions: number): Promise<() => Promise<void>> {
  const admin = () => createKafka({ brokers, logger: createLogger({ kind: 'silent' }) }).admin();
  const creator = admin();
  await creator.connect();
  await creator.createTopics({
    topics: [
      { topic, numPartitions: partitions },
      { topic: `${topic}.dlq`, numPartitions: partitions },
    ],
    waitForLeaders: true,
  });
  await creator.disconnect();
  return async () => {
    const remover = admin();
    try {
      await remover.connect();
      await remover.deleteTopics({ topics: [topic, `${topic}.dlq`] });
    } catch {
      // left behind: a bench topic, harmless
    } finally {
      await remover.disconnect();
    }
  };
}

const ITEMS = ['mechanical keyboard', 'noise-cancelling headphones', 'espresso grinder', 'standing desk', 'e-reader'];

/**
 * `count` events as `key\tvalue` lines for kcat (`-K'\t' -l`), in a new file in `dir`: item_purchased for
 * `users` (every channel on; `mixed`: the three types in turn), or without users the sample mix (a
 * signup, a purchase, a password reset in turn, for the 24 sample users).
 */
export function eventsFile(dir: string, count: number, users?: readonly string[], mixed = false): string {
  const types = ['user_signup', 'item_purchased', 'password_reset'];
  const lines = new Array<string>(count);
  const occurredAt = new Date().toISOString();
  for (let i = 0; i < count; i++) {
    const all = users !== undefined;
    const userId = all ? users[i % users.length]! : `user-${String((i % 24) + 1).padStart(2, '0')}`;
    const e = {
      id: randomUUID(),
      type: all && !mixed ? 'item_purchased' : types[i % 3],
      userId,
      occurredAt,
      payload:
        all && !mixed
          ? { orderId: `ord-${(i * 7919).toString(36)}`, item: ITEMS[i % ITEMS.length], amount: 99.5, currency: 'USD' }
          : { plan: 'pro', item: 'e-reader', amount: 99.5, code: '123456' },
    };
    lines[i] = `${userId}\t${JSON.stringify(e)}`;
  }
  const file = path.join(dir, `events-${randomUUID().slice(0, 8)}.txt`);
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

/** kcat producing the lines of `file` to `topic`; resolves with the milliseconds it took. */
export function kcatProduce(brokers: string[], topic: string, file: string): number {
  const started = Date.now();
  execFileSync(
    'kcat',
    [
      '-P',
      '-b',
      brokers.join(','),
      '-t',
      topic,
      '-K',
      '\t',
      '-l',
      file,
      '-X',
      'linger.ms=5',
      '-X',
      'batch.num.messages=10000',
    ],
    { stdio: 'ignore' },
  );
  return Date.now() - started;
}

/**
 * A kafkajs consumer doing nothing, reading `count` events of `topic` from the beginning: the ceiling
 * of any kafkajs-based consumer here. `ms` counts from its start (the group join included), `steadyMs`
 * and `cpuUsPerEvent` (this process's CPU) from its first batch.
 */
export async function kafkajsDoingNothing(
  brokers: string[],
  topic: string,
  count: number,
): Promise<{ ms: number; steadyMs: number; cpuUsPerEvent: number }> {
  const kafka = createKafka({ brokers, logger: createLogger({ kind: 'silent' }) });
  const consumer = kafka.consumer({ groupId: `bench-noop-${randomUUID()}`, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let seen = 0;
  let first = 0;
  let cpuAtFirst: NodeJS.CpuUsage | undefined;
  const done = new Promise<void>((resolve) => {
    void consumer.run({
      eachBatch: async ({ batch }) => {
        if (!first) {
          first = Date.now();
          cpuAtFirst = process.cpuUsage();
        }
        seen += batch.messages.length;
        if (seen >= count) resolve();
      },
    });
  });
  const started = Date.now();
  await done;
  const cpu = process.cpuUsage(cpuAtFirst);
  const ms = Date.now() - started;
  const steadyMs = Date.now() - first;
  await consumer.disconnect();
  return { ms, steadyMs, cpuUsPerEvent: (cpu.user + cpu.system) / count };
}

/** A process's resident memory, in MB. */
export function rssMb(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmRSS:'));
  return Math.round(Number(line?.split(/\s+/)[1]) / 1024);
}

/** CPU (share of one core) and RSS of a process (the one that runs its command) over a window. */
export async function sample(command: number, windowMs: number): Promise<{ cpu: number; rss: number }> {
  const pid = commandPid(command);
  const t0 = Date.now();
  const c0 = cpuTicks(pid);
  await sleep(windowMs);
  const c1 = cpuTicks(pid);
  return { cpu: Math.round(((c1 - c0) / TICK / ((Date.now() - t0) / 1000)) * 100), rss: rssMb(pid) };
}

/** The node process a tmux session runs (below its shell). */
export function nodePidIn(tmuxSession: string): number {
  const shellPid = execFileSync('tmux', ['display-message', '-p', '-t', tmuxSession, '#{pane_pid}'], {
    encoding: 'utf8',
  }).trim();
  const all = execFileSync('ps', ['-eo', 'pid=,ppid=,comm='], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .map((l) => l.trim().split(/\s+/));
  const children = (p: string) => all.filter(([, ppid]) => ppid === p);
  const stack = [shellPid];
  while (stack.length) {
    const p = stack.pop()!;
    for (const [pid = '', , comm] of children(p)) {
      if (comm === 'node') return Number(pid);
      stack.push(pid);
    }
  }
  throw new Error('no node process in the tmux session');
}

/**
 * The dashboard started in tmux (120×40) as a person would, on a topic and group of its own, at `rate`
 * events/s, its log in the bench's folder; the shell lingers `lingerS` seconds after it. `quit` presses q,
 * waits 3 s and closes the session.
 */
export function dashboardInTmux(options: {
  session: string;
  /** How the dashboard is started: the executable (its shebang's flags) or node and it. */
  command: string;
  rate: number;
  topicPrefix: string;
  /** The log file's path. */
  logFile: string;
  lingerS: number;
}) {
  const { session } = options;
  execFileSync('tmux', [
    'new-session',
    '-d',
    '-x',
    '120',
    '-y',
    '40',
    '-s',
    session,
    `env -u CI ${options.command} --rate ${options.rate} --topic ${options.topicPrefix}-${randomUUID().slice(0, 8)} --group bench-${randomUUID()} --log-file ${options.logFile}; sleep ${options.lingerS}`,
  ]);
  return {
    pid: () => nodePidIn(session),
    screen: () => execFileSync('tmux', ['capture-pane', '-p', '-t', session], { encoding: 'utf8' }),
    quit: async () => {
      execFileSync('tmux', ['send-keys', '-t', session, 'q']);
      await sleep(3000);
      execFileSync('tmux', ['kill-session', '-t', session], { stdio: 'ignore' });
    },
  };
}

/** A TCP port nothing listens on now (for a server the bench starts). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
