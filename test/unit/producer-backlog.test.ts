/** The producer never drops an event it made: a bounded backlog, backpressure that says so, and a count at stop. */
import { describe, expect, it, vi } from 'vitest';
import { loadCatalog } from '../../src/domain/catalog.js';
import type { EventLog, OutboundMessage } from '../../src/pipeline/event-log.js';
import { EventProducer } from '../../src/pipeline/producer.js';
import type { Outcome } from '../../src/telemetry/outcomes.js';
import { Telemetry } from '../../src/telemetry/telemetry.js';
import { waitFor } from '../support/cli.js';

/** A log whose broker takes nothing until `open()`: each send waits, as kafkajs does while it retries. */
function stalledLog() {
  const sent: OutboundMessage[] = [];
  let release: () => void = () => undefined;
  let gate = new Promise<void>((r) => (release = r));
  const log = {
    producer: async () => ({
      send: async (_topic: string, messages: OutboundMessage[]) => {
        await gate;
        sent.push(...messages);
      },
      disconnect: async () => undefined,
    }),
  } as unknown as EventLog;
  return {
    log,
    sent,
    open: () => release(),
    close: () => (gate = new Promise<void>((r) => (release = r))),
  };
}

async function producer(log: EventLog, maxUnacknowledged: number) {
  const telemetry = new Telemetry();
  const published: Outcome[] = [];
  telemetry.subscribe((o) => published.push(o));
  const p = new EventProducer({
    log,
    topic: 't',
    catalog: await loadCatalog(),
    telemetry,
    userIds: () => ['u1'],
    maxUnacknowledged,
  });
  await p.connect();
  return { p, published };
}

describe('the producer backlog', () => {
  it('full: the schedule makes no more events and says so; the broker back: all of them are sent, and it says so', async () => {
    const broker = stalledLog();
    const { p, published } = await producer(broker.log, 300);
    p.start(2_000);
    await waitFor('the backlog to fill', () => p.backlog === 300, 5_000);
    await waitFor(
      'backpressure to be said',
      () => published.some((o) => o.kind === 'error' && /backlog full \(300 events/.test(o.message)),
      5_000,
    );
    expect(published.some((o) => o.kind === 'backlog' && o.full && o.unacknowledged === 300)).toBe(true);
    broker.open();
    await waitFor('the backlog to drain and room to be said', () =>
      published.some((o) => o.kind === 'error' && /backlog has room again/.test(o.message)),
    );
    const unacknowledged = await p.stop();
    expect(unacknowledged).toEqual([]);
    const produced = published
      .filter((o) => o.kind === 'produced')
      .map((o) => (o.kind === 'produced' ? o.eventId : ''));
    // every event made was sent once, none dropped while the broker was away
    expect(new Set(produced).size).toBe(produced.length);
    expect(broker.sent.length).toBe(produced.length);
    expect(produced.length).toBeGreaterThanOrEqual(300);
  });

  it('a backlog that turns full at the count it already had is said to be full (it was not: a flaky test found it)', async () => {
    const broker = stalledLog();
    const { p, published } = await producer(broker.log, 50);
    vi.useFakeTimers();
    try {
      p.start(2_000);
      vi.advanceTimersByTime(25); // one tick: 50 events made, exactly the room there was
      expect(published.filter((o) => o.kind === 'backlog').at(-1)).toMatchObject({ unacknowledged: 50, full: false });
      vi.advanceTimersByTime(25); // the next: 50 more wanted, no room: full, at the same count
      expect(published.filter((o) => o.kind === 'backlog').at(-1)).toMatchObject({ unacknowledged: 50, full: true });
    } finally {
      vi.useRealTimers();
      broker.open();
      await p.stop();
    }
  });

  it('stopped while the broker takes nothing: stop returns every event made (the CLI exits 3 with them)', async () => {
    const broker = stalledLog();
    const { p } = await producer(broker.log, 1_000);
    p.start(500);
    await waitFor('events to be made', () => p.backlog >= 100, 5_000);
    const unacknowledged = await p.stop(Date.now() + 200);
    expect(unacknowledged.length).toBeGreaterThanOrEqual(100);
    expect(new Set(unacknowledged.map((e) => e.id)).size).toBe(unacknowledged.length);
  });
});
