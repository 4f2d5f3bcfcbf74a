/**
 * The dead-letter topic, read back: list its letters (what failed, why, where from) and replay them to
 * the topic they came from. Through the log's port only, so the headless `dlq` commands and the
 * dashboard use the same code on Kafka or on the embedded log.
 */
import { DLQ_HEADERS } from './dead-letter-topic.js';
import type { EventLog, LogProducer, OutboundMessage, PartitionOffsets } from './event-log.js';
import { CHANNEL_LETTER_REASONS, type RawMessage } from './ports.js';

/** Whether a letter is of one channel's send (`delivery-failed`, `rejected`): its replay resends that channel only. */
export const isChannelLetter = (letter: {
  reason: string;
  channel: string | null;
}): letter is { reason: string; channel: string } =>
  letter.channel !== null && (CHANNEL_LETTER_REASONS as readonly string[]).includes(letter.reason);

/** Headers a replay adds; every `dlq-*` header is removed. */
export const REPLAY_HEADERS = {
  /** `<dlq topic>/<partition>/<offset>`: the letter this message was replayed from. */
  from: 'replayed-from',
  /** On a replayed `delivery-failed` or `rejected` letter: the one channel to resend (the consumer leaves the others alone). */
  channel: 'replay-channel',
} as const;

export interface DeadLetterRecord {
  dlqTopic: string;
  dlqPartition: number;
  dlqOffset: string;
  /** When the letter was written to the dead-letter topic (its Kafka timestamp), ms since the epoch. */
  writtenAt: number;
  reason: string;
  detail: string;
  /** The channel whose send failed (`delivery-failed`, `rejected`, a send's `store-error`). */
  channel: string | null;
  key: Buffer | null;
  value: Buffer | null;
  headers: NonNullable<RawMessage['headers']>;
  sourceTopic: string | null;
  sourcePartition: number | null;
  sourceOffset: string | null;
  /** ISO time from `dlq-failed-at`. */
  failedAt: string | null;
}

export interface LetterPosition {
  partition: number;
  offset: string;
}

/** The first value of a header, as text. */
export function headerText(headers: RawMessage['headers'], name: string): string | undefined {
  const raw = headers?.[name];
  const first = Array.isArray(raw) ? raw[0] : raw;
  if (first === undefined) return undefined;
  return typeof first === 'string' ? first : first.toString('utf8');
}

export function readDeadLetter(dlqTopic: string, partition: number, message: RawMessage): DeadLetterRecord {
  const h = message.headers ?? {};
  const sourcePartition = Number(headerText(h, DLQ_HEADERS.sourcePartition));
  return {
    dlqTopic,
    dlqPartition: partition,
    dlqOffset: message.offset,
    writtenAt: Number(message.timestamp) || 0,
    reason: headerText(h, DLQ_HEADERS.reason) ?? 'unknown',
    detail: headerText(h, DLQ_HEADERS.detail) ?? '',
    channel: headerText(h, DLQ_HEADERS.channel) ?? null,
    key: message.key,
    value: message.value,
    headers: h,
    sourceTopic: headerText(h, DLQ_HEADERS.sourceTopic) ?? null,
    sourcePartition: Number.isSafeInteger(sourcePartition) ? sourcePartition : null,
    sourceOffset: headerText(h, DLQ_HEADERS.sourceOffset) ?? null,
    failedAt: headerText(h, DLQ_HEADERS.failedAt) ?? null,
  };
}

export const letterAddress = (l: Pick<DeadLetterRecord, 'dlqTopic' | 'dlqPartition' | 'dlqOffset'>): string =>
  `${l.dlqTopic}/${l.dlqPartition}/${l.dlqOffset}`;

/**
 * The message a replay sends: the original key, value and headers, without our `dlq-*` headers (nor a
 * replay's from an earlier round), with `replayed-from` and, for a failed delivery, `replay-channel`.
 */
export function replayMessage(letter: DeadLetterRecord): OutboundMessage {
  const headers: NonNullable<OutboundMessage['headers']> = {};
  const ours = new Set<string>([REPLAY_HEADERS.from, REPLAY_HEADERS.channel]);
  for (const [name, value] of Object.entries(letter.headers)) {
    if (value === undefined || name.startsWith('dlq-') || ours.has(name)) continue;
    headers[name] = value;
  }
  headers[REPLAY_HEADERS.from] = letterAddress(letter);
  if (isChannelLetter(letter)) headers[REPLAY_HEADERS.channel] = letter.channel;
  return { key: letter.key, value: letter.value, headers };
}

