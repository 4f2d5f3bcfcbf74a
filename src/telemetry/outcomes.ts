/**
 * Every outcome the pipeline publishes. Headless mode prints them as JSON lines
 * (docs/contracts.md, "Headless output"); the dashboard reads the same stream.
 */
import { SKIP_REASONS, type RuleCode, type SkipReason } from '../domain/rules.js';
import type { DeadLetterReason } from '../domain/envelope.js';

/** Every status a delivery settles with: the one list (the metrics' outcome labels are made from it). */
export const DELIVERY_STATUSES = ['sent', 'skipped', 'duplicate', 'failed', 'deferred', 'digested'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/**
 * Every reason a delivery is `skipped` with: the rules' ({@link SKIP_REASONS}) and the pipeline's own:
 * a replay of one channel's letter leaves the others `not-replayed`, a digest whose members are all gone
 * at its due time is `digest-empty` (test/unit/metrics.test.ts finds each one the pipeline writes here).
 */
export const DELIVERY_SKIP_REASONS = [...SKIP_REASONS, 'not-replayed', 'digest-empty'] as const;

export interface ProducedOutcome {
  kind: 'produced';
  eventId: string;
  type: string;
  userId: string;
  at: number;
}

export interface ConsumedOutcome {
  kind: 'consumed';
  eventId: string;
  type: string;
  userId: string;
  partition: number;
  offset: string;
  summary: string;
  /**
   * For the dashboard's event detail only (never printed headless): where the event came from, its key
   * and headers as text, its produce timestamp, and the first {@link DETAIL_VALUE_BYTES} bytes of its
   * value, with the value's whole size. Each is bounded, so the cost does not follow the event's size.
   */
  topic?: string;
  key?: string | null;
  headers?: Record<string, string>;
  timestamp?: number;
  value?: string;
  valueBytes?: number;
  at: number;
}

/** Bytes of an event's value kept for the dashboard's detail: enough for any event the catalog makes. */
export const DETAIL_VALUE_BYTES = 4096;

export interface LookupOutcome {
  kind: 'lookup';
  eventId: string;
  userId: string;
  found: boolean;
  /** Channels that are on for this user (empty when unknown). */
  channelsOn: string[];
  latencyMs: number;
  at: number;
}

export interface DeliveryOutcome {
  kind: 'delivery';
  eventId: string;
  type: string;
  userId: string;
  channel: string;
  status: DeliveryStatus;
  reason: SkipReason | 'already-sent' | 'provider-already-accepted' | string | null;
  /** Produce-to-deliver: the Kafka message timestamp to the moment the outcome was settled. */
  latencyMs: number;
  attempts: number;
  /** For display only (not printed headless): recipient and message text. */
  address?: string;
  text?: string;
  /** The rule that decided the channel (the trace says it in words). */
  rule?: RuleCode;
  /** `deferred`: when it is due (ms) and that time in the user's zone (`07:00 Europe/Paris`). */
  dueAt?: number;
  dueLabel?: string;
  /** `deferred` with reason `transport-down`: when the send was first parked, ms (its hold counts from then). */
  since?: number;
  /** Settled at its due time from the schedule (its latency is counted from the due time). */
  deferred?: true;
  /** The user's preference fields that could not be parsed and were ignored. */
  prefsInvalid?: readonly string[];
  /** `digested`: the digest it joined; a digest's own send: its members' event ids. */
  digestId?: string;
  members?: readonly string[];
  /** What the rule saw, for the trace: `3 of 3 in the last hour` (throttled). */
  detail?: string;
  at: number;
}

export interface DeadLetterOutcome {
  kind: 'deadletter';
  /** The event's bytes (decode reasons), `store-error` (Redis refused its keys for good), or `rejected` (a transport refused a send). */
  reason: DeadLetterReason | 'store-error' | 'rejected' | 'transport-down';
  detail: string;
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  at: number;
}

export interface ErrorOutcome {
  kind: 'error';
  source: 'kafka' | 'redis' | 'producer' | 'consumer' | 'provider';
  message: string;
  at: number;
}

export type ServiceState = 'connecting' | 'connected' | 'error' | 'disconnected';

export interface ConnectionOutcome {
  kind: 'connection';
  service: 'kafka' | 'redis';
  state: ServiceState;
  detail: string;
  at: number;
}

export interface AssignmentOutcome {
  kind: 'assignment';
  partitions: number[];
  /** The consumer stopped for good (kafkajs will not restart it): it holds nothing and will not join. */
  stopped?: true;
  at: number;
}

/** The producer's scheduled events not yet acknowledged by the broker (published when it changes). */
export interface BacklogOutcome {
  kind: 'backlog';
  unacknowledged: number;
  /** Full: the schedule makes no new events until the broker takes some. */
  full: boolean;
  at: number;
}

/** The schedule's pending deferred sends (published by the due-sends loop about once a second). */
export interface ScheduleOutcome {
  kind: 'schedule';
  pending: number;
  at: number;
}

/**
 * Where a channel's sends go and whether it answers: `mock` (the mock provider in Redis), or a real
 * transport named by its URL without secrets (`smtp://mail:25`). Published at start and on each change.
 */
export interface TransportOutcome {
  kind: 'transport';
  channel: string;
  via: string;
  /** Absent for the mock; null until known (a webhook before its first request). */
  answers?: boolean | null;
  detail?: string;
  /** Not answering: since when, ms (this consumer's view). */
  since?: number;
  at: number;
}

export type Outcome =
  | ProducedOutcome
  | ConsumedOutcome
  | LookupOutcome
  | DeliveryOutcome
  | DeadLetterOutcome
  | ErrorOutcome
  | ConnectionOutcome
  | AssignmentOutcome
  | BacklogOutcome
  | ScheduleOutcome
  | TransportOutcome;
