/** `run --headless`, `consume`, `produce`, `prefs get|set` (`seed` and `users`: users-command.ts; `scheduled list`: scheduled-command.ts). */
import { Command, Option } from 'commander';
import { resolveConfig, type ConfigFlags } from '../config/config.js';
import { sampleUsers } from '../domain/sample-users.js';
import { logLevel } from '../config/environment.js';
import { createLogger, type Logger } from '../log/logger.js';
import {
  Pipeline,
  pipelineSettings,
  type PipelineFlags as SharedPipelineFlags,
  type PipelineSettings,
} from '../app/runtime.js';
import { envelopeFieldProblem, type EventEnvelope } from '../domain/envelope.js';
import { BrokenUserError } from '../adapters/redis/store.js';
import type { Preferences } from '../domain/rules.js';
import { loadCatalog } from '../domain/catalog.js';
import {
  fieldForms,
  parsePreferenceField,
  parsePreferenceValue,
  PreferenceFieldError,
  type PreferenceWrite,
} from '../domain/preference-fields.js';
import { clockNow } from '../pipeline/clock.js';
import { preferencesView } from './prefs-view.js';
import { safeJson } from '../text/safe-json.js';
import { sanitize } from '../text/sanitize.js';
import { exitAfterOutput, onStdoutClosed } from './closed-output.js';
import { EXIT } from './exit-codes.js';
import { guarded, UsageError } from './guarded.js';
import { attachHeadlessOutput, type HeadlessPrinter, type OutputMode } from './headless-output.js';
import { reportUnacknowledged } from './unacknowledged.js';
import { startOps, withOps, type OpsFlags } from './ops.js';
import {
  positiveInt,
  rateOption,
  redisOption,
  redisPasswordFileOption,
  withConnectionOptions,
  withConsumerOptions,
} from './options.js';

interface PipelineFlags extends ConfigFlags, SharedPipelineFlags, OpsFlags {
  output?: OutputMode;
  rate?: number;
}

const GRACE_MS = 4_500;

function settingsFrom(flags: PipelineFlags): PipelineSettings {
  return pipelineSettings(resolveConfig(flags), flags);
}

export function headlessLogger(): Logger {
  return createLogger({ kind: 'stderr' }, logLevel('warn'));
}

/** Headless output; the consumer's status lines (info) show unless LOG_LEVEL asks for warn or less. */
function headlessOutput(pipeline: Pipeline, mode: OutputMode): HeadlessPrinter {
  const statusLines = ['trace', 'debug', 'info'].includes(logLevel('info'));
  return attachHeadlessOutput(pipeline.telemetry, mode, pipeline.catalog.channels, undefined, undefined, statusLines);
}

/**
 * SIGINT/SIGTERM, or stdout closed (`consume | head -1`): stop fetching, settle and commit the batch in
 * flight, disconnect, and exit with the code `stop` returns (0: nothing lost). A closed stdout says
 * nothing: whoever reads stderr did not ask to stop.
 */
function onShutdown(stop: () => Promise<number>, lastWords?: () => number): void {
  let shuttingDown = false;
  const handler = (reason: string | undefined): void => {
    if (shuttingDown) return;
    shuttingDown = true;
    if (reason) {
      process.stderr.write(
        `${JSON.stringify({ level: 'info', msg: `${reason}: settling the batch in flight and leaving` })}\n`,
      );
    }
    // Out of time: what is known lost is still said (the producer's unacknowledged events, exit 3).
    const watchdog = setTimeout(() => {
      const code = lastWords ? lastWords() : EXIT.failure;
      process.stderr.write(
        code === EXIT.ok
          ? 'warning: shutdown did not finish in time; every event produced was acknowledged; exiting without a clean disconnect\n'
          : 'error: shutdown did not finish in time; exiting without a clean disconnect\n',
      );
      exitAfterOutput(code);
    }, GRACE_MS);
    watchdog.unref();
    void stop().then(
      (code) => exitAfterOutput(code),
      () => exitAfterOutput(EXIT.failure),
    );
  };
  // `on`, not `once`: a signal that comes twice (a terminal's Ctrl-C reaches the executable's parent
  // process and this one, and the parent forwards it: src/cli/exec.ts) is one stop, never a kill.
  process.on('SIGINT', () => handler('SIGINT'));
  process.on('SIGTERM', () => handler('SIGTERM'));
  onStdoutClosed(() => handler(undefined));
}

/**
 * Stops the pipeline and the printer; the exit code says whether produced events went unacknowledged
 * (listed on stderr and written to a file).
 */
