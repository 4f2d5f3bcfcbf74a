/**
 * The heart of the consumer, free of kafkajs: decode → dead-letter the bad →
 * look up users, preferences and dedupe marks (one round trip) → send over each
 * enabled channel → record what was delivered. The caller commits the offsets
 * only after this resolves, so a crash anywhere means redelivery, and the
 * dedupe ledger plus the provider's idempotency key turn a resend into
 * `duplicate`, never a second `sent`.
 */
import type { Catalog } from '../domain/catalog.js';
import { decodeEvent, type DeadLetterReason, type EventEnvelope } from '../domain/envelope.js';
import { planDeliveries } from '../domain/rules.js';
import type { NotificationProvider, SendRequest, SendResult } from '../adapters/redis/provider.js';
import { ProviderError } from '../adapters/redis/provider.js';
import type { BatchLookup } from '../adapters/redis/store.js';
import { idempotencyKey } from '../adapters/redis/keys.js';
import type { Telemetry } from '../telemetry/telemetry.js';
import type { DeliveryOutcome } from '../telemetry/outcomes.js';
import { crashPoint } from './crash-point.js';
import { headerText, REPLAY_HEADERS } from './dead-letters.js';
import { backoffDelay, DEFAULT_SEND_RETRY, sleep, withRetry, type RetryPolicy } from './retry.js';

export interface RawMessage {
  key: Buffer | null;
  value: Buffer | null;
  headers?: Record<string, Buffer | string | (Buffer | string)[] | undefined>;
  offset: string;
  /** Producer timestamp, ms since the epoch, as a string (Kafka's). */
  timestamp: string;
}

export interface DeadLetter {
  message: RawMessage;
  reason: DeadLetterReason | 'delivery-failed';
  detail: string;
  sourceTopic: string;
  partition: number;
  channel?: string;
}

export interface DeadLetterSink {
  send(letters: DeadLetter[]): Promise<void>;
}

export interface PipelineStore {
  lookupBatch(userIds: readonly string[], eventIds: readonly string[]): Promise<BatchLookup>;
  /** Per event id, the channels delivered (comma-separated). */
  markDelivered(delivered: ReadonlyMap<string, string>): Promise<void>;
}

interface Received {
  event: EventEnvelope;
  message: RawMessage;
}

interface SendJob {
  entry: Received;
  request: SendRequest;
}

type SendOutcome = { ok: true; value: SendResult; attempts: number } | { ok: false; error: unknown; attempts: number };

export class StoppedError extends Error {
  override name = 'StoppedError';
}

export interface ProcessorOptions {
  catalog: Catalog;
  store: PipelineStore;
  provider: NotificationProvider;
  deadLetters: DeadLetterSink;
  telemetry: Telemetry;
  maxBytes: number;
  sendRetry?: RetryPolicy;
  now?: () => number;
}

export class BatchProcessor {
  private readonly knownTypes: ReadonlySet<string>;
  private readonly now: () => number;
  private redisDown = false;

  constructor(private readonly options: ProcessorOptions) {
    this.knownTypes = new Set(options.catalog.eventTypes.keys());
    this.now = options.now ?? Date.now;
  }

  /**
   * Runs an infrastructure step (Redis, the dead-letter topic) until it works:
   * an outage pauses the partition rather than losing or skipping events.
   */
  private async untilDone<T>(
    source: 'redis' | 'kafka',
    what: string,
    action: () => Promise<T>,
    keepGoing: () => boolean,
    beat: () => Promise<void>,
  ): Promise<T> {
    let delay = 100;
    for (;;) {
      try {
        const value = await action();
        if (source === 'redis' && this.redisDown) {
          this.redisDown = false;
          this.options.telemetry.publish({
            kind: 'connection',
            service: 'redis',
            state: 'connected',
            detail: 'recovered',
            at: this.now(),
          });
        }
        return value;
      } catch (error) {
        if (error instanceof StoppedError) throw error;
        const message = `${what} failed: ${(error as Error).message}`;
        if (source === 'redis' && !this.redisDown) {
          this.redisDown = true;
          this.options.telemetry.publish({
            kind: 'connection',
            service: 'redis',
            state: 'error',
            detail: message,
            at: this.now(),
          });
        }
        this.options.telemetry.publish({ kind: 'error', source, message, at: this.now() });
        if (!keepGoing()) throw new StoppedError(`stopped while waiting: ${message}`);
        await sleep(delay);
        delay = Math.min(2000, delay * 2);
        await beat().catch(() => undefined);
        if (!keepGoing()) throw new StoppedError(`stopped while waiting: ${message}`);
      }
    }
  }

