/** `dlq list` and `dlq replay`: the dead-letter topic from the command line, like kcat on `<topic>.dlq`. */
import { Command, InvalidArgumentError, Option } from 'commander';
import { resolveConfig, type ConfigFlags } from '../config/config.js';
import {
  DeadLetterReader,
  DeadLetterTopicMissingError,
  letterAddress,
  LetterNotFoundError,
  replayDeadLetters,
  type DeadLetterRecord,
  type LetterPosition,
  isChannelLetter,
} from '../pipeline/dead-letters.js';
import { LETTER_REASONS } from '../pipeline/ports.js';
import { Pipeline, pipelineSettings } from '../app/runtime.js';
import { jsonLine } from '../text/json-line.js';
import { sanitize } from '../text/sanitize.js';
import { positiveInt } from './options.js';
import { withConnectionOptions } from './options.js';
import { guarded } from './guarded.js';
import { headlessLogger } from './pipeline-commands.js';

interface ListFlags extends ConfigFlags {
  reason?: string;
  limit?: number;
}

interface ReplayFlags extends ConfigFlags {
  offset?: LetterPosition[];
  all?: boolean;
  reason?: string;
}

const reasonOption = (what: string): Option =>
  new Option('--reason <reason>', `only ${what} with this dlq-reason`).choices(LETTER_REASONS);

/** `<partition>:<offset>`, repeatable and variadic: `--offset 0:5 1:7` or `--offset 0:5 --offset 1:7`. */
function parsePosition(value: string, previous: LetterPosition[] | undefined): LetterPosition[] {
  const match = /^(\d{1,9}):(\d{1,19})$/.exec(value.trim());
  if (!match || BigInt(match[2]!) > 2n ** 63n - 1n) {
    throw new InvalidArgumentError(`--offset takes <partition>:<offset> (for example 0:42), not "${value}"`);
  }
  return [...(previous ?? []), { partition: Number(match[1]), offset: BigInt(match[2]!).toString() }];
}

/** The event id of a failed delivery (its value is a valid event), to look it up in the outboxes. */
function eventIdOf(letter: DeadLetterRecord): string | undefined {
  if (!isChannelLetter(letter) || !letter.value) return undefined;
  try {
    const id = (JSON.parse(letter.value.toString('utf8')) as { id?: unknown }).id;
    return typeof id === 'string' ? id : undefined;
  } catch {
    return undefined;
  }
}

export function letterLine(letter: DeadLetterRecord): Record<string, unknown> {
  const eventId = eventIdOf(letter);
  return {
    kind: 'deadletter',
    dlqPartition: letter.dlqPartition,
    dlqOffset: letter.dlqOffset,
    reason: letter.reason,
    detail: letter.detail,
    channel: letter.channel,
    key: letter.key?.toString('utf8') ?? null,
    ...(eventId !== undefined ? { eventId } : {}),
    sourceTopic: letter.sourceTopic,
    sourcePartition: letter.sourcePartition,
    sourceOffset: letter.sourceOffset,
    failedAt: letter.failedAt,
    valueBytes: letter.value?.length ?? 0,
  };
}

function replayedLine(letter: DeadLetterRecord): Record<string, unknown> {
  const eventId = eventIdOf(letter);
  return {
    kind: 'replayed',
    dlqPartition: letter.dlqPartition,
    dlqOffset: letter.dlqOffset,
    reason: letter.reason,
    channel: letter.channel,
    key: letter.key?.toString('utf8') ?? null,
    ...(eventId !== undefined ? { eventId } : {}),
    sourceTopic: letter.sourceTopic,
    replayedFrom: letterAddress(letter),
  };
}

/** The reader of stdout went away (`dlq list | head`): stop reading, clean up, exit 0. */
class StdoutClosedError extends Error {
  override name = 'StdoutClosedError';
}

let stdoutClosed = false;

function watchStdout(): void {
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    stdoutClosed = true;
  });
}

/**
 * Lines gathered and written in large writes (a topic may hold millions of letters). Once stdout is
 * closed, a listing stops; a replay goes on (its lines are dropped): stopping half way would be worse.
 */
function lineWriter({ stopWhenClosed }: { stopWhenClosed: boolean }): { write(line: string): void; flush(): void } {
  let pending = '';
  const flush = (): void => {
    if (stdoutClosed && stopWhenClosed) throw new StdoutClosedError('stdout closed');
    if (stdoutClosed) pending = '';
    if (pending) process.stdout.write(pending);
    pending = '';
  };
  return {
    write: (line) => {
      pending += line;
      if (pending.length >= 64 * 1024) flush();
    },
    flush,
  };
}

/** The log on Kafka (Redis is not needed), the dead-letter topic of --topic, and their clean-up. */
async function withDeadLetters(
  flags: ConfigFlags,
  body: (reader: DeadLetterReader, pipeline: Pipeline) => Promise<number>,
): Promise<number> {
  const settings = pipelineSettings(resolveConfig(flags), {}, 'eventstream-tui-dlq');
  const pipeline = await Pipeline.create(settings, headlessLogger(), { kafka: true, redis: false });
  try {
    return await body(new DeadLetterReader(pipeline.log, pipeline.dlqTopic), pipeline);
  } catch (error) {
    if (error instanceof StdoutClosedError) return 0;
    if (error instanceof DeadLetterTopicMissingError || error instanceof LetterNotFoundError) {
      process.stderr.write(`error: ${sanitize(error.message)}\n`);
      return 1;
    }
    throw error;
  } finally {
    await pipeline.stop();
  }
}