async function stopAll(
  pipeline: Pipeline,
  printer: { stop(): void },
  /** Events sent outside the producer's schedule (`produce --count`) that the broker never acknowledged. */
  lost: readonly EventEnvelope[] = [],
): Promise<number> {
  const unacknowledged = await pipeline.stop();
  printer.stop();
  return reportOnce([...lost, ...unacknowledged], pipeline);
}

/** The exit code of the report made, once made: a stop and its watchdog never report twice. */
let reported: number | undefined;

function reportOnce(events: readonly EventEnvelope[], pipeline: Pipeline): number {
  reported ??= reportUnacknowledged(events, {
    brokers: pipeline.settings.brokers.join(','),
    topic: pipeline.settings.topic,
  });
  return reported;
}

/**
 * A stop's last words when it runs out of time: the events not acknowledged so far (the producer's,
 * and `extra`: a `--count` batch in flight) are reported as a finished stop would (exit 3), since a
 * send still in flight may never land; nothing pending: exit 0.
 */
function unacknowledgedNow(
  pipeline: () => Pipeline | undefined,
  extra: () => readonly EventEnvelope[] = () => [],
): () => number {
  return () => {
    const running = pipeline();
    if (!running) return reported ?? EXIT.ok;
    return reportOnce([...extra(), ...(running.producer?.pending() ?? [])], running);
  };
}

/** A consumer that stopped on its own ends the process: exit 4, after its error line. */
function exitWhenConsumerStops(pipeline: Pipeline, printer: { stop(): void }): void {
  void pipeline.consumer?.fatal.then(async () => {
    await stopAll(pipeline, printer).catch(() => undefined);
    exitAfterOutput(EXIT.consumerStopped);
  });
}

async function drainUntilCaughtUp(pipeline: Pipeline): Promise<void> {
  const ends = await pipeline.log.topicOffsets(pipeline.settings.topic);
  while (!(await pipeline.caughtUp(ends))) await new Promise((r) => setTimeout(r, 250));
}

export function consumeCommand(): Command {
  const cmd = withConsumerOptions(withConnectionOptions(new Command('consume')))
    .description('run the notification consumer headless: JSON lines on stdout, logs on stderr')
    .option(
      '--drain',
      'exit 0 once caught up with the end of every partition (like kcat -e); it does not wait for sends deferred by quiet hours: they stay in the schedule (scheduled list) and a consumer running at their due time sends them',
    );
  cmd.action(async (flags: PipelineFlags & { drain?: boolean }) => {
    await guarded(async () => {
      const settings = settingsFrom(flags);
      const ops = await startOps(flags);
      const pipeline = await Pipeline.create(settings, headlessLogger());
      ops?.attach(pipeline);
      const printer = withOps(headlessOutput(pipeline, flags.output ?? 'lines'), ops);
      onShutdown(() => stopAll(pipeline, printer));
      await pipeline.ensureTopics();
      await pipeline.startConsumer();
      exitWhenConsumerStops(pipeline, printer);
      if (flags.drain) {
        await drainUntilCaughtUp(pipeline);
        return stopAll(pipeline, printer);
      }
      return undefined;
    });
  });
  return cmd;
}

export function runHeadlessCommand(): Command {
  const cmd = withConsumerOptions(withConnectionOptions(new Command('run')))
    .description('run the producer and the consumer together')
    .option('--headless', 'no dashboard: JSON lines on stdout, logs on stderr')
    .addOption(rateOption('scheduled events per second (0: none)', 1));
  cmd.action(async (flags: PipelineFlags & { headless?: boolean }) => {
    await guarded(async () => {
      if (!flags.headless) {
        const { runDashboard } = await import('./dashboard-command.js');
        return runDashboard(flags);
      }
      const settings = settingsFrom(flags);
      const ops = await startOps(flags);
      const pipeline = await Pipeline.create(settings, headlessLogger());
      ops?.attach(pipeline);
      const printer = withOps(headlessOutput(pipeline, flags.output ?? 'lines'), ops);
      onShutdown(
        () => stopAll(pipeline, printer),
        unacknowledgedNow(() => pipeline),
      );
      await pipeline.ensureTopics();
      await pipeline.seedIfEmpty();
      await pipeline.startConsumer();
      exitWhenConsumerStops(pipeline, printer);
      await pipeline.startProducer(flags.rate ?? 1);
      return undefined;
    });
  });
  return cmd;
}

