/**
 * How a command ends: with its exit code once its output has left, or, when it fails, with one
 * `error: ...` line and the code that says what kind of failure it was (docs/contracts.md, "Exit
 * codes"), never a stack trace. Every subcommand runs its body through {@link guarded}; `main` maps
 * what fails outside one (a flag refused while parsing) through {@link knownFailure}. A usage error
 * (exit 2) is followed by the help of the command it was given to, as commander prints it after its own.
 */
import type { Command } from 'commander';
import { BrokenUserError, UsersSetError } from '../adapters/redis/store.js';
import { ServiceUnavailableError } from '../app/services.js';
import { ConfigError } from '../config/config.js';
import { StackError } from '../stack/errors.js';
import { sanitize } from '../text/sanitize.js';
import { exitAfterOutput } from './closed-output.js';
import { EXIT } from './exit-codes.js';

/** A bad argument that commander could not check (an unknown service name): exit 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** What a failure the user can act on says, and its exit code; undefined for anything else. */
export function knownFailure(error: unknown): { text: string; code: number } | undefined {
  if (error instanceof ConfigError || error instanceof UsageError) {
    return { text: `error: ${error.message}`, code: EXIT.usage };
  }
  if (error instanceof ServiceUnavailableError) return { text: `error: ${error.message}`, code: EXIT.failure };
  // Keys of another type in Redis, named: values from Redis are quoted terminal-safe.
  if (error instanceof BrokenUserError || error instanceof UsersSetError) {
    return { text: `error: ${sanitize(error.message)}`, code: EXIT.failure };
  }
  if (error instanceof StackError) return { text: error.describe(), code: EXIT.failure };
  return undefined;
}

let usageOf: Command | undefined;

/** The command being parsed or run (main sets it as commander descends): the help a usage error prints. */
export function setUsageCommand(command: Command): void {
  usageOf = command;
}

/** Writes a failure's message on stderr; after a usage error, the help of the command (commander's layout). */
export function reportFailure(failure: { text: string; code: number }): void {
  process.stderr.write(`${failure.text}\n`);
  if (failure.code === EXIT.usage && usageOf) {
    process.stderr.write('\n');
    usageOf.outputHelp({ error: true });
  }
}

/**
 * Runs a command's body and exits with the code it returns (undefined: it keeps running, as `consume`
 * does). A failure is one message on stderr and its exit code; an unexpected one is exit 1.
 */
export async function guarded(body: () => Promise<number | undefined>): Promise<void> {
  let code: number | undefined;
  try {
    code = await body();
  } catch (error) {
    const failure = knownFailure(error) ?? {
      text: `error: ${error instanceof Error ? error.message : String(error)}`,
      code: EXIT.failure,
    };
    reportFailure(failure);
    code = failure.code;
  }
  if (code !== undefined) exitAfterOutput(code);
}
