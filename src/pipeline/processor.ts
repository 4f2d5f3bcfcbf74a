/**
 * The heart of the consumer, free of kafkajs: decode → dead-letter the bad →
 * look up users, preferences and dedupe marks (one round trip) → send over each
 * enabled channel → record what was delivered. The caller commits the offsets
 * only after this resolves, so a crash anywhere means redelivery, and the
 * dedupe ledger plus the provider's idempotency key turn a resend into
 * `duplicate`, never a second `sent`.
 */
import type { Catalog } from '../domain/catalog.js';
import { decodeEvent } from '../domain/envelope.js';
import { planDeliveries, type PlanContext } from '../domain/rules.js';
import { errorText, FatalConsumerError, isPermanent, PermanentError, RejectedError, StoppedError } from './errors.js';
import {
  ProviderError,
  TransportDownError,
  type BatchLookup,
  type CapCounter,
  type DigestStore,
  type DeadLetter,
  type DeadLetterSink,
  type LedgerMark,
  type NotificationProvider,
  type PipelineStore,
  type RawMessage,
  type ReplicaWait,
  type Schedule,
  type ScheduledSend,
  type SendRequest,
  type SendResult,
} from './ports.js';
import type { Telemetry } from '../telemetry/telemetry.js';
import { crashPoint } from './crash-point.js';
import { clockNow } from './clock.js';
import { headerText, REPLAY_HEADERS } from './dead-letters.js';
import { DEFAULT_SEND_RETRY, retryDelay, sleep, withRetry, type RetryPolicy } from './retry.js';
import { ConsumedEvent } from './consumed-event.js';
import { Plan, type ChunkContext, type Received, type SendJob, type SendOutcome } from './chunk.js';
import { DEFAULT_OUTAGE_HOLD_MS, Outages, parkDecision } from './outages.js';
import { decodeEvent as decodeStored } from '../domain/envelope.js';
import { applyCaps } from './caps-step.js';
import { DigestStep } from './digest-step.js';

export interface ProcessorOptions {
  catalog: Catalog;
  store: PipelineStore;
  provider: NotificationProvider;
  deadLetters: DeadLetterSink;
  telemetry: Telemetry;
  maxBytes: number;
  sendRetry?: RetryPolicy;
  now?: () => number;
  /** Where sends deferred by quiet hours wait (required once any user has quiet hours). */
  schedule?: Schedule;
  /** Counts capped sends (`cap.<channel>`); required once any user has a cap. */
  caps?: CapCounter;
  /** Open digests (`digest.<type>`); required once any user digests a type. */
  digests?: DigestStore;
  /** This consumer's view of which transports are down (the probe's and the sends'); one of its own if absent. */
  outages?: Outages;
  /** How long a send whose transport is down is parked before it is dead-lettered, ms (`--outage-hold`). */
  outageHoldMs?: number;
  /** Replicas to wait for before a chunk is done (`--redis-wait-replicas`); none: no `WAIT`. */
  replicas?: ReplicaWait;
  /** Where a `WAIT` that fell short is said (besides an `error` outcome). */
  warn?: (message: string) => void;
}

/** A retry not made: the send's transport is known down (this consumer's view), so it is parked at once. */
class TransportKnownDown extends PermanentError {
  override name = 'TransportKnownDown';
}

/** A schedule entry as the due-sends loop claimed it: the claim is its token for {@link Schedule.done}. */
export type ClaimedSend = ScheduledSend & { claim?: number };

/**
 * `work`, unless a stop comes first: then a {@link StoppedError} at once (checked every 100 ms),
 * while `work` goes on by itself. A command stuck behind an outage must not hold a stop.
 */
