/** One chunk in the processor's hands: the events it holds, its send jobs, and what it decided. */
import type { EventEnvelope } from '../domain/envelope.js';
import type { DeliveryPlan, RuleCode } from '../domain/rules.js';
import type { DeliveryOutcome } from '../telemetry/outcomes.js';
import { errorText, PermanentError, RejectedError } from './errors.js';
import { localClock } from '../domain/duration.js';
import type { DeadLetter, LedgerEvent, RawMessage, SendRequest, SendResult } from './ports.js';

/** An event in hand; it is its own {@link LedgerEvent} (`id`, `occurredAtMs`): no copy per event for the look-up. */
export interface Received extends LedgerEvent {
  event: EventEnvelope;
  message: RawMessage;
  /** `event.occurredAt`, parsed once: the window its dedupe records live in. */
  occurredAtMs: number;
  /** The user's preference fields that could not be parsed (set only when some could not). */
  prefsInvalid?: readonly string[];
  /** Read from the schedule (a deferred send at its due time): its one channel, its claim, its stored JSON, where it came from. */
  channel?: string;
  claim?: number | undefined;
  storedEvent?: string;
  source?: { topic: string; partition: number; timestamp: string };
  /** A digest's send from the schedule (src/pipeline/digest-step.ts). */
  digest?: { id: string; type: string };
  /** Parked while its transport was down (from the schedule): when it was first parked, ms. */
  parkedAt?: number;
}

/** A send parked while its transport is down: written to the schedule before the chunk commits. */
export interface Parking {
  job: SendJob;
  parkedAt: number;
  dueAt: number;
}

/** A send and the event it is for: the job is the request itself (one object per send, not two). */
export interface SendJob extends SendRequest {
  entry: Received;
  rule?: RuleCode;
}

/** A send deferred by quiet hours, to be written to the schedule before the chunk commits. */
export interface Deferral {
  entry: Received;
  plan: Extract<DeliveryPlan, { action: 'defer' }>;
}

export type SendOutcome =
  { ok: true; value: SendResult; attempts: number } | { ok: false; error: unknown; attempts: number };

/** The chunk in hand: where it came from, whether to go on, and the heartbeat that keeps the partition. */
export interface ChunkContext {
  topic: string;
  partition: number;
  keepGoing: () => boolean;
  beat: () => Promise<void>;
}

/** What one chunk decided: the send jobs, the outcomes settled, what was delivered, what failed. */
export class Plan {
  readonly jobs: SendJob[] = [];
  readonly settled: DeliveryOutcome[] = [];
  /** Per event: the channels delivered by this chunk. */
  readonly deliveredNow = new Map<string, { entry: Received; channels: string[] }>();
  readonly failed: DeadLetter[] = [];
  readonly deferrals: Deferral[] = [];
  readonly parked: Parking[] = [];

  constructor(
    private readonly chunk: ChunkContext,
    private readonly now: () => number,
    /** Sends from the schedule at their due time: every outcome says `deferred`. */
    private readonly fromSchedule = false,
  ) {}

  /** Built field by field (no spreads, no closures per delivery): this runs for every (event, channel). */
  settle(
    entry: Received,
    channel: string,
    status: DeliveryOutcome['status'],
    reason: DeliveryOutcome['reason'],
    attempts: number,
    address?: string,
    text?: string,
    rule?: RuleCode,
  ): DeliveryOutcome {
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
    if (rule !== undefined) outcome.rule = rule;
    if (entry.prefsInvalid) outcome.prefsInvalid = entry.prefsInvalid;
    if (this.fromSchedule) outcome.deferred = true;
    this.settled.push(outcome);
    return outcome;
  }

  /** A send held by quiet hours: `deferred` until its due time, once the schedule has it. */
  defer(deferral: Deferral): void {
    this.deferrals.push(deferral);
  }

  /** The deferrals' outcomes, once the schedule holds them. */
  settleDeferrals(): void {
    for (const { entry, plan } of this.deferrals) {
      const o = this.settle(entry, plan.channel, 'deferred', 'quiet-hours', 0, plan.address, plan.text, plan.rule);
      o.dueAt = plan.dueAt;
      o.dueLabel = plan.dueLabel;
    }
  }

  /** A send whose transport is down: parked in the schedule until it answers or the hold ends. */
  park(parking: Parking): void {
    this.parked.push(parking);
  }

  /** The parked sends' outcomes (`deferred`, reason `transport-down`), once the schedule holds them. */
  settleParked(): void {
    for (const { job, parkedAt, dueAt } of this.parked) {
      const o = this.settle(job.entry, job.channel, 'deferred', 'transport-down', 0, job.address, job.text, job.rule);
      o.dueAt = dueAt;
      o.since = parkedAt;
      // The deliveries view: `deferred until 12:11 (transport down since 12:01)`.
      o.dueLabel = `${localClock(dueAt)} (transport down since ${localClock(parkedAt)})`;
    }
  }

  /** A send held through a whole outage: a `transport-down` dead letter of its channel. */
  heldTooLong(job: SendJob, detail: string, attempts: number): void {
    const { entry, channel } = job;
    this.settle(entry, channel, 'failed', `transport-down: ${detail}`, attempts, job.address, job.text);
    this.failed.push({
      message: entry.message,
      reason: 'transport-down',
      detail: `${channel}: ${detail}`,
      sourceTopic: this.chunk.topic,
      partition: this.chunk.partition,
      channel,
    });
  }

  /** A send the provider took: `sent`, or `duplicate` when it had taken it before. */
  delivered(job: SendJob, value: SendResult, attempts: number): void {
    const { entry } = job;
    let delivered = this.deliveredNow.get(entry.id);
    if (!delivered) this.deliveredNow.set(entry.id, (delivered = { entry, channels: [] }));
    delivered.channels.push(job.channel);
    const accepted = value === 'accepted';
    this.settle(
      entry,
      job.channel,
      accepted ? 'sent' : 'duplicate',
      accepted ? null : 'provider-already-accepted',
      attempts,
      job.address,
      job.text,
      job.rule,
    );
  }

  finish(job: SendJob, result: SendOutcome): void {
    const { entry, channel } = job;
    if (result.ok) {
      this.delivered(job, result.value, result.attempts);
      return;
    }
    // A transport's refusal (`rejected`), Redis refusing the provider's keys (`store-error`), or a send
    // that kept failing (`delivery-failed`).
    const rejected = result.error instanceof RejectedError;
    const refused = !rejected && result.error instanceof PermanentError;
    const reason = rejected ? (result.error as RejectedError).reply : errorText(result.error);
    this.settle(
      entry,
      channel,
      'failed',
      rejected ? `rejected: ${reason}` : refused ? `store-error: ${reason}` : reason,
      result.attempts,
      job.address,
      job.text,
    );
    this.failed.push({
      message: entry.message,
      reason: rejected ? 'rejected' : refused ? 'store-error' : 'delivery-failed',
      detail: `${channel}: ${reason}`,
      sourceTopic: this.chunk.topic,
      partition: this.chunk.partition,
      channel,
    });
  }
}