export class DeadLetterTopicMissingError extends Error {
  override name = 'DeadLetterTopicMissingError';
  constructor(
    readonly topic: string,
    /** Other dead-letter topics that do exist (the user may have meant one). */
    readonly others: string[],
  ) {
    super(
      `there is no dead-letter topic ${topic}: nothing was ever dead-lettered from ${topic.replace(/\.dlq$/, '')}, or --topic names another topic` +
        (others.length > 0
          ? ` (dead-letter topics here: ${others.slice(0, 5).join(', ')}${others.length > 5 ? ` and ${others.length - 5} more` : ''})`
          : ''),
    );
  }
}

export class LetterNotFoundError extends Error {
  override name = 'LetterNotFoundError';
  constructor(
    readonly topic: string,
    readonly missing: { position: LetterPosition; held: PartitionOffsets | undefined }[],
  ) {
    super(
      missing
        .map(({ position, held }) =>
          held
            ? `${topic}/${position.partition}/${position.offset} does not exist (partition ${position.partition} holds ${held.low === held.high ? 'nothing' : `offsets ${held.low}..${BigInt(held.high) - 1n}`})`
            : `${topic} has no partition ${position.partition}`,
        )
        .join('; '),
    );
  }
}

export interface ListOptions {
  reason?: string | undefined;
  /** Only the newest `limit` letters (by the time they were written), oldest first. */
  limit?: number | undefined;
}

export interface ListSummary {
  /** Letters in the topic when the listing started (end minus start offsets). */
  inTopic: number;
  /** Letters read (with --limit and no filter, only the newest of each partition are read). */
  read: number;
  listed: number;
}

const newestLast = (a: DeadLetterRecord, b: DeadLetterRecord): number =>
  a.writtenAt - b.writtenAt || a.dlqPartition - b.dlqPartition || Number(BigInt(a.dlqOffset) - BigInt(b.dlqOffset));

export class DeadLetterReader {
  constructor(
    private readonly log: EventLog,
    /** The dead-letter topic (`<events topic>.dlq`). */
    readonly topic: string,
  ) {}

  /** Its partitions' start and end offsets, now. */
  async offsets(): Promise<PartitionOffsets[]> {
    const topics = await this.log.listTopics();
    if (!topics.includes(this.topic)) {
      throw new DeadLetterTopicMissingError(this.topic, topics.filter((t) => t.endsWith('.dlq')).sort());
    }
    return (await this.log.topicOffsets(this.topic)).sort((a, b) => a.partition - b.partition);
  }

  /**
   * Every letter (of `reason`, if given) up to the end offsets captured at the start, so it ends while
   * letters keep coming: `each` gets them a batch at a time, in offset order per partition.
   */
  async scan(
    reason: string | undefined,
    each: (letters: DeadLetterRecord[]) => void | Promise<void>,
    startAt: (end: PartitionOffsets) => string = (end) => end.low,
  ): Promise<ListSummary> {
    const ends = await this.offsets();
    let read = 0;
    let listed = 0;
    const ranges = ends.map((e) => ({ partition: e.partition, from: startAt(e), to: e.high }));
    await this.log.readRanges(this.topic, ranges, async (batch) => {
      const letters: DeadLetterRecord[] = [];
      for (const message of batch.messages) {
        const letter = readDeadLetter(this.topic, batch.partition, message);
        if (reason === undefined || letter.reason === reason) letters.push(letter);
      }
      read += batch.messages.length;
      listed += letters.length;
      if (letters.length > 0) await each(letters);
    });
    const inTopic = ends.reduce((n, e) => n + Number(BigInt(e.high) - BigInt(e.low)), 0);
    return { inTopic, read, listed };
  }

  /**
   * Like {@link scan}, a letter at a time; with a limit, only the newest `limit` (by the time they were
   * written), oldest first, once all are read.
   */
  async list(options: ListOptions, each: (letter: DeadLetterRecord) => void): Promise<ListSummary> {
    const { reason, limit } = options;
    if (limit === undefined) {
      return this.scan(reason, (letters) => {
        for (const letter of letters) each(letter);
      });
    }
    let kept: DeadLetterRecord[] = [];
    const summary = await this.scan(
      reason,
      (letters) => {
        kept.push(...letters);
        if (kept.length >= 2 * limit + 1000) kept = kept.sort(newestLast).slice(-limit);
      },
      // With no filter, the newest `limit` overall are among the newest `limit` of each partition.
      (e) =>
        reason === undefined && BigInt(e.high) - BigInt(limit) > BigInt(e.low)
          ? (BigInt(e.high) - BigInt(limit)).toString()
          : e.low,
    );
    kept = kept.sort(newestLast).slice(-limit);
    for (const letter of kept) each(letter);
    return { ...summary, listed: kept.length };
  }