function whileRunning<T>(work: Promise<T>, keepGoing: () => boolean): Promise<T> {
  if (!keepGoing()) return Promise.reject(new StoppedError('stopped'));
  return new Promise<T>((resolve, reject) => {
    const timer = setInterval(() => {
      if (keepGoing()) return;
      clearInterval(timer);
      work.catch(() => undefined); // settles later, unobserved
      reject(new StoppedError('stopped while waiting'));
    }, 100);
    work.then(
      (value) => {
        clearInterval(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearInterval(timer);
        reject(error);
      },
    );
  });
}

/** Redis as the consumer sees it: one "error" when a look-up or send first fails, one "connected" when it works again. */
class RedisHealth {
  private down = false;
  constructor(
    private readonly telemetry: Telemetry,
    private readonly now: () => number,
  ) {}

  ok(): void {
    if (!this.down) return;
    this.down = false;
    this.telemetry.publish({
      kind: 'connection',
      service: 'redis',
      state: 'connected',
      detail: 'recovered',
      at: this.now(),
    });
  }

  failed(message: string): void {
    if (this.down) return;
    this.down = true;
    this.telemetry.publish({ kind: 'connection', service: 'redis', state: 'error', detail: message, at: this.now() });
  }
}

export class BatchProcessor {
  private readonly knownTypes: ReadonlySet<string>;
  private readonly now: () => number;
  private readonly redisHealth: RedisHealth;
  /** Digests (src/pipeline/digest-step.ts), when a digest store is given. */
  private readonly digestStep: DigestStep | undefined;
  /** Transports down, as this consumer sees them: their sends are parked at once. */
  readonly outages: Outages;
  private readonly outageHoldMs: number;

  constructor(private readonly options: ProcessorOptions) {
    this.knownTypes = new Set(options.catalog.eventTypes.keys());
    this.now = options.now ?? clockNow;
    this.outages = options.outages ?? new Outages(this.now);
    this.outageHoldMs = options.outageHoldMs ?? DEFAULT_OUTAGE_HOLD_MS;
    this.redisHealth = new RedisHealth(options.telemetry, this.now);
    this.digestStep = options.digests
      ? new DigestStep({
          digests: options.digests,
          schedule: options.schedule,
          store: options.store,
          catalog: options.catalog,
          now: this.now,
          run: (what, action, chunk) => this.untilDone('redis', what, action, chunk),
        })
      : undefined;
  }

  /**
   * Runs an infrastructure step (Redis, the dead-letter topic) until it works: a transient outage
   * pauses the partition rather than losing or skipping events. A permanent failure is not retried:
   * it is thrown as a {@link PermanentError} for the caller to isolate; a stop while waiting throws
   * a {@link StoppedError}.
   */
  private async untilDone<T>(
    source: 'redis' | 'kafka',
    what: string,
    action: () => Promise<T>,
    chunk: ChunkContext,
  ): Promise<T> {
    let delay = 100;
    for (let failures = 0; ; failures++) {
      try {
        // Healthy, a step in flight finishes on a stop (the chunk commits); once it has failed, a stop
        // does not wait for a command stuck behind the outage.
        const value = await (failures === 0 ? action() : whileRunning(action(), chunk.keepGoing));
        if (source === 'redis') this.redisHealth.ok();
        return value;
      } catch (error) {
        // A stop, or a provider's own rejection (the caller's retry budget decides about those).
        if (error instanceof StoppedError || error instanceof ProviderError) throw error;
        const message = `${what} failed: ${errorText(error)}`;
        if (isPermanent(error)) throw new PermanentError(message, error);
        if (source === 'redis') this.redisHealth.failed(message);
        this.options.telemetry.publish({ kind: 'error', source, message, at: this.now() });
        if (!chunk.keepGoing()) throw new StoppedError(`stopped while waiting: ${message}`);
        // The wait ends early on a stop: a signal during an outage must not wait out a long backoff.
        for (const until = Date.now() + delay; Date.now() < until && chunk.keepGoing();)
          await sleep(Math.min(100, until - Date.now()));
        delay = Math.min(2000, delay * 2);
        await chunk.beat().catch(() => undefined);
        if (!chunk.keepGoing()) throw new StoppedError(`stopped while waiting: ${message}`);
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
    const chunk: ChunkContext = { topic, partition, keepGoing, beat };
    const replicas = this.options.replicas;
    if (!replicas) return this.processOnce(chunk, messages);
    // With --redis-wait-replicas: the chunk's writes reach the replicas before it may be committed. A
    // chunk during which the connection changed (a failover) wrote part of its records to a server that
    // is gone, which no WAIT on the new one covers: it is processed again (the records that survived
    // make those resends `duplicate`; the others are resent under the same idempotency keys).
    for (;;) {
      const epoch = replicas.epoch();
      await this.processOnce(chunk, messages);
      // A failover and a second pass can outlast the group's session: the member says it is alive.
      await chunk.beat().catch(() => undefined);
      const acked = await this.untilDone(
        'redis',
        'waiting for the Redis replicas (WAIT)',
        () => replicas.wait(),
        chunk,
      );
      await chunk.beat().catch(() => undefined);
      if (replicas.epoch() !== epoch) {
        this.options.telemetry.publish({
          kind: 'error',
          source: 'redis',
          message: `the Redis connection changed during the chunk (partition ${partition}, offsets ${messages[0]?.offset ?? '?'}..${messages[messages.length - 1]?.offset ?? '?'}): processing it again before its commit`,
          at: this.now(),
        });
        continue;
      }
      if (acked < replicas.replicas) {
        const message = `WAIT: ${acked} of ${replicas.replicas} Redis replica(s) acknowledged the chunk's writes within ${replicas.timeoutMs} ms (partition ${partition}); committed anyway`;
        this.options.warn?.(message);
        this.options.telemetry.publish({ kind: 'error', source: 'redis', message, at: this.now() });
      }
      return;
    }
  }

  private async processOnce(chunk: ChunkContext, messages: readonly RawMessage[]): Promise<void> {
    const { events, letters } = this.decode(chunk, messages);
    await this.writeDeadLetters(chunk, letters);
    this.publishDeadLetters(chunk, letters);
    if (events.length === 0) return;
    this.publishConsumed(chunk, events);

    const refused: DeadLetter[] = [];
    const { lookup, lookupMs, found } = await this.lookUp(chunk, events, refused);
    const plan = this.plan(chunk, found, lookup, lookupMs);
    // Digests: digestible sends and deferrals join the user's open digest instead; in Redis beside the
    // caps and the sends (they share none of their jobs), both done before anything is recorded.
    const diverted = this.digestStep?.divert(plan, lookup);
    const joining = diverted ? this.digestStep!.join(chunk, plan, lookup, diverted) : undefined;
    const sending = (async () => {
      // Caps: the sends still to go, checked and counted (src/pipeline/caps-step.ts).
      if (plan.jobs.length > 0) await this.capSends(chunk, plan, lookup);
      if (plan.jobs.length > 0) await this.send(chunk, plan);
    })();
    await bothDone(sending, joining);
    // Deferred and parked sends are in the schedule before the chunk can be committed.
    if (plan.deferrals.length > 0) await this.writeDeferrals(chunk, plan, false);
    if (plan.parked.length > 0) await this.writeParked(chunk, plan, false);
    crashPoint('before-mark');
    await this.record(chunk, plan.deliveredNow, lookup);
    const letterbox = [...refused, ...plan.failed];
    await this.writeDeadLetters(chunk, letterbox);
    this.publishDeadLetters(chunk, letterbox);
    for (const outcome of plan.settled) this.options.telemetry.publish(outcome);
  }

  /** Step 1: bytes to events; what cannot be an event becomes a dead letter with its reason. */
  private decode(chunk: ChunkContext, messages: readonly RawMessage[]): { events: Received[]; letters: DeadLetter[] } {
    const events: Received[] = [];
    const letters: DeadLetter[] = [];
    for (const message of messages) {
      const decoded = decodeEvent(message.value, { maxBytes: this.options.maxBytes, knownTypes: this.knownTypes });
      if (decoded.ok) {
        events.push({
          id: decoded.event.id,
          event: decoded.event,
          message,
          occurredAtMs: Date.parse(decoded.event.occurredAt),
        });
      } else {
        letters.push({
          message,
          reason: decoded.reason,
          detail: decoded.detail,
          sourceTopic: chunk.topic,
          partition: chunk.partition,
        });
      }
    }
    return { events, letters };
  }

  /**
   * Dead letters must land before the chunk is committed. If the dead-letter topic refuses one for
   * good (authorization, size), the event was neither delivered nor dead-lettered: the consumer
   * stops without committing past it.
   */
  private async writeDeadLetters(chunk: ChunkContext, letters: DeadLetter[]): Promise<void> {
    if (letters.length === 0) return;
    try {
      await this.untilDone(
        'kafka',
        'writing to the dead-letter topic',
        () => this.options.deadLetters.send(letters),
        chunk,
      );
    } catch (error) {
      if (!(error instanceof PermanentError)) throw error;
      const first = letters.reduce((a, b) => (BigInt(a.message.offset) <= BigInt(b.message.offset) ? a : b));
      throw new FatalConsumerError(
        `the dead-letter topic refused the letter for ${chunk.topic} partition ${chunk.partition} offset ${first.message.offset} (${first.reason}): ${errorText(error.cause)}; stopped without committing offset ${first.message.offset} or later`,
      );
    }
  }

  private publishDeadLetters(chunk: ChunkContext, letters: readonly DeadLetter[]): void {
    // A send's letter (`store-error`, `rejected`) counts as a dead letter besides its failed delivery; a
    // `delivery-failed` one is shown as the failed delivery itself.
    for (const l of letters) {
      if (l.reason === 'delivery-failed') continue;
      this.options.telemetry.publish({
        kind: 'deadletter',
        reason: l.reason,
        detail: l.detail,
        topic: chunk.topic,
        partition: chunk.partition,
        offset: l.message.offset,
        key: l.message.key?.toString('utf8') ?? null,
        at: this.now(),
      });
    }
  }

  private publishConsumed(chunk: ChunkContext, events: readonly Received[]): void {
    const { catalog, telemetry } = this.options;
    if (!telemetry.wants('consumed')) return;
    const at = this.now();
    for (const { event, message } of events) {
      telemetry.publish(
        new ConsumedEvent(event, chunk.topic, message, chunk.partition, at, catalog.eventTypes.get(event.type)!),
      );
    }
  }

  /**
   * Step 2: users, preferences and dedupe marks in one round trip. When Redis refuses the batch for
   * good (a key of another type, another program's value), each user is looked up alone: the events
   * of the users Redis refuses go to `refused` (reason `store-error`, Redis' reply as the detail),
   * the others go on.
   */
  private async lookUp(
    chunk: ChunkContext,
    events: Received[],
    refused: DeadLetter[],
  ): Promise<{ lookup: BatchLookup; lookupMs: number; found: Received[] }> {
    const started = this.now();
    const what = 'looking up users and preferences in Redis';
    const userIds = [...new Set(events.map((e) => e.event.userId))];
    try {
      const lookup = await this.untilDone('redis', what, () => this.options.store.lookupBatch(userIds, events), chunk);
      return { lookup, lookupMs: this.now() - started, found: events };
    } catch (error) {
      if (!(error instanceof PermanentError)) throw error;
    }
    const lookup: BatchLookup = { users: new Map(), delivered: new Map() };
    const found: Received[] = [];
    for (const userId of userIds) {
      const mine = events.filter((e) => e.event.userId === userId);
      try {
        const one = await this.untilDone('redis', what, () => this.options.store.lookupBatch([userId], mine), chunk);
        lookup.users.set(userId, one.users.get(userId));
        for (const [id, channels] of one.delivered) lookup.delivered.set(id, channels);
        found.push(...mine);
      } catch (error) {
        if (!(error instanceof PermanentError)) throw error;
        const detail = `Redis refused the look-up of user ${userId}: ${errorText(error.cause)}`;
        this.options.telemetry.publish({ kind: 'error', source: 'redis', message: detail, at: this.now() });
        for (const { message } of mine)
          refused.push({
            message,
            reason: 'store-error',
            detail,
            sourceTopic: chunk.topic,
            partition: chunk.partition,
          });
      }
    }
    // Keep the chunk's order: deliveries are planned event by event.
    const order = new Map(events.map((e, i) => [e, i]));
    found.sort((a, b) => order.get(a)! - order.get(b)!);
    return { lookup, lookupMs: this.now() - started, found };
  }

  /** Step 3: per event and channel, skip, already delivered (ledger), or a send job. */
  private plan(
    chunk: ChunkContext,
    events: readonly Received[],
    lookup: BatchLookup,
    lookupMs: number,
    fromSchedule = false,
  ): Plan {
    const { catalog, telemetry } = this.options;
    const plan = new Plan(chunk, this.now, fromSchedule);
    const channelsOnByUser = new Map<string, string[]>();
    const lookedUpAt = this.now();
    // Headless `--output stats|none` reads no look-up: none is made.
    const publishLookups = telemetry.wants('lookup');
    // One context for the chunk, its fields set per event (no object per event on the hot path).
    const context: PlanContext = { now: lookedUpAt };
    for (const entry of events) {
      const { event } = entry;
      const record = lookup.users.get(event.userId);
      if (publishLookups) {
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
      }
      const definition = catalog.eventTypes.get(event.type)!;
      const already = lookup.delivered.get(event.id);
      // A replayed failed delivery resends its one channel, even where another channel failed too.
      const replayOnly = entry.message.headers ? headerText(entry.message.headers, REPLAY_HEADERS.channel) : undefined;
      const rules = record?.rules;
      if (rules && rules.invalid.length > 0) entry.prefsInvalid = rules.invalid;
      context.rules = rules;
      if (fromSchedule) context.only = entry.channel;
      for (const p of planDeliveries(event, definition, record?.profile, record?.prefs, catalog.channels, context)) {
        if (p.action === 'skip') {
          plan.settle(entry, p.channel, 'skipped', p.reason, 0, undefined, undefined, p.rule);
        } else if (already?.includes(p.channel)) {
          plan.settle(entry, p.channel, 'duplicate', 'already-sent', 0, p.address, p.text, p.rule);
        } else if (replayOnly !== undefined && p.channel !== replayOnly) {
          plan.settle(entry, p.channel, 'skipped', 'not-replayed', 0);
        } else if (p.action === 'defer') {
          plan.defer({ entry, plan: p });
        } else {
          plan.jobs.push({
            entry,
            channel: p.channel,
            eventId: event.id,
            userId: event.userId,
            address: p.address,
            text: p.text,
            occurredAtMs: entry.occurredAtMs,
            type: event.type,
            occurredAt: event.occurredAt,
            rule: p.rule,
          });
        }
      }
    }
    return plan;
  }

  /** Step 3b, the caps (src/pipeline/caps-step.ts): capped sends checked and counted, one call per chunk. */
  private capSends(chunk: ChunkContext, plan: Plan, lookup: BatchLookup): Promise<void> {
    return applyCaps(plan, lookup.users, {
      caps: this.options.caps,
      telemetry: this.options.telemetry,
      now: this.now,
      untilDone: (what, action) => this.untilDone('redis', what, action, chunk),
    });
  }

  /** Step 4: the whole chunk in one provider call; rejected sends go on with their retry budget. */
  private async send(chunk: ChunkContext, plan: Plan): Promise<void> {
    // A transport known down (this consumer's view): its sends are parked at once, not tried.
    const jobs = this.options.schedule && this.outages.anyDown() ? this.parkKnownDown(plan) : plan.jobs;
    if (jobs.length === 0) return;
    let first: (SendResult | ProviderError | PermanentError)[];
    try {
      first = await this.untilDone('redis', 'sending', () => this.options.provider.sendMany(jobs), chunk);
    } catch (error) {
      if (!(error instanceof PermanentError)) throw error;
      // Refused as a whole: each send alone, so only the ones whose keys Redis refuses fail.
      first = jobs.map(() => new ProviderError('retried alone'));
    }
    const retries: Promise<void>[] = [];
    let refusals: Set<string> | undefined;
    // Per channel whose transport did not answer: one send (the leader) tries the retry budget; the
    // others wait for its verdict: down, they park at once; answering again, they retry as usual.
    const leaders = new Map<string, Promise<unknown>>();
    for (let i = 0; i < jobs.length; i++) {
      const job = jobs[i]!;
      const result = first[i]!;
      if (result instanceof TransportDownError && this.options.schedule) {
        const leader = leaders.get(job.channel);
        const retried = leader
          ? leader.then(() => this.retrySend(job, chunk, result))
          : this.retrySend(job, chunk, result);
        if (!leader)
          leaders.set(
            job.channel,
            retried.catch(() => undefined),
          );
        retries.push(retried.then((r) => this.finishSend(plan, job, r)));
      } else if (result instanceof ProviderError) {
        retries.push(this.retrySend(job, chunk, result).then((r) => this.finishSend(plan, job, r)));
      } else if (result instanceof RejectedError) {
        plan.finish(job, { ok: false, error: result, attempts: 1 });
      } else if (result instanceof PermanentError) {
        plan.finish(job, { ok: false, error: result, attempts: 1 });
        (refusals ??= new Set()).add(errorText(result));
      } else {
        plan.delivered(job, result, 1);
        if (this.outages.anyDown()) this.outages.markUp(job.channel);
      }
    }
    // Sends Redis refused for good (a provider key of another type): said once per chunk and reason, in
    // every output mode, besides each failed delivery and its dead letter.
    for (const message of refusals ?? [])
      this.options.telemetry.publish({
        kind: 'error',
        source: 'redis',
        message: `Redis refused the provider's keys: ${message}`,
        at: this.now(),
      });
    // A stop does not wait for retries stuck behind an outage: the chunk is abandoned uncommitted, and
    // a send that lands after all is `duplicate` when the chunk comes again (the provider's idempotency key).
    if (retries.length === 0) return; // a healthy chunk finishes on a stop, and commits
    const settled = await whileRunning(Promise.allSettled(retries), chunk.keepGoing);
    for (const s of settled) if (s.status === 'rejected') throw s.reason;
  }

  /** The jobs whose transport is not known down; the others parked (or dead-lettered once held too long). */
  private parkKnownDown(plan: Plan): SendJob[] {
    const go: SendJob[] = [];
    for (const job of plan.jobs) {
      const outage = this.outages.get(job.channel);
      if (outage) this.park(plan, job, outage.detail, 0);
      else go.push(job);
    }
    return go;
  }

  /** A send whose transport is down: parked until the end of its hold, or dead-lettered after it. */
  private park(plan: Plan, job: SendJob, detail: string, attempts: number): void {
    const decision = parkDecision(this.now(), this.outageHoldMs, job.entry.parkedAt);
    if (decision.action === 'park') plan.park({ job, parkedAt: decision.parkedAt, dueAt: decision.dueAt });
    else plan.heldTooLong(job, `${decision.detail}; last: ${detail}`, attempts);
  }

  /**
   * A send's outcome after its retries: one whose every try found the transport not answering (or that
   * stopped trying as its transport was seen down meanwhile) is parked; the rest settle as usual.
   */
  private finishSend(plan: Plan, job: SendJob, result: SendOutcome): void {
    if (!result.ok && this.options.schedule) {
      const { error } = result;
      if (error instanceof TransportDownError) {
        this.outages.markDown(job.channel, error.message);
        this.park(plan, job, error.message, result.attempts);
        return;
      }
      if (error instanceof TransportKnownDown) {
        this.park(plan, job, error.message, result.attempts);
        return;
      }
    }
    if (result.ok && this.outages.anyDown()) this.outages.markUp(job.channel);
    plan.finish(job, result);
  }

  /**
   * After a rejected first attempt: the rest of the retry budget, with backoff. Provider rejections
   * use the budget; an unreachable Redis behind the provider is waited out; a refusal of this send's
   * keys ends it at once; a stop abandons it (never a failure).
   */
  private async retrySend(request: SendRequest, chunk: ChunkContext, first: ProviderError): Promise<SendOutcome> {
    const policy = this.options.sendRetry ?? DEFAULT_SEND_RETRY;
    // The backoff, or the server's Retry-After (bounded): a stop does not wait it out.
    for (const until = Date.now() + retryDelay(policy, 1, first); Date.now() < until && chunk.keepGoing();)
      await sleep(Math.min(100, until - Date.now()));
    if (!chunk.keepGoing()) throw new StoppedError('stopped before a retry');
    const what = `sending ${request.channel}`;
    const result = await withRetry(
      { ...policy, attempts: Math.max(1, policy.attempts - 1) },
      async (attempt) => {
        // A retry waits on the server: the partition's session is kept meanwhile.
        if (attempt >= 1) await chunk.beat().catch(() => undefined);
        // Seen down meanwhile (by another send's tries, or the probe): no more tries, parked at once.
        const outage = this.options.schedule ? this.outages.get(request.channel) : undefined;
        if (outage) throw new TransportKnownDown(outage.detail, undefined);
        try {
          return await this.options.provider.send(request);
        } catch (error) {
          // A provider's rejection (temporary or for good), or its store refusing this send's keys.
          if (error instanceof ProviderError || error instanceof PermanentError) throw error;
          if (isPermanent(error)) throw new PermanentError(`${what} failed: ${errorText(error)}`, error);
          return this.untilDone('redis', what, () => this.options.provider.send(request), chunk);
        }
      },
      chunk.keepGoing,
    );
    return { ...result, attempts: result.attempts + 1 };
  }

  /**
   * Sends held by quiet hours go to the schedule (an entry per (event, channel): a redelivery defers
   * onto the same one; `replace` at a due time moves an entry deferred again to its new due time).
   */
  private async writeDeferrals(chunk: ChunkContext, plan: Plan, replace: boolean): Promise<void> {
    const { schedule } = this.options;
    if (!schedule)
      throw new FatalConsumerError('a send was deferred by quiet hours, but this consumer has no schedule to keep it');
    const deferredAt = this.now();
    const entries: ScheduledSend[] = plan.deferrals.map(({ entry, plan: p }) => ({
      eventId: entry.event.id,
      channel: p.channel,
      userId: entry.event.userId,
      type: entry.event.type,
      dueAt: p.dueAt,
      zone: p.zone,
      reason: 'quiet-hours',
      deferredAt,
      event: entry.storedEvent ?? JSON.stringify(entry.event),
      occurredAtMs: entry.occurredAtMs,
      topic: entry.source?.topic ?? chunk.topic,
      partition: entry.source?.partition ?? chunk.partition,
      offset: entry.message.offset,
      timestamp: entry.source?.timestamp ?? entry.message.timestamp,
      // A digest's send deferred again (quiet hours at its due time) stays a digest's send.
      ...(entry.digest ? { reason: 'digest', digest: entry.digest } : {}),
    }));
    await this.untilDone(
      'redis',
      'writing deferred sends to the schedule',
      () => schedule.add(entries, replace),
      chunk,
    );
    plan.settleDeferrals();
  }

  /**
   * Sends parked while their transport is down go to the schedule (reason `transport-down`), due at the
   * end of their hold (the transport's probe makes them due at once when it answers again); `replace`
   * when a parked send is parked again (it keeps when it was first parked).
   */
  private async writeParked(chunk: ChunkContext, plan: Plan, replace: boolean): Promise<void> {
    const schedule = this.options.schedule!;
    const at = this.now();
    const entries: ScheduledSend[] = plan.parked.map(({ job, parkedAt, dueAt }) => {
      const { entry } = job;
      return {
        eventId: entry.event.id,
        channel: job.channel,
        userId: entry.event.userId,
        type: entry.event.type,
        dueAt,
        zone: 'UTC',
        reason: 'transport-down',
        deferredAt: at,
        parkedAt,
        event: entry.storedEvent ?? JSON.stringify(entry.event),
        occurredAtMs: entry.occurredAtMs,
        topic: entry.source?.topic ?? chunk.topic,
        partition: entry.source?.partition ?? chunk.partition,
        offset: entry.message.offset,
        timestamp: entry.source?.timestamp ?? entry.message.timestamp,
        ...(entry.digest ? { digest: entry.digest } : {}),
      };
    });
    await this.untilDone(
      'redis',
      'parking the sends of a transport that is down in the schedule',
      () => schedule.add(entries, replace),
      chunk,
    );
    plan.settleParked();
  }

  /**
   * Sends from the schedule at their due time (a claimed chunk of one source partition): planned
   * again against the preferences of now (an opt-out since skips, quiet hours again defer again),
   * sent through the same idempotency records as any send, recorded in the ledger, failures
   * dead-lettered, then removed from the schedule. A crash anywhere leaves them claimed: the lease
   * runs out and they are claimed again; the provider's record makes the resend a `duplicate`.
   */
  async processDue(claimed: readonly ClaimedSend[], keepGoing: () => boolean = () => true): Promise<void> {
    const { schedule } = this.options;
    if (!schedule || claimed.length === 0) return;
    const first = claimed[0]!;
    const chunk: ChunkContext = {
      topic: first.topic,
      partition: first.partition,
      keepGoing,
      beat: async () => undefined,
    };
    const events: Received[] = [];
    const broken: ClaimedSend[] = [];
    const channels = new Set(this.options.catalog.channels.map((c) => c.name));
    for (const c of claimed) {
      const value = Buffer.from(c.event, 'utf8');
      const decoded = decodeStored(value, { maxBytes: Infinity, knownTypes: this.knownTypes });
      // A type or channel this build does not know (a consumer of an older or other build shares the
      // schedule, as in a rolling upgrade): left claimed, for a consumer that knows it once the lease
      // runs out. Removed, or planned for no channel, the send would be lost without a word.
      if ((!decoded.ok && decoded.reason === 'unknown-type') || !channels.has(c.channel)) {
        this.options.telemetry.publish({
          kind: 'error',
          source: 'redis',
          message: `the schedule's entry for event ${c.eventId} on ${c.channel} (${c.type}) is of a type or channel this consumer does not know; left for a consumer that does`,
          at: this.now(),
        });
        continue;
      }
      if (!decoded.ok) {
        broken.push(c);
        continue;
      }
      events.push({
        id: decoded.event.id,
        event: decoded.event,
        // Its latency counts from its due time: how late it went out, not how long it was held.
        message: { key: Buffer.from(c.userId, 'utf8'), value, offset: c.offset, timestamp: String(c.dueAt) },
        occurredAtMs: c.occurredAtMs,
        channel: c.channel,
        claim: c.claim,
        storedEvent: c.event,
        ...(c.parkedAt !== undefined ? { parkedAt: c.parkedAt } : {}),
        source: { topic: c.topic, partition: c.partition, timestamp: c.timestamp },
        ...(c.digest ? { digest: c.digest } : {}),
      });
    }
    for (const c of broken)
      this.options.telemetry.publish({
        kind: 'error',
        source: 'redis',
        message: `the schedule's entry for event ${c.eventId} on ${c.channel} holds no valid event; removed`,
        at: this.now(),
      });
    const refused: DeadLetter[] = [];
    const { lookup, lookupMs, found } = await this.lookUp(chunk, events, refused);
    const plan = this.plan(chunk, found, lookup, lookupMs, true);
    // Digests due: rendered from their members; once sent, their members are marked in the ledger.
    const digestsDue = await this.digestStep?.prepareDue(chunk, plan, lookup, found);
    // Caps: a deferred send, or a digest's, counts when it is sent (src/pipeline/caps-step.ts).
    if (plan.jobs.length > 0) await this.capSends(chunk, plan, lookup);
    if (plan.jobs.length > 0) await this.send(chunk, plan);
    if (plan.deferrals.length > 0) await this.writeDeferrals(chunk, plan, true);
    if (plan.parked.length > 0) await this.writeParked(chunk, plan, true);
    await this.record(chunk, plan.deliveredNow, lookup);
    await digestsDue?.finish();
    crashPoint('due-before-done');
    const letters = [...refused, ...plan.failed];
    await this.writeDeadLetters(chunk, letters);
    this.publishDeadLetters(chunk, letters);
    const again = new Set([...plan.deferrals.map((d) => d.entry), ...plan.parked.map((p) => p.job.entry)]);
    const settled = events
      .filter((e) => !again.has(e))
      .map((e) => ({ eventId: e.id, channel: e.channel!, claim: e.claim }));
    for (const c of broken) settled.push({ eventId: c.eventId, channel: c.channel, claim: c.claim });
    await this.untilDone('redis', 'removing sent entries from the schedule', () => schedule.done(settled), chunk);
    for (const outcome of plan.settled) this.options.telemetry.publish(outcome);
  }

  /** Step 5: the ledger of what was delivered, so a redelivered event is not sent again. */
  private async record(chunk: ChunkContext, deliveredNow: Plan['deliveredNow'], lookup: BatchLookup): Promise<void> {
    if (deliveredNow.size === 0) return;
    const marks: LedgerMark[] = [];
    for (const [id, { entry, channels }] of deliveredNow) {
      const before = lookup.delivered.get(id);
      marks.push({
        id,
        occurredAtMs: entry.occurredAtMs,
        channels: (before ? [...new Set([...before, ...channels])] : channels).join(','),
      });
    }
    try {
      await this.untilDone(
        'redis',
        'recording deliveries in Redis',
        () => this.options.store.markDelivered(marks),
        chunk,
      );
    } catch (error) {
      if (!(error instanceof PermanentError)) throw error;
      // The sends happened; the providers' idempotency keys still turn a resend into `duplicate`.
      this.options.telemetry.publish({ kind: 'error', source: 'redis', message: error.message, at: this.now() });
    }
  }
}

/** Waits for both steps (the second may be absent), then throws the first one's error, if any. */
async function bothDone(first: Promise<void>, second: Promise<void> | undefined): Promise<void> {
  const [a, b] = await Promise.allSettled([first, second ?? Promise.resolve()]);
  if (a.status === 'rejected') throw a.reason;
  if (b.status === 'rejected') throw b.reason;
}
