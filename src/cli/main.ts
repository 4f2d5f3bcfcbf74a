/** The one CLI: argv → config → subcommand. */
import { Command, CommanderError } from 'commander';
import { readFileSync } from 'node:fs';
import { namesSubcommand } from './argv.js';
import type { DashboardFlags } from './dashboard-command.js';
import { rateOption, withConnectionOptions, withConsumerOptions } from './options.js';
import { clockOffsetMs, crashAt, type CrashPointName as NamedCrashPoint } from '../config/environment.js';
import { armCrashPoint, type CrashPointName } from '../pipeline/crash-point.js';
import { setClockOffset } from '../pipeline/clock.js';
import { watchOutputStreams } from './closed-output.js';
import { sanitize } from '../text/sanitize.js';
import { EXIT } from './exit-codes.js';
import { knownFailure, reportFailure, setUsageCommand } from './guarded.js';

// The crash points EVENTSTREAM_CRASH_AT may name (config) are the pipeline's, no more and no fewer.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const _crashPointsAgree: Same<NamedCrashPoint, CrashPointName> = true;

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

export async function buildProgram(args: readonly string[] = process.argv.slice(2)): Promise<Command> {
  const program = new Command('eventstream-tui')
    .description('A real-time notification pipeline on Apache Kafka and Redis, with a live terminal dashboard.')
    .version(pkg.version)
    .enablePositionalOptions();
  withConsumerOptions(withConnectionOptions(program), { dashboard: true })
    .addOption(rateOption('scheduled events per second at start (0: on demand only)', 1))
    .option('--embedded', 'run on in-process stand-ins for Kafka and Redis (no Java, Maven or redis-server needed)')
    .option('--no-embedded', 'never fall back to the embedded stand-ins: a stack that cannot start is an error')
    .option(
      '--keep-stack',
      'leave the local Kafka/Redis this launch started running after quitting (next launch: ~1 s)',
    )
    .option(
      '--log-file <path>',
      'where kafkajs and the app log (default ~/.cache/eventstream-tui/logs/eventstream-tui.log)',
    )
    // A word that names no command reaches the dashboard's action as an operand: refused as commander
    // refuses an unknown subcommand (rather than "too many arguments"), its help listing the commands.
    .allowExcessArguments(true)
    .action(async (flags: DashboardFlags, cmd: Command) => {
      if (cmd.args.length > 0) {
        cmd.error(`error: unknown command '${sanitize(cmd.args[0]!)}'`, {
          exitCode: EXIT.usage,
          code: 'commander.unknownCommand',
        });
      }
      // Loaded on demand: Ink and React take most of a second to load, which the headless commands skip.
      const { runDashboard } = await import('./dashboard-command.js');
      process.exit(await runDashboard(flags));
    });
  // An option the dashboard does not know is a usage error: its help then lists the commands too.
  const known = new Set(program.options.flatMap((o) => [o.long, o.short]).filter((f) => f !== undefined));
  const unknownOption = args.some((a) => a.startsWith('-') && a !== '--' && !known.has(a.split('=')[0]!));
  if (namesSubcommand(args) || unknownOption) {
    const [pipeline, { seedCommand, usersCommand }, { stackCommand }, { dlqCommand }, { scheduledCommand }] =
      await Promise.all([
        import('./pipeline-commands.js'),
        import('./users-command.js'),
        import('./stack-command.js'),
        import('./dlq-command.js'),
        import('./scheduled-command.js'),
      ]);
    program.addCommand(pipeline.runHeadlessCommand());
    program.addCommand(pipeline.consumeCommand());
    program.addCommand(pipeline.produceCommand());
    program.addCommand(seedCommand());
    program.addCommand(usersCommand());
    program.addCommand(await pipeline.prefsCommand());
    program.addCommand(stackCommand());
    program.addCommand(dlqCommand());
    program.addCommand(scheduledCommand());
  }
  // Every (sub)command: usage errors print the command's help and exit 2, never a stack trace.
  // A usage error found by the program itself (a ConfigError, a UsageError) prints the help of the
  // command it was given to as well: the one commander descended to last.
  const configure = (cmd: Command): void => {
    cmd.exitOverride().showHelpAfterError(true).showSuggestionAfterError(true);
    cmd.hook('preSubcommand', (_parent, sub) => setUsageCommand(sub));
    for (const sub of cmd.commands) configure(sub);
  };
  configure(program);
  setUsageCommand(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  watchOutputStreams();
  // The fault suite's hook (EVENTSTREAM_CRASH_AT); unset in normal use.
  armCrashPoint(crashAt());
  setClockOffset(clockOffsetMs());
  const program = await buildProgram(argv.slice(2));
  try {
    await program.parseAsync(argv);
  } catch (error) {
    const failure = knownFailure(error);
    if (failure) {
      reportFailure(failure);
      process.exit(failure.code);
    }
    if (error instanceof CommanderError) {
      // help and version exit 0; usage errors exit 2 (commander prints the message and usage)
      process.exit(error.exitCode === 0 ? 0 : 2);
    }
    throw error;
  }
}
