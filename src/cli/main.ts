/** The one CLI: argv → config → subcommand. */
import { Command, CommanderError } from 'commander';
import { readFileSync } from 'node:fs';
import {
  consumeCommand,
  prefsCommand,
  produceCommand,
  runHeadlessCommand,
  seedCommand,
  usersCommand,
} from './pipeline-commands.js';
import { stackCommand } from './stack-command.js';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

export function buildProgram(): Command {
  const program = new Command('eventstream-tui')
    .description('A real-time notification pipeline on Apache Kafka and Redis, with a live terminal dashboard.')
    .version(pkg.version);
  program.addCommand(runHeadlessCommand());
  program.addCommand(consumeCommand());
  program.addCommand(produceCommand());
  program.addCommand(seedCommand());
  program.addCommand(usersCommand());
  program.addCommand(prefsCommand());
  program.addCommand(stackCommand());
  // Every (sub)command: usage errors print the command's help and exit 2, never a stack trace.
  const configure = (cmd: Command): void => {
    cmd.exitOverride().showHelpAfterError(true).showSuggestionAfterError(true);
    for (const sub of cmd.commands) configure(sub);
  };
  configure(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      // help and version exit 0; usage errors exit 2 (commander prints the message and usage)
      process.exit(error.exitCode === 0 ? 0 : 2);
    }
    throw error;
  }
}

await main(process.argv);
