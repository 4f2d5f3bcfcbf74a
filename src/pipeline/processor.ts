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
import type { NotificationProvider } from '../adapters/redis/provider.js';
import { ProviderError } from '../adapters/redis/provider.js';
import type { BatchLookup } from '../adapters/redis/store.js';
import type { Telemetry } from '../telemetry/telemetry.js';
import type { DeliveryOutcome } from '../telemetry/outcomes.js';
import { crashPoint } from './crash-point.js';
import { DEFAULT_SEND_RETRY, sleep, withRetry, type RetryPolicy } from './retry.js';

export interface RawMessage {
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, Buffer | string | (Buffer | string)[] | undefined>;
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
  lookupBatch(userIds: readonly string[], dedupeKeys: readonly string[]): Promise<BatchLookup>;
  markDelivered(keys: readonly string[]): Promise<void>;
  dedupeKey(eventId: string, channel: string): string;
}

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
    const events: { event: EventEnvelope; message: RawMessage }[] = [];
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
    const dedupeKeys = events.flatMap(({ event }) =>
      catalog.channels.map((c) => this.options.store.dedupeKey(event.id, c.name)),
    );
    const lookupStarted = this.now();
    const lookup = await this.untilDone(
      'redis',
      'looking up users and preferences in Redis',
      () => this.options.store.lookupBatch(userIds, dedupeKeys),
      keepGoing,
      beat,
    );
    const lookupMs = this.now() - lookupStarted;

    const toMark: string[] = [];
    const failed: DeadLetter[] = [];
    const settled: DeliveryOutcome[] = [];
    await Promise.all(
      events.map(async ({ event, message }) => {
        const record = lookup.users.get(event.userId);
        telemetry.publish({
          kind: 'lookup',
          eventId: event.id,
          userId: event.userId,
          found: record !== undefined,
          channelsOn: record ? Object.keys(record.prefs).filter((c) => record.prefs[c] === 'on') : [],
          latencyMs: lookupMs,
          at: this.now(),
        });
        const definition = catalog.eventTypes.get(event.type)!;
        const plans = planDeliveries(event, definition, record?.profile, record?.prefs, catalog.channels);
        const producedAt = Number(message.timestamp);
        await Promise.all(
          plans.map(async (plan) => {
            const base = {
              kind: 'delivery' as const,
              eventId: event.id,
              type: event.type,
              userId: event.userId,
              channel: plan.channel,
            };
            const settle = (
              o: Omit<DeliveryOutcome, 'kind' | 'eventId' | 'type' | 'userId' | 'channel' | 'latencyMs' | 'at'>,
            ): void => {
              const at = this.now();
              settled.push({
                ...base,
                ...o,
                latencyMs: Number.isFinite(producedAt) ? Math.max(0, at - producedAt) : 0,
                at,
              });
            };
            if (plan.action === 'skip') {
              settle({ status: 'skipped', reason: plan.reason, attempts: 0 });
              return;
            }
            const key = this.options.store.dedupeKey(event.id, plan.channel);
            if (lookup.delivered.has(key)) {
              settle({
                status: 'duplicate',
                reason: 'already-sent',
                attempts: 0,
                address: plan.address,
                text: plan.text,
              });
              return;
            }
            const result = await this.send(plan.channel, key, event, plan.address, plan.text, keepGoing, beat);
            if (result.ok) {
              toMark.push(key);
              settle(
                result.value === 'accepted'
                  ? { status: 'sent', reason: null, attempts: result.attempts, address: plan.address, text: plan.text }
                  : {
                      status: 'duplicate',
                      reason: 'provider-already-accepted',
                      attempts: result.attempts,
                      address: plan.address,
                      text: plan.text,
                    },
              );
            } else {
              const reason = (result.error as Error).message ?? String(result.error);
              settle({ status: 'failed', reason, attempts: result.attempts, address: plan.address, text: plan.text });
              failed.push({
                message,
                reason: 'delivery-failed',
                detail: `${plan.channel}: ${reason}`,
                sourceTopic: topic,
                partition,
                channel: plan.channel,
              });
            }
          }),
        );
      }),
    );
    crashPoint('before-mark');
    if (toMark.length > 0) {
      await this.untilDone(
        'redis',
        'recording deliveries in Redis',
        () => this.options.store.markDelivered(toMark),
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

  /** Provider rejections use the retry budget; an unreachable Redis behind the provider is waited out. */
  private send(
    channel: string,
    idempotencyKey: string,
    event: EventEnvelope,
    address: string,
    text: string,
    keepGoing: () => boolean,
    beat: () => Promise<void>,
  ) {
    return withRetry(this.options.sendRetry ?? DEFAULT_SEND_RETRY, async () => {
      try {
        return await this.options.provider.send({
          channel,
          idempotencyKey,
          eventId: event.id,
          userId: event.userId,
          address,
          text,
        });
      } catch (error) {
        if (error instanceof ProviderError) throw error;
        return this.untilDone(
          'redis',
          `sending ${channel}`,
          () =>
            this.options.provider.send({
              channel,
              idempotencyKey,
              eventId: event.id,
              userId: event.userId,
              address,
              text,
            }),
          keepGoing,
          beat,
        );
      }
    });
  }
}
