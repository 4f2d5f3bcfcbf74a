/**
 * The event producer: scheduled mock events at a rate, and events injected on
 * demand. Each event goes to the events topic keyed by user id, with the
 * `event-type` header.
 */
import { randomUUID } from 'node:crypto';
import type { Catalog } from '../domain/catalog.js';
import { encodeEvent, type EventEnvelope } from '../domain/envelope.js';
import { pick } from '../domain/event-type.js';
import type { Telemetry } from '../telemetry/telemetry.js';
import { isPermanent } from './errors.js';
import type { EventLog, LogProducer } from './event-log.js';

export interface ProducerOptions {
  log: EventLog;
  topic: string;
  catalog: Catalog;
  telemetry: Telemetry;
  /** The user ids scheduled events pick from. */
  userIds: () => readonly string[];
  /** Scheduled events kept unacknowledged at most (default {@link MAX_UNACKNOWLEDGED}). */
  maxUnacknowledged?: number;
  random?: () => number;
}

/**
 * Scheduled events are sent in ticks of this length; a tick sends what the rate makes due. Each tick's
 * events reach the consumer as one burst settled together: at 100 ms, 1,000 events/s arrived 100 at a
 * time and the produce-to-deliver p99 was 36 ms; at 25 ms it was 19-25 ms (p50 16 → 5 ms).
 */
const TICK_MS = 25;
/** Never let more than this many seconds of scheduled events come due behind a slow broker. */
const MAX_DUE_SECONDS = 2;
/**
 * Scheduled events made but not yet acknowledged by the broker, at most: a broker away for a minute
 * at 1,000 events/s loses nothing. When it is full the schedule makes no new events (backpressure)
 * until the broker takes some: the rate slows, nothing is dropped.
 */
export const MAX_UNACKNOWLEDGED = 100_000;
/**
 * Events per send to the broker, at most: under the broker's default 1 MB batch limit with the sample
 * events (about 250 bytes each) even were they all for one partition. At a steady rate a send carries
 * what came due while the one before was in flight (a few hundred at 5,000/s); the cap matters when
 * the producer is behind: after a leader change on a three-node cluster (about 10 s without
 * acknowledgements at 5,000/s) it caught up at about 2,000 events/s above the rate with 500 a send
 * (the backlog of ~50,000 took half a minute), several times faster with 2,000. A batch the broker
 * refuses as too large is halved until it fits.
 */
const SEND_BATCH = 2_000;

/** How long a stop waits for the client's disconnect, ms. */
const DISCONNECT_MS = 1_000;

export class EventProducer {
  private producer: LogProducer | undefined;
  private readonly random: () => number;
  private timer: NodeJS.Timeout | undefined;
  private rate = 0;
  private make: () => EventEnvelope | undefined = () => this.randomEvent();
  private paused = false;
  private due = 0;
  private lastTick = 0;
  private inFlight: Promise<unknown> = Promise.resolve();
  private sending = false;
  private connected = false;
  /** Made, not yet acknowledged, oldest first: retried until the broker takes them. */
  private readonly unacked: EventEnvelope[] = [];
  /** Events the broker refused for good (one alone still too large, not authorized): reported at stop. */
  private readonly refused: EventEnvelope[] = [];
  private batchSize = SEND_BATCH;
  private backpressure = false;
  private reportedBacklog = 0;
  private reportedFull = false;
  private stopped = false;

  constructor(private readonly options: ProducerOptions) {
    this.random = options.random ?? Math.random;
  }

  async connect(): Promise<void> {
    this.producer = await this.options.log.producer();
    this.connected = true;
  }

  makeEvent(type: string, userId: string, payload?: Record<string, unknown>): EventEnvelope {
    const definition = this.options.catalog.eventTypes.get(type);
    if (!definition)
      throw new Error(
        `unknown event type "${type}" (known: ${[...this.options.catalog.eventTypes.keys()].join(', ')})`,
      );
    return {
      id: randomUUID(),
      type,
      userId,
      occurredAt: new Date().toISOString(),
      payload: payload ?? definition.generatePayload(this.random),
    };
  }

  randomEvent(): EventEnvelope | undefined {
    const users = this.options.userIds();
    if (users.length === 0) return undefined;
    const type = pick(this.random, [...this.options.catalog.eventTypes.keys()]);
    return this.makeEvent(type, pick(this.random, users));
  }

  async send(events: EventEnvelope[]): Promise<void> {
    if (events.length === 0) return;
    if (!this.producer) throw new Error('the producer is not connected');
    await this.producer.send(
      this.options.topic,
      events.map((e) => ({ key: e.userId, value: encodeEvent(e), headers: { 'event-type': e.type } })),
    );
    const at = Date.now();
    for (const e of events) {
      this.options.telemetry.publish({ kind: 'produced', eventId: e.id, type: e.type, userId: e.userId, at });
    }
  }

  /** One event of `type` for `userId`, now. */
  async inject(type: string, userId: string): Promise<EventEnvelope> {
    const event = this.makeEvent(type, userId);
    await this.send([event]);
    return event;
  }

  /** Scheduled events at `rate` per second (0: on demand only), made by `make` (default: random). */
  start(rate: number, make?: () => EventEnvelope | undefined): void {
    this.rate = rate;
    if (make) this.make = make;
    this.lastTick = Date.now();
    this.timer ??= setInterval(() => this.tick(), TICK_MS);
  }

