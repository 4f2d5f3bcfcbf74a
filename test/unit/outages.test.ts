/**
 * The outage hold's decisions, on a fake clock: a send whose every try found its transport down is
 * parked in the schedule (reason `transport-down`, with its event and where it was read, and when it
 * was first parked), not dead-lettered; once the transport is known down, further sends park at once
 * without a try; a parked send due again while the transport is still down is parked again with the
 * same start; after the hold it is dead-lettered `transport-down` with its channel; the probe's backoff.
 */
import { describe, expect, it } from 'vitest';
import { processorOn, providerAnswering, signupMessage, storeOf, userU1 } from '../support/processor.js';
import { Outages, parkDecision, probeDelay } from '../../src/pipeline/outages.js';
import type { ClaimedSend } from '../../src/pipeline/processor.js';
import { CHANNEL_LETTER_REASONS, LETTER_REASONS } from '../../src/pipeline/ports.js';
import { TransportDownError, type Schedule, type ScheduledSend, type SendRequest } from '../../src/pipeline/ports.js';
import type { DeliveryOutcome } from '../../src/telemetry/outcomes.js';
import { isChannelLetter } from '../../src/pipeline/dead-letters.js';

const HOLD = 10 * 60_000;

describe('the decisions', () => {
  it('parks until the hold ends, counted from the first parking; dead-letters after it', () => {
    expect(parkDecision(1000, HOLD)).toEqual({ action: 'park', parkedAt: 1000, dueAt: 1000 + HOLD });
    expect(parkDecision(5000, HOLD, 1000)).toEqual({ action: 'park', parkedAt: 1000, dueAt: 1000 + HOLD });
    expect(parkDecision(1000 + HOLD, HOLD, 1000)).toMatchObject({ action: 'dead-letter', parkedAt: 1000 });
  });

  it("the processor's default hold is the setting's (10m)", async () => {
    const { DEFAULT_OUTAGE_HOLD_MS: setting } = await import('../../src/config/retention.js');
    const { DEFAULT_OUTAGE_HOLD_MS: processor } = await import('../../src/pipeline/outages.js');
    expect(processor).toBe(setting);
    expect(setting).toBe(10 * 60_000);
  });

  it('probes a transport that is down from 250 ms, doubling, at most 5 s', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 40].map(probeDelay)).toEqual([250, 500, 1000, 2000, 4000, 5000, 5000, 5000]);
  });

  it('keeps when an outage began until it answers again', () => {
    let now = 100;
    const heard: string[] = [];
    const o = new Outages(() => now);
    o.onDown((c) => heard.push(c));
    o.markDown('email', 'refused');
    now = 200;
    expect(o.markDown('email', 'timed out')).toEqual({ since: 100, detail: 'timed out' });
    expect(heard).toEqual(['email']);
    expect(o.markUp('email')).toBe(true);
    expect(o.get('email')).toBeUndefined();
    expect(o.markUp('email')).toBe(false);
  });

  it('transport-down is one of the dead-letter reasons, of one channel (replayed for it alone)', () => {
    expect(LETTER_REASONS).toContain('transport-down');
    expect(CHANNEL_LETTER_REASONS).toContain('transport-down');
    expect(isChannelLetter({ reason: 'transport-down', channel: 'email' })).toBe(true);
  });
});

const store = storeOf(userU1({ email: 'on', sms: 'off', push: 'off', console: 'on', webhook: 'off' }));

/** An in-memory schedule (add with replace, claim everything due). */
class MemorySchedule implements Schedule {
  readonly entries = new Map<string, ScheduledSend>();
  async add(entries: readonly ScheduledSend[], replace = false): Promise<void> {
    for (const e of entries) {
      const k = `${e.eventId}/${e.channel}`;
      if (replace || !this.entries.has(k)) this.entries.set(k, { ...e });
    }
  }
  async claimDue(now: number): Promise<ScheduledSend[]> {
    return [...this.entries.values()].filter((e) => e.dueAt <= now);
  }
  async done(entries: readonly Pick<ScheduledSend, 'eventId' | 'channel'>[]): Promise<void> {
    for (const e of entries) this.entries.delete(`${e.eventId}/${e.channel}`);
  }
  async pending(): Promise<number> {
    return this.entries.size;
  }
  async list(): Promise<ScheduledSend[]> {
    return [...this.entries.values()];
  }
}

