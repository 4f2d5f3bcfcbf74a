/**
 * Turns the outcome stream into what the dashboard shows: counters, bounded
 * recent rows, per-second rates and latency percentiles. Plain objects, no
 * React: the pipeline may publish thousands of outcomes a second, and the UI
 * copies a snapshot about ten times a second.
 */
import type { ConnectionOutcome, DeadLetterOutcome, DeliveryStatus, Outcome, ServiceState } from './outcomes.js';
import { RingBuffer } from './ring-buffer.js';
import { countInto, emptyTotals, type Totals } from './telemetry.js';
import { bound } from '../text/bound.js';
import { EventDetails, letterKey, type EventDetail } from './event-details.js';
import { rowFilter } from './row-filter.js';

export interface StreamRow {
  /** Increases by one per row kept: tells rows that came since a moment apart from older ones. */
  seq: number;
  at: number;
  eventId: string;
  type: string;
  userId: string;
  partition: number;
  offset: string;
  summary: string;
}

export interface LookupRow {
  at: number;
  eventId: string;
  userId: string;
  found: boolean;
  channelsOn: string[];
  latencyMs: number;
}

export interface DeliveryRow {
  seq: number;
  at: number;
  /** The event's id; for a dead letter of a message that never became an event, `p<partition>@<offset>`. */
  eventId: string;
  type: string;
  userId: string;
  channel: string;
  address: string;
  text: string;
  status: DeliveryStatus | 'deadletter';
  reason: string | null;
  latencyMs: number;
  attempts: number;
  /** Sent from the schedule at its due time (`sent (deferred)`). */
  deferred?: true;
  /** A deferral: its due time in the user's zone (`07:00 Europe/Paris`). */
  dueLabel?: string;
  /** `digested`: the digest it joined; a digest's send: its id is the row's event. */
  digestId?: string;
  /** What the rule saw (`3 of 3 in the last hour`). */
  detail?: string;
  /** A dead letter's own fields (status `deadletter`), as headless output prints them. */
  letter?: Pick<DeadLetterOutcome, 'reason' | 'detail' | 'topic' | 'partition' | 'offset' | 'key'>;
}

export interface ServiceHealth {
  state: ServiceState;
  detail: string;
  since: number;
}

/** A channel's transport as last published: `mock`, or a real one and whether it answers. */
export interface TransportRow {
  channel: string;
  via: string;
  answers?: boolean | null;
  detail?: string;
  since: number;
  /** Not answering: since when (this consumer's view), ms. */
  downSince?: number;
}

export interface Snapshot {
  totals: Totals;
  /** The last 60 whole seconds, oldest first. */
  history: { produced: number[]; consumed: number[]; delivered: number[] };
  perSecond: { produced: number; consumed: number; delivered: number };
  latency: { p50: number; p95: number; p99: number; samples: number };
  stream: StreamRow[];
  lookups: LookupRow[];
  deliveries: DeliveryRow[];
  kafka: ServiceHealth;
  redis: ServiceHealth;
  partitions: number[];
  /** The consumer stopped for good: no partition is its own, and none will be. */
  consumerStopped: boolean;
  /** The newest error (its text bounded as every string the dashboard keeps), with when and where from. */
  lastError: { message: string; source: string; at: number } | null;
  /** The producer's events not yet acknowledged by Kafka, and whether that backlog is full. */
  backlog: { unacknowledged: number; full: boolean };
  /** Each channel's transport, in the order first published (the catalog's). */
  transports: TransportRow[];
}

const HISTORY_SECONDS = 60;
const ROWS = 200;
const LATENCY_SAMPLES = 2048;

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[idx]!;
}