export function produceCommand(): Command {
  const cmd = withConnectionOptions(new Command('produce'))
    .description('produce events: a count now, or a rate until interrupted')
    .option('--type <type>', 'event type (default: random from the catalog)')
    .option('--user <id>', 'user id (default: a random seeded user)')
    .addOption(
      new Option('--count <n>', 'how many events to send, then exit')
        .argParser(positiveInt('--count'))
        .conflicts('rate'),
    )
    .addOption(rateOption('events per second until interrupted'))
    .addOption(
      new Option('--partitions <n>', 'partitions if the topic must be created (default 3)').argParser(
        positiveInt('--partitions'),
      ),
    )
    .addOption(
      new Option('--output <mode>', 'stdout: a JSON line per event produced, or nothing')
        .choices(['lines', 'none'])
        .default('lines'),
    );
  cmd.action(async (flags: PipelineFlags & { type?: string; user?: string; count?: number }) => {
    // Every mode stops on a signal (or a closed stdout) the same way, from the start: nothing more is
    // produced, the send in flight is awaited, every acknowledged event is printed, and any never
    // acknowledged is reported (exit 3). A signal before anything was produced exits 0.
    let stopping = false;
    let running: { pipeline: Pipeline; printer: HeadlessPrinter } | undefined;
    /** The batch `--count` has in flight: resolves with its events if the broker never acknowledged them. */
    let inFlight: Promise<EventEnvelope[]> = Promise.resolve([]);
    let finishing: Promise<number> | undefined;
    const finish = (lost: EventEnvelope[] = []): Promise<number> =>
      (finishing ??= running ? stopAll(running.pipeline, running.printer, lost) : Promise.resolve(EXIT.ok));
    /** That batch's events while it is in flight. */
    let countBatch: EventEnvelope[] = [];
    onShutdown(
      async () => {
        stopping = true;
        return finish(running ? await inFlight : []);
      },
      unacknowledgedNow(
        () => running?.pipeline,
        () => countBatch,
      ),
    );
    await guarded(async () => {
      // The envelope's own rules: what the consumer would dead-letter is refused here (exit 2).
      for (const [flag, field, value] of [
        ['--user', 'userId', flags.user],
        ['--type', 'type', flags.type],
      ] as const) {
        const problem = value === undefined ? undefined : envelopeFieldProblem(field, value);
        if (problem) throw new UsageError(`${flag} must be ${problem}`);
      }
      const pipeline = await Pipeline.create(settingsFrom(flags), headlessLogger());
      if (flags.type !== undefined && !pipeline.catalog.eventTypes.has(flags.type)) {
        await pipeline.stop();
        throw new UsageError(
          `unknown event type "${sanitize(flags.type)}"; known: ${[...pipeline.catalog.eventTypes.keys()].join(', ')}`,
        );
      }
      const printer = headlessOutput(pipeline, flags.output === 'none' ? 'none' : 'lines');
      await pipeline.ensureTopics();
      const users = flags.user !== undefined ? [flags.user] : await pipeline.refreshUsers();
      const userIds = users.length > 0 ? users : sampleUsers(pipeline.catalog.channels).map((u) => u.profile.id);
      const producer = await pipeline.startProducer(0);
      // Stopped during the set-up: the handler has exited (nothing was produced).
      if (stopping) return undefined;
      running = { pipeline, printer };
      const make = () => {
        const type =
          flags.type ??
          [...pipeline.catalog.eventTypes.keys()][Math.floor(Math.random() * pipeline.catalog.eventTypes.size)]!;
        return producer.makeEvent(type, userIds[Math.floor(Math.random() * userIds.length)]!);
      };
      if (flags.rate !== undefined) {
        // The producer's own schedule: one send in flight, unacknowledged events kept (bounded) and
        // retried while the broker is away; on stop, any never acknowledged are reported (exit 3).
        producer.start(flags.rate, make);
        return undefined;
      }
      const count = flags.count ?? 1;
      let acknowledged = 0;
      while (acknowledged < count && !stopping) {
        const batch = Array.from({ length: Math.min(1000, count - acknowledged) }, make);
        const sent = producer.send(batch).then(
          () => undefined,
          (error: unknown) => (error instanceof Error ? error : new Error(String(error))),
        );
        inFlight = sent.then((error) => (error ? batch : []));
        countBatch = batch;
        const error = await sent;
        if (!error) countBatch = [];
        // Stopped while this batch was in flight: the handler reports it (printed, or unacknowledged).
        if (stopping) return undefined;
        if (error) {
          // A signal from now on waits for this ending rather than starting another.
          finishing = (async () => {
            await pipeline.stop().catch(() => undefined);
            printer.stop();
            process.stderr.write(
              `error: producing failed after ${acknowledged} of ${count} event(s) were acknowledged: ${error.message}\n`,
            );
            return EXIT.failure;
          })();
          return finishing;
        }
        acknowledged += batch.length;
      }
      return stopping ? undefined : finish();
    });
  });
  return cmd;
}

