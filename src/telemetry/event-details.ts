/**
 * What the dashboard's event detail shows: per event, where it came from, its key, headers, produce
 * time and (bounded) value, its Redis look-up and one line per channel. Kept for the newest
 * {@link DETAIL_EVENTS} events only, in insertion order: memory stays flat at any event rate.
 */
import type { ConsumedOutcome, DeadLetterOutcome, DeliveryOutcome, DeliveryStatus, LookupOutcome } from './outcomes.js';
import { bound } from '../text/bound.js';
import { describeRule } from '../domain/rules.js';

export const DETAIL_EVENTS = 2000;

export interface DeliveryTrace {
  channel: string;
  status: DeliveryStatus;
  reason: string | null;
  attempts: number;
  latencyMs: number;
  address: string;
  text: string;
  /** The rule that decided the channel, in words (src/domain/rules.ts describeRule). */
  rule?: string;
  /** Sent from the schedule at its due time. */
  deferred?: boolean;
  /** Preference fields that could not be parsed and were ignored. */
  prefsInvalid?: readonly string[];
  /** What the rule saw (`3 of 3 in the last hour`: throttled). */
  detail?: string;
}

const NO_HEADERS: Record<string, string> = Object.freeze({}) as Record<string, string>;

/** As kept: the headers as the outcome gave them (already bounded), made into pairs only when asked for. */
type KeptDetail = Omit<EventDetail, 'headers'> & { headers: Record<string, string> };

export interface EventDetail {
  /** The event id, or `p<partition>@<offset>` for a message that never decoded into an event. */
  key: string;
  eventId: string;
  type: string;
  userId: string;
  topic: string;
  partition: number;
  offset: string;
  messageKey: string | null;
  headers: [string, string][];
  /** Produce timestamp (Kafka's), ms since the epoch; 0 when unknown. */
  timestamp: number;
  consumedAt: number;
  value: string;
  valueBytes: number;
  lookup: { found: boolean; channelsOn: string[]; latencyMs: number } | null;
  deliveries: DeliveryTrace[];
  deadLetter: { reason: string; detail: string } | null;
  /** A digest's own detail: the events it holds (the first {@link DIGEST_MEMBERS_KEPT}) and how many in all. */
  members?: { ids: string[]; total: number };
}

/** Member ids a digest's detail keeps. */
export const DIGEST_MEMBERS_KEPT = 50;

/** The key of a dead letter's detail when the message never became an event. */
export const letterKey = (partition: number, offset: string): string => `p${partition}@${offset}`;

export class EventDetails {
  private readonly byKey = new Map<string, KeptDetail>();
  /** `p<partition>@<offset>` to the key, for dead letters (which carry a position, not an id). */
  private readonly byPosition = new Map<string, string>();

  constructor(private readonly capacity = DETAIL_EVENTS) {}

  get size(): number {
    return this.byKey.size;
  }

  private add(detail: KeptDetail): void {
    this.byKey.delete(detail.key);
    this.byKey.set(detail.key, detail);
    this.byPosition.set(letterKey(detail.partition, detail.offset), detail.key);
    while (this.byKey.size > this.capacity) {
      const oldest = this.byKey.keys().next().value as string;
      const gone = this.byKey.get(oldest)!;
      this.byKey.delete(oldest);
      const position = letterKey(gone.partition, gone.offset);
      if (this.byPosition.get(position) === oldest) this.byPosition.delete(position);
    }
  }

  /** `row`: the strings the collector already bounded for its stream row. */
  consumed(o: ConsumedOutcome, row: { eventId: string; type: string; userId: string }): void {
    this.add({
      key: row.eventId,
      eventId: row.eventId,
      type: row.type,
      userId: row.userId,
      topic: bound(o.topic ?? ''),
      partition: o.partition,
      offset: o.offset,
      messageKey: o.key === undefined || o.key === null ? null : bound(o.key),
      headers: o.headers ?? NO_HEADERS,
      timestamp: o.timestamp ?? 0,
      consumedAt: o.at,
      value: o.value ?? '',
      valueBytes: o.valueBytes ?? 0,
      lookup: null,
      deliveries: [],
      deadLetter: null,
    });
  }