export class Collector {
  private readonly totals = emptyTotals();
  /** The totals counted by the one rule headless `--output stats` counts by too. */
  private readonly count = countInto(this.totals);
  private readonly stream = new RingBuffer<StreamRow>(ROWS);
  private readonly lookups = new RingBuffer<LookupRow>(ROWS);
  private readonly deliveries = new RingBuffer<DeliveryRow>(ROWS);
  private readonly latencies = new RingBuffer<number>(LATENCY_SAMPLES);
  private readonly history = {
    produced: new RingBuffer<number>(HISTORY_SECONDS),
    consumed: new RingBuffer<number>(HISTORY_SECONDS),
    delivered: new RingBuffer<number>(HISTORY_SECONDS),
  };
  private secondStart: number;
  private inSecond = { produced: 0, consumed: 0, delivered: 0 };
  private kafka: ServiceHealth;
  private redis: ServiceHealth;
  private partitions: number[] = [];
  private consumerStopped = false;
  private lastError: Snapshot['lastError'] = null;
  private backlog: Snapshot['backlog'] = { unacknowledged: 0, full: false };
  private readonly transports = new Map<string, TransportRow>();
  private readonly details = new EventDetails();
  private seq = 0;

  constructor(private readonly now: () => number = Date.now) {
    this.secondStart = Math.floor(now() / 1000) * 1000;
    this.kafka = { state: 'connecting', detail: '', since: now() };
    this.redis = { state: 'connecting', detail: '', since: now() };
  }

  readonly listener = (o: Outcome): void => {
    this.roll();
    this.count(o);
    switch (o.kind) {
      case 'produced':
        this.inSecond.produced++;
        break;
      case 'consumed':
        this.inSecond.consumed++;
        {
          const row: StreamRow = {
            seq: ++this.seq,
            at: o.at,
            eventId: bound(o.eventId),
            type: bound(o.type),
            userId: bound(o.userId),
            partition: o.partition,
            offset: o.offset,
            summary: bound(o.summary),
          };
          this.stream.push(row);
          this.details.consumed(o, row);
        }
        break;
      case 'lookup':
        {
          const eventId = bound(o.eventId);
          this.details.lookup(o, eventId);
          this.lookups.push({
            at: o.at,
            eventId,
            userId: bound(o.userId),
            found: o.found,
            channelsOn: o.channelsOn,
            latencyMs: o.latencyMs,
          });
        }
        break;
      case 'delivery':
        if (o.status === 'sent') {
          this.inSecond.delivered++;
          this.latencies.push(o.latencyMs);
        }
        {
          const row: DeliveryRow = {
            seq: ++this.seq,
            at: o.at,
            eventId: bound(o.eventId),
            type: bound(o.type),
            userId: bound(o.userId),
            channel: o.channel,
            address: bound(o.address ?? ''),
            text: bound(o.text ?? ''),
            status: o.status,
            reason: o.reason === null ? null : bound(o.reason),
            latencyMs: o.latencyMs,
            attempts: o.attempts,
          };
          if (o.deferred) row.deferred = true;
          // A deferral reads `deferred until 07:00 Europe/Paris`.
          if (o.dueLabel !== undefined) row.dueLabel = bound(o.dueLabel);
          if (o.digestId !== undefined) row.digestId = bound(o.digestId);
          if (o.detail !== undefined) row.detail = bound(o.detail);
          this.deliveries.push(row);
          this.details.delivery(o, row);
        }
        break;
      case 'deadletter':
        this.details.deadLetter(o);
        {
          const detail = bound(o.detail);
          const key = o.key === null ? null : bound(o.key);
          this.deliveries.push({
            seq: ++this.seq,
            at: o.at,
            eventId: this.details.keyAt(o.partition, o.offset) ?? letterKey(o.partition, o.offset),
            type: '',
            userId: key ?? '',
            channel: 'dlq',
            address: key ?? '(no key)',
            text: bound(`p${o.partition}@${o.offset}: ${detail}`),
            status: 'deadletter',
            reason: o.reason,
            latencyMs: 0,
            attempts: 0,
            letter: { reason: o.reason, detail, topic: bound(o.topic), partition: o.partition, offset: o.offset, key },
          });
        }
        break;
      case 'error':
        this.lastError = { message: bound(o.message), source: o.source, at: o.at };
        break;
      case 'backlog':
        this.backlog = { unacknowledged: o.unacknowledged, full: o.full };
        break;
      case 'connection':
        this.setHealth(o);
        break;
      case 'assignment':
        this.partitions = o.partitions;
        this.consumerStopped = o.stopped === true;
        break;
      case 'transport': {
        const row: TransportRow = { channel: o.channel, via: bound(o.via), since: o.at };
        if (o.answers !== undefined) row.answers = o.answers;
        if (o.detail !== undefined) row.detail = bound(o.detail);
        if (o.since !== undefined) row.downSince = o.since;
        this.transports.set(o.channel, row);
        break;
      }
    }
  };