function listCommand(): Command {
  const cmd = withConnectionOptions(new Command('list'), { redis: false })
    .description(
      'print the dead letters of <topic>.dlq, one JSON line each, up to the end offsets at start, then exit 0',
    )
    .addOption(reasonOption('letters'))
    .addOption(
      new Option('--limit <n>', 'only the newest n letters (after --reason), oldest first').argParser(
        positiveInt('--limit'),
      ),
    );
  cmd.action(async (flags: ListFlags) => {
    await guarded(async () => {
      watchStdout();
      return withDeadLetters(flags, async (reader) => {
        const out = lineWriter({ stopWhenClosed: true });
        const summary = await reader.list({ reason: flags.reason, limit: flags.limit }, (letter) =>
          out.write(jsonLine(letterLine(letter))),
        );
        out.flush();
        const filter = [
          flags.reason !== undefined ? `reason ${flags.reason}` : '',
          flags.limit !== undefined ? `newest ${flags.limit}` : '',
        ]
          .filter(Boolean)
          .join(', ');
        process.stderr.write(
          summary.inTopic === 0
            ? `no dead letters in ${reader.topic}: the topic is empty\n`
            : `listed ${summary.listed} of ${summary.inTopic} dead letters in ${reader.topic}${filter ? ` (${filter})` : ''}\n`,
        );
        return 0;
      });
    });
  });
  return cmd;
}

function replayCommand(): Command {
  const cmd = withConnectionOptions(new Command('replay'), { redis: false })
    .description(
      "send dead letters back to the events topic (--topic): original key, value and headers, dlq-* headers removed, replayed-from added; a failed delivery's letter resends only its channel; a letter from another topic is refused (exit 1)",
    )
    .addOption(
      new Option(
        '--offset <partition:offset...>',
        'the letters to replay, as dlq list prints them (dlqPartition:dlqOffset)',
      )
        .argParser(parsePosition)
        .conflicts('all'),
    )
    .addOption(new Option('--all', 'every letter up to the end offsets at start (with --reason: every such letter)'))
    .addOption(reasonOption('replay letters'));
  cmd.action(async (flags: ReplayFlags) => {
    if (!flags.all && !flags.offset)
      cmd.error('error: name the letters to replay: --offset <partition>:<offset>... or --all');
    await guarded(async () => {
      watchStdout();
      return withDeadLetters(flags, async (reader, pipeline) => {
        const existing = new Set(await pipeline.log.listTopics());
        const producer = await pipeline.log.producer();
        const out = lineWriter({ stopWhenClosed: false });
        const replayed = new ReplayTally();
        const skipped: { letter: DeadLetterRecord; why: string }[] = [];
        const replay = async (letters: DeadLetterRecord[]): Promise<void> => {
          const summary = await replayDeadLetters(producer, letters, {
            to: pipeline.settings.topic,
            replayed: (letter) => {
              replayed.add(letter);
              out.write(jsonLine(replayedLine(letter)));
            },
            topicExists: (topic) => existing.has(topic),
          });
          out.flush();
          skipped.push(...summary.skipped);
        };
        try {
          if (flags.all) {
            await reader.scan(flags.reason, replay);
          } else {
            const letters = await reader.at(flags.offset!);
            for (const letter of letters.filter((l) => flags.reason !== undefined && l.reason !== flags.reason)) {
              process.stderr.write(
                `left alone ${letterAddress(letter)}: its reason is ${sanitize(letter.reason)}, not ${flags.reason}\n`,
              );
            }
            await replay(letters.filter((l) => flags.reason === undefined || l.reason === flags.reason));
          }
        } finally {
          await producer.disconnect().catch(() => undefined);
        }
        for (const { letter, why } of skipped) {
          process.stderr.write(`not replayed ${letterAddress(letter)}: ${sanitize(why)}\n`);
        }
        process.stderr.write(`${replaySummary(reader.topic, pipeline.settings.topic, replayed, skipped.length)}\n`);
        return skipped.length > 0 ? 1 : 0;
      });
    });
  });
  return cmd;
}

/** What a replay sent, counted (not kept: `--all` may replay millions). */
class ReplayTally {
  count = 0;
  readonly byReason = new Map<string, number>();

  add(letter: DeadLetterRecord): void {
    this.count++;
    this.byReason.set(letter.reason, (this.byReason.get(letter.reason) ?? 0) + 1);
  }
}

/** `replayed 3 dead letters from user_events.dlq to user_events (delivery-failed 2, unknown-type 1)`. */
function replaySummary(dlqTopic: string, to: string, replayed: ReplayTally, skipped: number): string {
  const letters = (n: number): string => `${n} dead letter${n === 1 ? '' : 's'}`;
  const reasons = [...replayed.byReason].map(([reason, n]) => `${sanitize(reason)} ${n}`).join(', ');
  const base =
    replayed.count === 0
      ? `replayed no dead letters from ${dlqTopic}`
      : `replayed ${letters(replayed.count)} from ${dlqTopic} to ${to} (${reasons})`;
  return skipped > 0 ? `${base}; ${letters(skipped)} not replayed` : base;
}

export function dlqCommand(): Command {
  return new Command('dlq')
    .description('the dead-letter topic <topic>.dlq: list its letters, replay them to where they came from')
    .addCommand(listCommand())
    .addCommand(replayCommand());
}