  lookup(o: LookupOutcome, eventId: string): void {
    const d = this.byKey.get(eventId);
    if (d) d.lookup = { found: o.found, channelsOn: o.channelsOn, latencyMs: o.latencyMs };
  }

  /** `row`: the strings the collector already bounded for its deliveries row. */
  delivery(
    o: DeliveryOutcome,
    row: { eventId: string; type: string; address: string; text: string; reason: string | null },
  ): void {
    let d = this.byKey.get(row.eventId);
    // A digest's send: its own detail (it was never consumed as an event), listing its members.
    if (!d && o.members) {
      this.add({
        key: row.eventId,
        eventId: row.eventId,
        type: row.type,
        userId: bound(o.userId),
        topic: '',
        partition: -1,
        offset: row.eventId,
        messageKey: null,
        headers: NO_HEADERS,
        timestamp: 0,
        consumedAt: o.at,
        value: '',
        valueBytes: 0,
        lookup: null,
        deliveries: [],
        deadLetter: null,
        members: { ids: o.members.slice(0, DIGEST_MEMBERS_KEPT).map((id) => bound(id)), total: o.members.length },
      });
      d = this.byKey.get(row.eventId);
    }
    if (!d) return;
    const trace: DeliveryTrace = {
      channel: o.channel,
      status: o.status,
      reason: row.reason,
      attempts: o.attempts,
      latencyMs: o.latencyMs,
      address: row.address,
      text: row.text,
    };
    if (o.dueLabel) trace.reason = `until ${bound(o.dueLabel)}`;
    // A digest's member: `digested into <digest id>, sends at 12:10 Europe/Paris`.
    if (o.status === 'digested' && o.detail !== undefined) trace.reason = bound(o.detail.replace(/^digested /, ''));
    if (o.rule) trace.rule = describeRule(o.rule, row.type, o.channel);
    if (o.deferred) trace.deferred = true;
    if (o.prefsInvalid) trace.prefsInvalid = o.prefsInvalid;
    // (a digested outcome's detail is its reason, above)
    if (o.detail !== undefined && o.status !== 'digested') trace.detail = bound(o.detail);
    // A replay settles a channel again: its newest outcome replaces the one before.
    const i = d.deliveries.findIndex((t) => t.channel === o.channel);
    if (i >= 0) d.deliveries[i] = trace;
    else d.deliveries.push(trace);
    if (o.status === 'failed') {
      // `rejected: <reply>`, `store-error: <reply>` and `transport-down: <why>` name their letter's reason; any other
      // failure is `delivery-failed`.
      const named = /^(rejected|store-error|transport-down): /.exec(trace.reason ?? '');
      d.deadLetter = { reason: named ? named[1]! : 'delivery-failed', detail: trace.reason ?? '' };
    }
  }

  deadLetter(o: DeadLetterOutcome): void {
    const position = letterKey(o.partition, o.offset);
    const known = this.byPosition.get(position);
    const d = known === undefined ? undefined : this.byKey.get(known);
    if (d) {
      d.deadLetter = { reason: o.reason, detail: bound(o.detail) };
      return;
    }
    this.add({
      key: position,
      eventId: '',
      type: '',
      userId: '',
      topic: bound(o.topic),
      partition: o.partition,
      offset: o.offset,
      messageKey: o.key === null ? null : bound(o.key),
      headers: NO_HEADERS,
      timestamp: 0,
      consumedAt: o.at,
      value: '',
      valueBytes: 0,
      lookup: null,
      deliveries: [],
      deadLetter: { reason: o.reason, detail: bound(o.detail) },
    });
  }

  /** The key of the event consumed at this position, while it is kept. */
  keyAt(partition: number, offset: string): string | undefined {
    return this.byPosition.get(letterKey(partition, offset));
  }

  /** A copy (the store must not see it change), or undefined once it is no longer kept. */
  get(key: string): EventDetail | undefined {
    const d = this.byKey.get(key);
    if (!d) return undefined;
    return { ...d, deliveries: d.deliveries.map((t) => ({ ...t })), headers: Object.entries(d.headers) };
  }
}
