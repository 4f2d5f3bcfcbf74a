/**
 * Every interface and type the pipeline core needs from the outside world, and nothing else: the
 * adapters (Kafka, Redis, in-process) implement these; the core imports only this file, its own
 * modules and the domain. The partitioned log's port is `event-log.ts`, beside it.
 */
import { DECODE_FAILURE_REASONS } from '../domain/envelope.js';
import type { UserProfile } from '../domain/event-type.js';
import type { Preferences, UserRules } from '../domain/rules.js';
import type { PermanentError } from './errors.js';

// ——— messages and dead letters ———

export interface RawMessage {
  key: Buffer | null;
  value: Buffer | null;
  headers?: Record<string, Buffer | string | (Buffer | string)[] | undefined>;
  offset: string;
  /** Producer timestamp, ms since the epoch, as a string (Kafka's). */
  timestamp: string;
}

/**
 * Every reason the consumer writes in a letter's `dlq-reason` header: its bytes, a store that refuses
 * its keys, a send that failed, or a send a real transport refused for good (`rejected`: an SMTP 5xx,
 * a webhook's 4xx), or a send held through a whole outage of its transport (`transport-down`, after
 * `--outage-hold`). The one list: the type below, `dlq list|replay --reason` and docs/contracts.md
 * (test/unit/dead-letters.test.ts holds them equal).
 */
export const LETTER_REASONS = [
  ...DECODE_FAILURE_REASONS,
  'store-error',
  'delivery-failed',
  'rejected',
  'transport-down',
] as const;

/**
 * Letters of one channel's send (they carry `dlq-channel`): a replay resends that channel only.
 */
export const CHANNEL_LETTER_REASONS: readonly LetterReason[] = ['delivery-failed', 'rejected', 'transport-down'];

/** Why a letter went to the dead-letter topic. */
export type LetterReason = (typeof LETTER_REASONS)[number];

export interface DeadLetter {
  message: RawMessage;
  reason: LetterReason;
  detail: string;
  sourceTopic: string;
  partition: number;
  channel?: string;
}

export interface DeadLetterSink {
  send(letters: DeadLetter[]): Promise<void>;
}

// ——— users, preferences and the dedupe ledger ———

export interface UserRecord {
  profile: UserProfile;
  prefs: Preferences;
  /** Per-type choices, zone and quiet hours, from the same `prefs:<id>` hash; none = no rules. */
  rules?: UserRules;
}

export interface BatchLookup {
  users: Map<string, UserRecord | undefined>;
  /** Per event id found in the dedupe ledger: the channels already delivered. */
  delivered: Map<string, readonly string[]>;
}

/** An event as the dedupe ledger knows it: its record lives in the window its `occurredAt` falls in. */
export interface LedgerEvent {
  id: string;
  /** The event's `occurredAt`, ms since the epoch. */
  occurredAtMs: number;
}

/** What one event has had delivered so far: its channels, comma-separated. */
export interface LedgerMark extends LedgerEvent {
  channels: string;
}

export interface PipelineStore {
  lookupBatch(userIds: readonly string[], events: readonly LedgerEvent[]): Promise<BatchLookup>;
  markDelivered(marks: readonly LedgerMark[]): Promise<void>;
}

// ——— the notification provider ———

/** One message to send. Its idempotency key is (`eventId`, `channel`): the provider accepts each once. */
export interface SendRequest {
  channel: string;
  eventId: string;
  userId: string;
  address: string;
  text: string;
  /**
   * When the event happened (its `occurredAt`), ms since the epoch: the provider keeps the send's
   * idempotency record in that time's window, so a resend of the event looks in one place.
   */
  occurredAtMs: number;
  /** A digest's send (`eventId` = the digest id): its members' event ids, carried on the outbox line. */
  members?: readonly string[];
  /** The event's type and `occurredAt` as it was written (a real transport's message carries them). */
  type?: string;
  occurredAt?: string;
}

export type SendResult = 'accepted' | 'already-accepted';

export interface NotificationProvider {
  send(request: SendRequest): Promise<SendResult>;
  /**
   * Many sends in one call (a provider's batch API); each slot holds its result, its rejection, or
   * a {@link PermanentError} when the provider's store refuses that send's keys for good.
   */
  sendMany(requests: readonly SendRequest[]): Promise<(SendResult | ProviderError | PermanentError)[]>;
}

/**
 * A send that did not go this time and may go later: the pipeline retries it with backoff. A real
 * transport's temporary reply (an SMTP 4xx, a webhook's 408, 429 or 5xx) is one; `retryAfterMs` is
 * the server's own wish (`Retry-After`), which the retry waits at least (bounded).
 */
