/** What the arguments ask for, before any subcommand's module is loaded. */
const SUBCOMMANDS = new Set([
  'run',
  'consume',
  'produce',
  'seed',
  'users',
  'prefs',
  'stack',
  'dlq',
  'scheduled',
  'help',
]);

/**
 * Whether the arguments may name a subcommand: a bare word that is not an option's value, or a request
 * for help. Only then are the subcommands' modules (and with them kafkajs, ioredis, the stack) loaded:
 * the dashboard's first frame does not wait for them.
 */
export function namesSubcommand(args: readonly string[]): boolean {
  return args.some(
    (arg, i) =>
      arg === '--help' ||
      arg === '-h' ||
      SUBCOMMANDS.has(arg) ||
      (!arg.startsWith('-') && !(i > 0 && args[i - 1]!.startsWith('--') && !args[i - 1]!.includes('='))),
  );
}