async function setup() {
  const clock = { now: 1_000_000 };
  let down = true;
  const tries: SendRequest[] = [];
  const answer = (r: SendRequest) => {
    if (r.channel !== 'email') return 'accepted' as const;
    tries.push(r);
    return down
      ? new TransportDownError('smtp://mail:25', 'smtp://mail:25 unreachable: ECONNREFUSED', 'ECONNREFUSED')
      : ('accepted' as const);
  };
  const provider = providerAnswering(answer);
  const schedule = new MemorySchedule();
  const outages = new Outages(() => clock.now);
  const { processor, letters, published, totals } = await processorOn({
    store,
    provider,
    sendRetry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 2 },
    now: () => clock.now,
    schedule,
    outages,
    outageHoldMs: HOLD,
  });
  const emails = () => published.filter((o): o is DeliveryOutcome => o.kind === 'delivery' && o.channel === 'email');
  return {
    clock,
    setDown: (d: boolean) => (down = d),
    tries,
    letters,
    totals,
    schedule,
    outages,
    processor,
    emails,
    published,
  };
}

describe('parking in the processor (fake clock)', () => {
  it('every try down: parked with the event and where it was read, before the chunk is done; console goes on', async () => {
    const t = await setup();
    await t.processor.process('events', 2, [signupMessage(7, new Date(0))]);
    expect(t.tries).toHaveLength(3); // every try of the budget
    expect(t.letters).toEqual([]);
    const [entry] = [...t.schedule.entries.values()];
    expect(entry).toMatchObject({
      eventId: 'e7',
      channel: 'email',
      reason: 'transport-down',
      parkedAt: 1_000_000,
      dueAt: 1_000_000 + HOLD,
      topic: 'events',
      partition: 2,
      offset: '7',
    });
    expect(JSON.parse(entry!.event)).toMatchObject({ id: 'e7' });
    expect(t.emails()).toEqual([
      expect.objectContaining({
        status: 'deferred',
        reason: 'transport-down',
        dueAt: 1_000_000 + HOLD,
        since: 1_000_000,
        // The deliveries view: `deferred until 00:26 (transport down since 00:16)`, local time.
        dueLabel: expect.stringMatching(/^\d\d:\d\d \(transport down since \d\d:\d\d\)$/) as unknown,
      }),
    ]);
    expect(t.published.some((o) => o.kind === 'delivery' && o.channel === 'console' && o.status === 'sent')).toBe(true);
    expect([t.totals.deferred, t.totals.parked, t.totals.deadletter]).toEqual([1, 1, 0]);
    expect(t.outages.get('email')).toMatchObject({ since: 1_000_000 });
  });

  it("a chunk's sends to a transport that does not answer: one tries the budget, the others park on its verdict", async () => {
    const t = await setup();
    await t.processor.process('events', 0, [
      signupMessage(1, new Date(0)),
      signupMessage(2, new Date(0)),
      signupMessage(3, new Date(0)),
    ]);
    // The batch's first try of each (3), then the leader's two retries; the others not tried again.
    expect(t.tries).toHaveLength(5);
    expect(t.schedule.entries.size).toBe(3);
    expect(t.letters).toEqual([]);
  });

  it('known down: the next sends park at once, without a try', async () => {
    const t = await setup();
    await t.processor.process('events', 0, [signupMessage(1, new Date(0))]);
    const before = t.tries.length;
    await t.processor.process('events', 0, [signupMessage(2, new Date(0)), signupMessage(3, new Date(0))]);
    expect(t.tries).toHaveLength(before);
    expect(t.schedule.entries.size).toBe(3);
  });

  it('due while still down: parked again with the same start; after the hold: a transport-down letter of its channel', async () => {
    const t = await setup();
    await t.processor.process('events', 0, [signupMessage(1, new Date(0))]);
    t.clock.now += 60_000;
    await t.processor.processDue([...t.schedule.entries.values()] as ClaimedSend[]);
    expect([...t.schedule.entries.values()][0]).toMatchObject({ parkedAt: 1_000_000, dueAt: 1_000_000 + HOLD });
    expect(t.letters).toEqual([]);
    t.clock.now = 1_000_000 + HOLD;
    await t.processor.processDue([...t.schedule.entries.values()] as ClaimedSend[]);
    expect(t.schedule.entries.size).toBe(0);
    expect(t.letters).toEqual([
      expect.objectContaining({ reason: 'transport-down', channel: 'email', sourceTopic: 'events', partition: 0 }),
    ]);
    expect(t.letters[0]!.detail).toMatch(/^email: the transport did not answer for the whole outage hold \(10m\)/);
    expect(t.emails().at(-1)).toMatchObject({ status: 'failed' });
  });

  it('back up (the probe says so): a parked send due goes out and leaves the schedule', async () => {
    const t = await setup();
    await t.processor.process('events', 0, [signupMessage(1, new Date(0))]);
    t.setDown(false);
    t.outages.markUp('email');
    t.clock.now += 30_000;
    await t.processor.processDue([...t.schedule.entries.values()] as ClaimedSend[]);
    expect(t.schedule.entries.size).toBe(0);
    expect(t.emails().at(-1)).toMatchObject({ status: 'sent', deferred: true });
    expect(t.letters).toEqual([]);
  });
});