const noUser = (user: string): string =>
  `error: no user "${sanitize(user)}" (hash user:${sanitize(user)} does not exist)\n`;

/**
 * A user's preferences; undefined when the user does not exist. A user whose profile (`user:<id>`) holds
 * another type still has preferences to read and change: a warning names the key. Preferences of
 * another type are an error naming that key.
 */
async function userPrefs(pipeline: Pipeline, user: string): Promise<Preferences | undefined> {
  try {
    return (await pipeline.store.getUser(user))?.prefs;
  } catch (error) {
    if (!(error instanceof BrokenUserError) || !error.prefs) throw error;
    process.stderr.write(`warning: ${sanitize(error.message)}\n`);
    return error.prefs;
  }
}

/** A user's whole preferences as `prefs get` prints them; undefined when the user does not exist. */
async function prefsLine(pipeline: Pipeline, user: string): Promise<string | undefined> {
  const found = await userPrefs(pipeline, user);
  if (!found) return undefined;
  const raw = await pipeline.store.rawPreferences(user);
  return `${safeJson(preferencesView(user, found, raw, pipeline.catalog, clockNow()))}\n`;
}

export async function prefsCommand(): Promise<Command> {
  const catalog = await loadCatalog();
  const forms = fieldForms(catalog)
    .map((f) => `  ${f}`)
    .join('\n');
  const prefs = new Command('prefs').description(
    "read or change a user's preferences in Redis: channels, per event type, time zone, quiet hours",
  );
  prefs
    .command('get')
    .argument('<user>', 'user id')
    .addOption(redisOption())
    .addOption(redisPasswordFileOption())
    .description(
      "print a user's preferences as one JSON line: channels (prefs), the type × channel matrix (types: on, off, default, required; effective: what is sent), tz, windows, quietNow, invalid fields",
    )
    .action(async (user: string, flags: ConfigFlags) => {
      await guarded(async () => {
        const pipeline = await Pipeline.create(settingsFrom(flags), headlessLogger(), { kafka: false, redis: true });
        try {
          const line = await prefsLine(pipeline, user);
          if (!line) {
            process.stderr.write(noUser(user));
            return EXIT.failure;
          }
          process.stdout.write(line);
          return 0;
        } finally {
          await pipeline.stop();
        }
      });
    });
  prefs
    .command('set')
    .argument('<user>', 'user id')
    .argument('<field>', 'a channel, <type>.<channel>, tz, quiet, cap.<channel> or digest.<type> (the forms below)')
    .argument('<value>', 'the value for that field (quote windows as one argument)')
    .addOption(redisOption())
    .addOption(redisPasswordFileOption())
    .description(
      "change one field of a user's preferences (governs the next event consumed), then print them as prefs get does",
    )
    .addHelpText(
      'after',
      `\nFields and values:\n${forms}\n\nExamples:\n  prefs set user-04 sms off\n  prefs set user-04 item_purchased.sms off     (default: back to the type's default)\n  prefs set user-04 tz Europe/Paris\n  prefs set user-04 quiet "mon-fri 22:00-07:00; sat,sun 23:00-09:00"     (none: no quiet hours)`,
    )
    .action(async (user: string, field: string, value: string, flags: ConfigFlags) => {
      await guarded(async () => {
        // Checked before Redis is touched: a bad field or value writes nothing (exit 2).
        let write: PreferenceWrite;
        try {
          write = parsePreferenceValue(parsePreferenceField(field, catalog), value, catalog);
        } catch (error) {
          if (error instanceof PreferenceFieldError) throw new UsageError(sanitize(error.message));
          throw error;
        }
        const pipeline = await Pipeline.create(settingsFrom(flags), headlessLogger(), { kafka: false, redis: true });
        try {
          // Like `prefs get`: preferences of a user that does not exist would be an orphan key no one reads.
          if (!(await userPrefs(pipeline, user))) {
            process.stderr.write(noUser(user));
            return EXIT.failure;
          }
          await pipeline.store.writePreference(user, write);
          const line = await prefsLine(pipeline, user);
          if (line) process.stdout.write(line);
          return 0;
        } finally {
          await pipeline.stop();
        }
      });
    });
  return prefs;
}
