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
import type { EventLog, LogProducer } from './event-log.js';

export interface ProducerOptions {
  log: EventLog;
  topic: string;
  catalog: Catalog;
  telemetry: Telemetry;
  /** The user ids scheduled events pick from. */
  userIds: () => readonly string[];
  random?: () => number;
}

/** Scheduled events are sent in ticks of this length; a tick sends what the rate makes due. */
const TICK_MS = 100;
/** Never queue more than this many seconds of scheduled events behind a slow broker. */
const MAX_BACKLOG_SECONDS = 2;

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

  getRate(): number {
    return this.rate;
  }

  setPaused(paused: boolean): void {
    this.paused = paused;
    this.due = 0;
  }

  isPaused(): boolean {
    return this.paused;
  }

  private tick(): void {
    const now = Date.now();
    const elapsed = (now - this.lastTick) / 1000;
    this.lastTick = now;
    if (this.paused || this.rate <= 0) return;
    this.due = Math.min(this.due + this.rate * elapsed, this.rate * MAX_BACKLOG_SECONDS + 1);
    if (this.sending) return;
    const count = Math.floor(this.due);
    if (count <= 0) return;
    this.due -= count;
    const events: EventEnvelope[] = [];
    for (let i = 0; i < count; i++) {
      const e = this.make();
      if (e) events.push(e);
    }
    this.sending = true;
    this.inFlight = this.send(events)
      .catch((error: unknown) => {
        this.options.telemetry.publish({
          kind: 'error',
          source: 'producer',
          message: `producing ${events.length} event(s) failed: ${(error as Error).message}`,
          at: Date.now(),
        });
      })
      .finally(() => {
        this.sending = false;
      });
  }

  /** Stops the schedule, waits for the send in flight, disconnects. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.inFlight.catch(() => undefined);
    if (this.connected) await this.producer?.disconnect().catch(() => undefined);
    this.connected = false;
  }
}
