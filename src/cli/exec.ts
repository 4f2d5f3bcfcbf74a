/**
 * How node runs a command. V8 takes its heap sizes only at start, and the headless pipeline (`consume`,
 * `run --headless`) wants a young generation of up to 64 MB a half (node's default is 16): a consumer
 * holds thousands of in-flight messages between Redis round trips, and with the default most of its
 * garbage-collection time went to copying them (bench/README.md has the figures).
 *
 * `users` is not re-run: a 256 MB old-space limit held its peak at 140 MB against 212-217 MB with
 * node's (flat from 100,000 to a million users: it streams), but the second node start cost its first
 * rows 0.2-0.5 s (`users | head -5` at a million users), which every use pays.
 *
 * So the executable (bin/eventstream-tui, a plain `#!/usr/bin/env node` script that npm's shims run on
 * every platform) re-runs itself with that flag for these commands: the parent forwards SIGINT,
 * SIGTERM and SIGHUP to the child and ends as the child ended (its exit code, or its signal); the child
 * dies with the parent (SIGKILL, as the parent did) should the parent be killed outright. Every other
 * command, the dashboard first (it owns the terminal), runs in the first process.
 */
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { debugExec, ENV_VARS, execParentPid, nodeOptions, processEnvironment } from '../config/environment.js';

const YOUNG = '--max-semi-space-size=64';

/** The signals a parent hands on to the node it re-ran. */
export const FORWARDED_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/**
 * The subcommand the arguments name and the arguments after it: the first bare word that is not an
 * option's value (`--group run` names none). A boolean option before the subcommand
 * (`--embedded consume`) hides it, and the command runs with node's defaults.
 */
export function subcommandOf(args: readonly string[]): { name: string; rest: readonly string[] } | undefined {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') return undefined;
    if (arg.startsWith('-')) continue;
    const previous = i > 0 ? args[i - 1]! : '';
    if (previous.startsWith('--') && !previous.includes('=')) continue;
    return { name: arg, rest: args.slice(i + 1) };
  }
  return undefined;
}

/** The V8 flags the command asks for: `consume`, `run --headless`; none for the others. */
export function wantedV8Flags(args: readonly string[]): string[] {
  const sub = subcommandOf(args);
  if (!sub || sub.rest.includes('--help') || sub.rest.includes('-h')) return [];
  if (sub.name === 'consume' || (sub.name === 'run' && sub.rest.includes('--headless'))) return [YOUNG];
  return [];
}

/**
 * The flags node still has to be started with: those wanted that neither node's own arguments
 * (`node --max-semi-space-size=32 bin/eventstream-tui consume`) nor NODE_OPTIONS set already.
 */
export function missingV8Flags(args: readonly string[], execArgv: readonly string[], options = ''): string[] {
  const given = [...execArgv, ...options.split(/\s+/)].map((a) => a.split('=')[0]!.replaceAll('_', '-'));
  return wantedV8Flags(args).filter((flag) => !given.includes(flag.split('=')[0]!));
}

/** Runs the command (`argv`: node's, the script's path second): here, or re-run with its V8 flags. */
export async function start(argv: string[]): Promise<void> {
  const parent = execParentPid();
  const child = parent !== undefined && parent === process.ppid && process.channel !== undefined;
  const flags = child ? [] : missingV8Flags(argv.slice(2), process.execArgv, nodeOptions());
  if (debugExec()) {
    const report = { pid: process.pid, ppid: process.ppid, execArgv: process.execArgv, rerun: flags };
    process.stderr.write(`exec: ${JSON.stringify(report)}\n`);
  }
  if (flags.length > 0) return rerun(argv, flags);
  if (child) dieWithParent();
  const { main } = await import('./main.js');
  await main(argv);
}

/**
 * The parent: node again with `flags`, the same script and arguments, the same terminal and pipes. An
 * IPC channel (fd 3) tells the child when the parent is gone.
 */
function rerun(argv: string[], flags: string[]): void {
  const child = spawn(process.execPath, [...process.execArgv, ...flags, argv[1]!, ...argv.slice(2)], {
    stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
    env: { ...processEnvironment(), [ENV_VARS.execParent]: String(process.pid) },
  });
  // A terminal's Ctrl-C reaches both (one process group): the child's handlers take the second one
  // as the first (src/cli/pipeline-commands.ts).
  const forward = (signal: NodeJS.Signals): void => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  };
  for (const signal of FORWARDED_SIGNALS) process.on(signal, forward);
  child.on('error', (error) => {
    // Not started at all (no exit follows); a signal to a child already gone is no error.
    if (child.pid !== undefined) return;
    process.stderr.write(`error: could not start ${process.execPath}: ${error.message}\n`);
    process.exit(1);
  });
  child.once('exit', (code, signal) => {
    for (const s of FORWARDED_SIGNALS) process.off(s, forward);
    if (signal === null) process.exit(code ?? 1);
    // Ended by a signal: end by the same one (a shell then sees 128 + its number), or, where node
    // ignores it (SIGPIPE), with the code a shell would show.
    process.exitCode = 128 + (constants.signals[signal] ?? 0);
    process.kill(process.pid, signal);
  });
}

/** The child: killed outright with the parent (its IPC channel closes), as it would have been alone. */
function dieWithParent(): void {
  process.channel?.unref();
  process.once('disconnect', () => process.kill(process.pid, 'SIGKILL'));
}