  async process(
    topic: string,
    partition: number,
    messages: readonly RawMessage[],
    keepGoing: () => boolean = () => true,
    beat: () => Promise<void> = async () => undefined,
  ): Promise<void> {
    const { catalog, telemetry } = this.options;
    const events: Received[] = [];
    const letters: DeadLetter[] = [];
    for (const message of messages) {
      const decoded = decodeEvent(message.value, { maxBytes: this.options.maxBytes, knownTypes: this.knownTypes });
      if (decoded.ok) {
        events.push({ event: decoded.event, message });
      } else {
        letters.push({ message, reason: decoded.reason, detail: decoded.detail, sourceTopic: topic, partition });
      }
    }
    if (letters.length > 0) {
      await this.untilDone(
        'kafka',
        'writing to the dead-letter topic',
        () => this.options.deadLetters.send(letters),
        keepGoing,
        beat,
      );
      for (const l of letters) {
        telemetry.publish({
          kind: 'deadletter',
          reason: l.reason as DeadLetterReason,
          detail: l.detail,
          topic,
          partition,
          offset: l.message.offset,
          key: l.message.key?.toString('utf8') ?? null,
          at: this.now(),
        });
      }
    }
    if (events.length === 0) return;

    for (const { event, message } of events) {
      const definition = catalog.eventTypes.get(event.type)!;
      telemetry.publish({
        kind: 'consumed',
        eventId: event.id,
        type: event.type,
        userId: event.userId,
        partition,
        offset: message.offset,
        summary: definition.summarize(event.payload),
        at: this.now(),
      });
    }

    const userIds = [...new Set(events.map((e) => e.event.userId))];
    const eventIds = events.map((e) => e.event.id);
    const lookupStarted = this.now();
    const lookup = await this.untilDone(
      'redis',
      'looking up users and preferences in Redis',
      () => this.options.store.lookupBatch(userIds, eventIds),
      keepGoing,
      beat,
    );
    const lookupMs = this.now() - lookupStarted;

    // Per event: the channels delivered, before this chunk (ledger) and by it.
    const deliveredNow = new Map<string, string[]>();
    const failed: DeadLetter[] = [];
    const settled: DeliveryOutcome[] = [];
    const jobs: SendJob[] = [];
    const channelsOnByUser = new Map<string, string[]>();
    const lookedUpAt = this.now();
    // Built field by field (no spreads, no closures per delivery): this runs for every (event, channel).
    const settle = (
      entry: Received,
      channel: string,
      status: DeliveryOutcome['status'],
      reason: DeliveryOutcome['reason'],
      attempts: number,
      address?: string,
      text?: string,
    ): void => {
      const at = this.now();
      const producedAt = Number(entry.message.timestamp);
      const outcome: DeliveryOutcome = {
        kind: 'delivery',
        eventId: entry.event.id,
        type: entry.event.type,
        userId: entry.event.userId,
        channel,
        status,
        reason,
        latencyMs: Number.isFinite(producedAt) ? Math.max(0, at - producedAt) : 0,
        attempts,
        at,
      };
      if (address !== undefined) outcome.address = address;
      if (text !== undefined) outcome.text = text;
      settled.push(outcome);
    };
    const finish = (job: SendJob, result: SendOutcome): void => {
      const { entry, request } = job;
      if (result.ok) {
        let channels = deliveredNow.get(entry.event.id);
        if (!channels) deliveredNow.set(entry.event.id, (channels = []));
        channels.push(request.channel);
        const accepted = result.value === 'accepted';
        settle(
          entry,
          request.channel,
          accepted ? 'sent' : 'duplicate',
          accepted ? null : 'provider-already-accepted',
          result.attempts,
          request.address,
          request.text,
        );
      } else {
        const reason = (result.error as Error).message ?? String(result.error);
        settle(entry, request.channel, 'failed', reason, result.attempts, request.address, request.text);
        failed.push({
          message: entry.message,
          reason: 'delivery-failed',
          detail: `${request.channel}: ${reason}`,
          sourceTopic: topic,
          partition,
          channel: request.channel,
        });
      }
    };
    for (const entry of events) {
      const { event } = entry;
      const record = lookup.users.get(event.userId);
      let channelsOn = channelsOnByUser.get(event.userId);
      if (!channelsOn) {
        channelsOn = record ? Object.keys(record.prefs).filter((c) => record.prefs[c] === 'on') : [];
        channelsOnByUser.set(event.userId, channelsOn);
      }
      telemetry.publish({
        kind: 'lookup',
        eventId: event.id,
        userId: event.userId,
        found: record !== undefined,
        channelsOn,
        latencyMs: lookupMs,
        at: lookedUpAt,
      });
      const definition = catalog.eventTypes.get(event.type)!;
      const already = lookup.delivered.get(event.id);
      // A replayed failed delivery resends its one channel, even where another channel failed too.
      const replayOnly = entry.message.headers ? headerText(entry.message.headers, REPLAY_HEADERS.channel) : undefined;
      for (const plan of planDeliveries(event, definition, record?.profile, record?.prefs, catalog.channels)) {
        if (plan.action === 'skip') {
          settle(entry, plan.channel, 'skipped', plan.reason, 0);
        } else if (already?.includes(plan.channel)) {
          settle(entry, plan.channel, 'duplicate', 'already-sent', 0, plan.address, plan.text);
        } else if (replayOnly !== undefined && plan.channel !== replayOnly) {
          settle(entry, plan.channel, 'skipped', 'not-replayed', 0);
        } else {
          jobs.push({
            entry,
            request: {
              channel: plan.channel,
              idempotencyKey: idempotencyKey(event.id, plan.channel),
              eventId: event.id,
              userId: event.userId,
              address: plan.address,
              text: plan.text,
            },
          });
        }
      }
    }
    // First attempt: the whole chunk in one provider call; rejected sends go on with their retry budget.
    if (jobs.length > 0) {
      const first = await this.untilDone(
        'redis',
        'sending',
        () => this.options.provider.sendMany(jobs.map((j) => j.request)),
        keepGoing,
        beat,
      );
      const retries: Promise<void>[] = [];
      for (let i = 0; i < jobs.length; i++) {
        const job = jobs[i]!;
        const result = first[i];
        if (result instanceof ProviderError) {
          retries.push(this.retrySend(job.request, keepGoing, beat).then((r) => finish(job, r)));
        } else {
          finish(job, { ok: true, value: result!, attempts: 1 });
        }
      }
      await Promise.all(retries);
    }
    crashPoint('before-mark');
    if (deliveredNow.size > 0) {
      const marks = new Map<string, string>();
      for (const [eventId, channels] of deliveredNow) {
        const before = lookup.delivered.get(eventId);
        marks.set(eventId, (before ? [...new Set([...before, ...channels])] : channels).join(','));
      }
      await this.untilDone(
        'redis',
        'recording deliveries in Redis',
        () => this.options.store.markDelivered(marks),
        keepGoing,
        beat,
      );
    }
    if (failed.length > 0) {
      await this.untilDone(
        'kafka',
        'writing failed deliveries to the dead-letter topic',
        () => this.options.deadLetters.send(failed),
        keepGoing,
        beat,
      );
    }
    for (const outcome of settled) telemetry.publish(outcome);
  }

  /**
   * After a rejected first attempt: the rest of the retry budget, with backoff. Provider rejections
   * use the budget; an unreachable Redis behind the provider is waited out.
   */
  private async retrySend(
    request: SendRequest,
    keepGoing: () => boolean,
    beat: () => Promise<void>,
  ): Promise<SendOutcome> {
    const policy = this.options.sendRetry ?? DEFAULT_SEND_RETRY;
    await sleep(backoffDelay(policy, 1));
    const result = await withRetry({ ...policy, attempts: Math.max(1, policy.attempts - 1) }, async () => {
      try {
        return await this.options.provider.send(request);
      } catch (error) {
        if (error instanceof ProviderError) throw error;
        return this.untilDone(
          'redis',
          `sending ${request.channel}`,
          () => this.options.provider.send(request),
          keepGoing,
          beat,
        );
      }
    });
    return { ...result, attempts: result.attempts + 1 };
  }
}