  /** Closes every whole second that has passed into the history. */
  roll(): void {
    const now = this.now();
    while (now - this.secondStart >= 1000) {
      this.history.produced.push(this.inSecond.produced);
      this.history.consumed.push(this.inSecond.consumed);
      this.history.delivered.push(this.inSecond.delivered);
      this.inSecond = { produced: 0, consumed: 0, delivered: 0 };
      this.secondStart += 1000;
      // after a long pause, do not loop over every missed second one by one beyond the window
      if (now - this.secondStart > HISTORY_SECONDS * 1000)
        this.secondStart = Math.floor(now / 1000) * 1000 - HISTORY_SECONDS * 1000;
    }
  }

  /**
   * Service health comes only from telemetry (`connection` outcomes), as headless output reads it: the
   * same state and detail again keeps the time it began.
   */
  private setHealth(o: ConnectionOutcome): void {
    const current = this.health(o.service);
    const detail = bound(o.detail);
    if (current.state === o.state && current.detail === detail) return;
    const health = { state: o.state, detail, since: o.at };
    if (o.service === 'kafka') this.kafka = health;
    else this.redis = health;
  }

  /** A service's health as last published. */
  health(service: ConnectionOutcome['service']): ServiceHealth {
    return service === 'kafka' ? this.kafka : this.redis;
  }

  /** The detail of an event (by id, or `p<partition>@<offset>` for a dead letter), while it is kept. */
  detail(key: string): EventDetail | undefined {
    return this.details.get(key);
  }

  /** Every row kept of the stream and the deliveries that passes `filter`, newest first. */
  rows(filter = ''): { stream: StreamRow[]; deliveries: DeliveryRow[] } {
    const keep = rowFilter(filter);
    return { stream: this.stream.newest().filter(keep), deliveries: this.deliveries.newest().filter(keep) };
  }

  /** `filter`: only the rows it matches (see {@link rowFilter}), up to `rows` of each kind. */
  snapshot(rows = 60, filter = ''): Snapshot {
    this.roll();
    const newest = <T extends object>(buffer: RingBuffer<T>): T[] => {
      if (filter === '') return buffer.newest(rows);
      const keep = rowFilter(filter);
      return buffer
        .newest()
        .filter((r) => keep(r))
        .slice(0, rows);
    };
    const sorted = this.latencies.toArray().sort((a, b) => a - b);
    const last = (b: RingBuffer<number>): number => b.newest(1)[0] ?? 0;
    return {
      totals: { ...this.totals },
      history: {
        produced: this.history.produced.toArray(),
        consumed: this.history.consumed.toArray(),
        delivered: this.history.delivered.toArray(),
      },
      perSecond: {
        produced: last(this.history.produced),
        consumed: last(this.history.consumed),
        delivered: last(this.history.delivered),
      },
      latency: {
        p50: percentile(sorted, 50),
        p95: percentile(sorted, 95),
        p99: percentile(sorted, 99),
        samples: sorted.length,
      },
      stream: newest(this.stream),
      lookups: newest(this.lookups),
      deliveries: newest(this.deliveries),
      kafka: this.kafka,
      redis: this.redis,
      partitions: this.partitions,
      consumerStopped: this.consumerStopped,
      lastError: this.lastError,
      backlog: this.backlog,
      transports: [...this.transports.values()],
    };
  }
}