export class ProviderError extends Error {
  override name = 'ProviderError';
  constructor(
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

/**
 * A real transport that does not answer at all: connection refused, a time-out, a name that does not
 * resolve. Retried like any {@link ProviderError} today; it is kept apart from a temporary reply (the
 * server answered "not now") and from a rejection (the server answered "never"), so that an outage can
 * be held (parked in the schedule) rather than burnt into the dead-letter topic.
 */
export class TransportDownError extends ProviderError {
  override name = 'TransportDownError';
  constructor(
    /** The transport, as shown (`smtp://mail:25`): no secret. */
    readonly transport: string,
    message: string,
    /** The network error's code (`ECONNREFUSED`, `ETIMEDOUT`, `ENOTFOUND`...), when there is one. */
    readonly code?: string,
  ) {
    super(message);
  }
}

// ——— the schedule: sends deferred by quiet hours ———

/**
 * A send held until `dueAt` (the end of the user's quiet hours). Written to Redis before its event's
 * offset is committed; keyed by (event id, channel), so a redelivery of the event defers again onto
 * the same entry. It holds the event itself: at its due time the send is planned again, against the
 * preferences of that moment.
 */
export interface ScheduledSend {
  eventId: string;
  channel: string;
  userId: string;
  type: string;
  /** When it is due, ms since the epoch (UTC). */
  dueAt: number;
  /** The user's zone when it was deferred (the due time is shown in it). */
  zone: string;
  /** Why it waits: `quiet-hours` (and, later, the next rules' reasons). */
  reason: string;
  /** When it was deferred, ms. */
  deferredAt: number;
  /** The event's envelope, as JSON. */
  event: string;
  /** The event's `occurredAt`, ms: the window its idempotency records live in. */
  occurredAtMs: number;
  /** Where the event was read: a dead letter of the send names it. */
  topic: string;
  partition: number;
  offset: string;
  /** The Kafka message's timestamp (ms, as a string). */
  timestamp: string;
  /**
   * A digest's send (reason `digest`): `eventId` is the digest id, `event` an envelope of the digest's
   * type for the user (its payload unused); the members are read from the {@link DigestStore} at send time.
   */
  digest?: { id: string; type: string };
  /** A send parked while its transport is down (reason `transport-down`): when it was first parked, ms. */
  parkedAt?: number;
}

export interface Schedule {
  /**
   * Writes entries: one that exists already (the same event and channel) keeps its due time, unless
   * `replace` (a send deferred again at its due time moves to its new one).
   */
  add(entries: readonly ScheduledSend[], replace?: boolean): Promise<void>;
  /**
   * Claims up to `limit` entries due at `now`, atomically: each is leased to the caller for `leaseMs`
   * and is due again after that unless {@link done}. Several consumers never claim one entry at once.
   */
  claimDue(now: number, limit: number, leaseMs: number): Promise<ScheduledSend[]>;
  /** Removes settled entries (sent, skipped at their due time, or dead-lettered). */
  done(entries: readonly Pick<ScheduledSend, 'eventId' | 'channel'>[]): Promise<void>;
  /**
   * The sends of `channel` parked while its transport was down (reason `transport-down`), due at `now`:
   * called when the transport answers again. Returns how many were made due.
   */
  wakeParked?(channel: string, now: number): Promise<number>;
  /** How many entries wait (claimed ones included). */
  pending(): Promise<number>;
  /** Pending entries, soonest due first, newest due last; at most `limit`, of one user when given. */
  list(options?: { userId?: string; limit?: number }): Promise<ScheduledSend[]>;
}

// ——— caps: at most n sends of a channel to a user in a sliding window ———

/** One send that a cap governs: counted once per (event, channel), however often it comes. */
export interface CapCheck {
  userId: string;
  channel: string;
  eventId: string;
  limit: number;
  windowMs: number;
}

/**
 * `allowed`: the send may go (counted now, or counted before: a redelivery); `count`: sends counted in
 * the window: for a throttled send (and an allowed one near the cap) when it was checked; for an allowed
 * one far from the cap, once the chunk's sends of its user and channel were counted.
 */
export interface CapVerdict {
  allowed: boolean;
  count: number;
}

export interface CapCounter {
  /**
   * Checks and counts a chunk's capped sends, in order, atomically per user: an (event, channel) counted
   * before is allowed again without counting twice; a new one is counted only when under the limit.
   */
  check(checks: readonly CapCheck[], now: number): Promise<CapVerdict[]>;
}

// ——— digests: a type's events within a window become one message per channel ———

/** A digestible event joining its user's open digest of its type (or opening one). */
export interface DigestJoin {
  userId: string;
  type: string;
  windowMs: number;
  eventId: string;
  /** The member's envelope, as JSON (its payload is listed in the digest). */
  event: string;
  occurredAtMs: number;
}

export interface DigestJoined {
  /** Deterministic: (user, type, window start). */
  digestId: string;
  /** The window's end: when the digest is sent. */
  dueAt: number;
  /** This join opened the digest. */
  opened: boolean;
  /** The member had joined this digest before (a redelivery): nothing changed. */
  already: boolean;
}

export interface DigestMember {
  eventId: string;
  event: string;
  occurredAtMs: number;
}

export interface DigestStore {
  /** Joins each event to its user's open digest of its type, atomically per user; a member joins one digest once. */
  join(joins: readonly DigestJoin[], now: number): Promise<DigestJoined[]>;
  /**
   * A digest's members, oldest first: the first `limit` (Infinity: all), and how many there are in all.
   * `userId`: the digest's user (its id names a very long user id by a hash only).
   */
  members(digestId: string, limit: number, userId?: string): Promise<{ members: DigestMember[]; total: number }>;
  /** How many members each digest has (the Scheduled view). */
  counts(digestIds: readonly string[]): Promise<number[]>;
}

/**
 * Waiting for Redis replicas (`--redis-wait-replicas`): after a chunk's Redis writes and before its
 * offsets are committed, `WAIT` on the connection(s) that wrote them, so a failover to a replica
 * cannot lose the records of a committed chunk.
 */
export interface ReplicaWait {
  /** The replicas wanted. */
  readonly replicas: number;
  /** The timeout of one `WAIT`, ms. */
  readonly timeoutMs: number;
  /**
   * A number that changes whenever a connection that writes may have changed (a reconnect, a
   * failover): writes made before it went to a server `WAIT` no longer asks.
   */
  epoch(): number;
  /** `WAIT replicas timeoutMs` on every connection that writes: the fewest replicas any acknowledged. */
  wait(): Promise<number>;
}