  setRate(rate: number): void {
    this.rate = Math.max(0, rate);
  }

  setPaused(paused: boolean): void {
    this.paused = paused;
    this.due = 0;
  }

  /** Scheduled events made but not yet acknowledged by the broker. */
  get backlog(): number {
    return this.unacked.length;
  }

  private tick(): void {
    const now = Date.now();
    const elapsed = (now - this.lastTick) / 1000;
    this.lastTick = now;
    if (!this.paused && this.rate > 0) {
      this.due = Math.min(this.due + this.rate * elapsed, this.rate * MAX_DUE_SECONDS + 1);
      const room = (this.options.maxUnacknowledged ?? MAX_UNACKNOWLEDGED) - this.unacked.length;
      const wanted = Math.floor(this.due);
      const count = Math.min(wanted, room);
      if (count > 0) {
        this.due -= count;
        for (let i = 0; i < count; i++) {
          const e = this.make();
          if (e) this.unacked.push(e);
        }
      }
      this.setBackpressure(wanted > room);
    }
    this.reportBacklog();
    if (!this.sending && this.unacked.length > 0) this.flush();
  }

  /** Sends the oldest unacknowledged events; they leave the backlog only once the broker has them. */
  private flush(): void {
    const events = this.unacked.slice(0, this.batchSize);
    this.sending = true;
    this.inFlight = this.send(events)
      .then(
        () => {
          this.unacked.splice(0, events.length);
          this.batchSize = Math.min(SEND_BATCH, this.batchSize * 2);
          this.reportBacklog();
        },
        (error: unknown) => this.failed(events, error),
      )
      .finally(() => {
        this.sending = false;
      });
  }

  /**
   * A send failed. Transient (broker away, no leader): kept, retried on the next tick. Refused for
   * good: a batch is halved until the event the broker will never take stands alone; that one leaves
   * the backlog, is named now, and is reported with the unacknowledged ones at stop.
   */
  private failed(events: EventEnvelope[], error: unknown): void {
    const reason = (error as Error).message;
    const publish = (message: string): void =>
      this.options.telemetry.publish({ kind: 'error', source: 'producer', message, at: Date.now() });
    if (!isPermanent(error)) {
      publish(
        `producing ${events.length} event(s) failed, kept for retry (${this.unacked.length} unacknowledged): ${reason}`,
      );
    } else if (events.length > 1) {
      this.batchSize = Math.max(1, Math.floor(events.length / 2));
      publish(`Kafka refused ${events.length} event(s) at once (${reason}): retrying in batches of ${this.batchSize}`);
    } else {
      const [event] = this.unacked.splice(0, 1);
      this.refused.push(event!);
      publish(`Kafka refused event ${event!.id} for good (${reason}): it is reported as unacknowledged at stop`);
      this.reportBacklog();
    }
  }

  private setBackpressure(full: boolean): void {
    if (full === this.backpressure) return;
    this.backpressure = full;
    this.options.telemetry.publish({
      kind: 'error',
      source: 'producer',
      message: full
        ? `producer backlog full (${this.unacked.length} events not yet acknowledged by Kafka): the schedule is slowed until the broker takes them`
        : 'producer backlog has room again: the schedule is back to its rate',
      at: Date.now(),
    });
  }

  private reportBacklog(): void {
    // Said when the count or the backpressure changes: a backlog that turns full at the same count is news too.
    if (this.unacked.length === this.reportedBacklog && this.backpressure === this.reportedFull) return;
    this.reportedBacklog = this.unacked.length;
    this.reportedFull = this.backpressure;
    this.options.telemetry.publish({
      kind: 'backlog',
      unacknowledged: this.unacked.length,
      full: this.backpressure,
      at: Date.now(),
    });
  }

  /**
   * Stops the schedule and gives the broker until `deadline` (ms since the epoch) to take what is
   * still unacknowledged; resolves with the events it never acknowledged (empty: nothing lost).
   */
  async stop(deadline = Date.now() + 3_000): Promise<EventEnvelope[]> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (!this.stopped) {
      this.stopped = true;
      while (this.connected && Date.now() < deadline) {
        const settled = await Promise.race([
          this.inFlight.then(() => true),
          new Promise<false>((r) => setTimeout(() => r(false), Math.max(0, deadline - Date.now())).unref()),
        ]);
        if (!settled || this.unacked.length === 0) break;
        this.flush();
      }
      // A send still in flight at the deadline may yet land: those events count as unacknowledged.
      // Producing them again is safe: the consumer dedupes by event id.
      // A disconnect that hangs (a broker gone mid-request, a loaded machine) gets a second at most.
      if (this.connected)
        await Promise.race([
          this.producer?.disconnect().catch(() => undefined),
          new Promise((r) => setTimeout(r, DISCONNECT_MS).unref()),
        ]);
      this.connected = false;
    }
    return this.pending();
  }

  /**
   * The events not acknowledged yet, now: refused for good, kept for retry, and those of the send in
   * flight (which may yet land). What a stop that runs out of time reports.
   */
  pending(): EventEnvelope[] {
    return [...this.refused, ...this.unacked];
  }
}