  /** The letters at these positions, in the order given; any that does not exist fails the whole call. */
  async at(positions: LetterPosition[]): Promise<DeadLetterRecord[]> {
    const ends = await this.offsets();
    const held = new Map(ends.map((e) => [e.partition, e]));
    const missing = positions
      .filter(({ partition, offset }) => {
        const e = held.get(partition);
        return !e || BigInt(offset) < BigInt(e.low) || BigInt(offset) >= BigInt(e.high);
      })
      .map((position) => ({ position, held: held.get(position.partition) }));
    if (missing.length > 0) throw new LetterNotFoundError(this.topic, missing);
    const byPartition = new Map<number, bigint[]>();
    for (const { partition, offset } of positions) {
      const offsets = byPartition.get(partition);
      if (offsets) offsets.push(BigInt(offset));
      else byPartition.set(partition, [BigInt(offset)]);
    }
    const ranges = [...byPartition].map(([partition, offsets]) => ({
      partition,
      from: offsets.reduce((a, b) => (b < a ? b : a)).toString(),
      to: (offsets.reduce((a, b) => (b > a ? b : a)) + 1n).toString(),
    }));
    const wanted = new Set(positions.map((p) => `${p.partition}/${BigInt(p.offset)}`));
    const found = new Map<string, DeadLetterRecord>();
    await this.log.readRanges(this.topic, ranges, (batch) => {
      for (const message of batch.messages) {
        const id = `${batch.partition}/${message.offset}`;
        if (wanted.has(id)) found.set(id, readDeadLetter(this.topic, batch.partition, message));
      }
    });
    const gone = positions.filter((p) => !found.has(`${p.partition}/${BigInt(p.offset)}`));
    if (gone.length > 0) {
      throw new LetterNotFoundError(
        this.topic,
        gone.map((position) => ({ position, held: held.get(position.partition) })),
      );
    }
    return positions.map((p) => found.get(`${p.partition}/${BigInt(p.offset)}`)!);
  }
}

export interface ReplaySummary {
  replayed: DeadLetterRecord[];
  /** Letters that could not be replayed, and why (no source topic, or another topic than the events topic). */
  skipped: { letter: DeadLetterRecord; why: string }[];
}

/** Letters per produce call. */
const REPLAY_CHUNK = 500;

export interface ReplayOptions {
  /**
   * The events topic (`--topic`): the only topic a replay sends to. A letter whose `dlq-source-topic`
   * names another (the dead-letter topic itself, another application's topic) is refused.
   */
  to: string;
  /** Called once a letter's chunk is in the log. */
  replayed?: (letter: DeadLetterRecord) => void;
  /** Topics that exist: a letter whose source topic is gone is skipped, not sent into a retry loop. */
  topicExists?: (topic: string) => boolean;
}

/**
 * Why a letter is not replayed to the events topic `to`, or undefined when it may be: the one check of
 * `dlq replay` and the dashboard's replay key.
 */
export function replayRefusal(
  letter: Pick<DeadLetterRecord, 'sourceTopic'>,
  to: string,
  topicExists: (topic: string) => boolean = () => true,
): string | undefined {
  if (!letter.sourceTopic) return `no ${DLQ_HEADERS.sourceTopic} header: where it came from is unknown`;
  if (letter.sourceTopic !== to) {
    return `its ${DLQ_HEADERS.sourceTopic} names topic ${letter.sourceTopic}, not the events topic ${to}: a replay goes only to the events topic (--topic)`;
  }
  if (!topicExists(letter.sourceTopic)) return `its source topic ${letter.sourceTopic} does not exist`;
  return undefined;
}

/**
 * Sends each letter back to the events topic (see {@link replayMessage}), in chunks, calling
 * `replayed` once a chunk is in the log; a letter {@link replayRefusal} refuses is skipped, with why.
 * The consumer's dedupe makes a second replay of the same letter a `duplicate`, never a second send.
 */
export async function replayDeadLetters(
  producer: LogProducer,
  letters: readonly DeadLetterRecord[],
  options: ReplayOptions,
): Promise<ReplaySummary> {
  const summary: ReplaySummary = { replayed: [], skipped: [] };
  const accepted: DeadLetterRecord[] = [];
  for (const letter of letters) {
    const why = replayRefusal(letter, options.to, options.topicExists);
    if (why) summary.skipped.push({ letter, why });
    else accepted.push(letter);
  }
  for (let i = 0; i < accepted.length; i += REPLAY_CHUNK) {
    const chunk = accepted.slice(i, i + REPLAY_CHUNK);
    await producer.send(options.to, chunk.map(replayMessage));
    for (const letter of chunk) {
      summary.replayed.push(letter);
      options.replayed?.(letter);
    }
  }
  return summary;
}
