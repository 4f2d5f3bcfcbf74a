import type { Outcome } from '../../src/telemetry/outcomes.js';
import { DETAIL_EVENTS } from '../../src/telemetry/event-details.js';
import { describe, expect, it } from 'vitest';
import { Collector, percentile } from '../../src/telemetry/collector.js';
import { RingBuffer } from '../../src/telemetry/ring-buffer.js';
import { countInto, emptyTotals } from '../../src/telemetry/telemetry.js';
import { bound, KEPT_LENGTH } from '../../src/text/bound.js';

describe('ring buffer', () => {
  it('keeps only the newest items, newest first', () => {
    const b = new RingBuffer<number>(3);
    for (let i = 1; i <= 5; i++) b.push(i);
    expect(b.size).toBe(3);
    expect(b.newest()).toEqual([5, 4, 3]);
    expect(b.toArray()).toEqual([3, 4, 5]);
    expect(b.newest(2)).toEqual([5, 4]);
  });
});

describe('collector', () => {
  it('rolls counts into per-second history and keeps 60 seconds', () => {
    let now = 1_000_000;
    const c = new Collector(() => now);
    for (let s = 0; s < 70; s++) {
      for (let i = 0; i < s % 5; i++)
        c.listener({ kind: 'produced', eventId: `e${s}-${i}`, type: 't', userId: 'u', at: now });
      now += 1000;
    }
    const snap = c.snapshot();
    expect(snap.history.produced).toHaveLength(60);
    expect(snap.perSecond.produced).toBe(69 % 5);
    expect(snap.totals.produced).toBe(Array.from({ length: 70 }, (_, s) => s % 5).reduce((a, b) => a + b, 0));
  });

  it('bounds the rows it keeps at any rate', () => {
    const c = new Collector(() => 0);
    for (let i = 0; i < 50_000; i++)
      c.listener({
        kind: 'consumed',
        eventId: `e${i}`,
        type: 't',
        userId: 'u',
        partition: 0,
        offset: String(i),
        summary: '',
        at: 0,
      });
    const snap = c.snapshot(500);
    expect(snap.stream.length).toBe(200);
    expect(snap.stream[0]!.offset).toBe('49999');
    expect(snap.totals.consumed).toBe(50_000);
  });

  it('computes latency percentiles over sent deliveries', () => {
    const c = new Collector(() => 0);
    for (let i = 1; i <= 100; i++) {
      c.listener({
        kind: 'delivery',
        eventId: `e${i}`,
        type: 't',
        userId: 'u',
        channel: 'email',
        status: 'sent',
        reason: null,
        latencyMs: i,
        attempts: 1,
        at: 0,
      });
    }
    expect(c.snapshot().latency).toEqual({ p50: 50, p95: 95, p99: 99, samples: 100 });
    expect(percentile([], 50)).toBe(0);
  });
});

describe('the collector counts as headless output does', () => {
  it('its totals are those of countInto over the same outcomes', () => {
    const outcomes: Outcome[] = [
      { kind: 'produced', eventId: 'e1', type: 't', userId: 'u', at: 0 },
      { kind: 'consumed', eventId: 'e1', type: 't', userId: 'u', partition: 0, offset: '0', summary: '', at: 0 },
      { kind: 'lookup', eventId: 'e1', userId: 'u', found: true, channelsOn: [], latencyMs: 1, at: 0 },
      ...(['sent', 'sent', 'skipped', 'duplicate', 'failed', 'deferred'] as const).map((status): Outcome => ({
        kind: 'delivery',
        eventId: 'e1',
        type: 't',
        userId: 'u',
        channel: 'email',
        status,
        reason: null,
        latencyMs: 1,
        attempts: 1,
        at: 0,
      })),
      { kind: 'deadletter', reason: 'schema', detail: '', topic: 't', partition: 0, offset: '1', key: null, at: 0 },
      { kind: 'error', source: 'redis', message: 'down', at: 0 },
      { kind: 'backlog', unacknowledged: 3, full: false, at: 0 },
    ];
    const c = new Collector(() => 0);
    const totals = emptyTotals();
    const count = countInto(totals);
    for (const o of outcomes) {
      c.listener(o);
      count(o);
    }
    expect(c.snapshot().totals).toEqual(totals);
    expect(totals).toEqual({
      produced: 1,
      consumed: 1,
      sent: 2,
      skipped: 1,
      duplicate: 1,
      failed: 1,
      deferred: 1,
      throttled: 0,
      parked: 0,
      digested: 0,
      deadletter: 1,
      errors: 1,
    });
  });
});

describe('service health comes from telemetry only', () => {
  it('a connection outcome sets it; the same state and detail again keeps when it began', () => {
    const c = new Collector(() => 0);
    expect(c.health('kafka')).toMatchObject({ state: 'connecting' });
    c.listener({ kind: 'connection', service: 'kafka', state: 'error', detail: 'not answering', at: 10 });
    c.listener({ kind: 'connection', service: 'kafka', state: 'error', detail: 'not answering', at: 20 });
    expect(c.snapshot().kafka).toEqual({ state: 'error', detail: 'not answering', since: 10 });
    c.listener({ kind: 'connection', service: 'kafka', state: 'connected', detail: 'broker answers again', at: 30 });
    expect(c.health('kafka')).toEqual({ state: 'connected', detail: 'broker answers again', since: 30 });
    expect(c.health('redis')).toMatchObject({ state: 'connecting' });
  });
});

describe('what the collector keeps is bounded', () => {
  it('a 1 MiB summary, key, name or error is kept as its first KEPT_LENGTH code units and an ellipsis', () => {
    const c = new Collector(() => 0);
    const huge = `€${'a'.repeat(1024 * 1024)}`;
    c.listener({
      kind: 'consumed',
      eventId: huge,
      type: 't',
      userId: huge,
      partition: 0,
      offset: '0',
      summary: huge,
      at: 0,
    });
    c.listener({ kind: 'lookup', eventId: 'e', userId: huge, found: false, channelsOn: [], latencyMs: 1, at: 0 });
    c.listener({
      kind: 'delivery',
      eventId: 'e',
      type: 't',
      userId: huge,
      channel: 'console',
      status: 'failed',
      reason: huge,
      latencyMs: 1,
      attempts: 1,
      address: huge,
      text: huge,
      at: 0,
    });
    c.listener({ kind: 'error', source: 'consumer', message: huge, at: 0 });
    c.listener({ kind: 'connection', service: 'redis', state: 'error', detail: huge, at: 0 });
    const snap = c.snapshot();
    const kept = [
      snap.stream[0]!.summary,
      snap.stream[0]!.userId,
      snap.stream[0]!.eventId,
      snap.lookups[0]!.userId,
      snap.deliveries[0]!.address,
      snap.deliveries[0]!.text,
      snap.deliveries[0]!.reason!,
      snap.lastError!.message,
      snap.redis.detail,
    ];
    for (const k of kept) {
      expect(k).toHaveLength(KEPT_LENGTH + 1);
      expect(k.startsWith('€aaa')).toBe(true);
      expect(k.endsWith('a…')).toBe(true);
    }
  });

  it('never keeps half a surrogate pair', () => {
    const cut = bound(`${'a'.repeat(KEPT_LENGTH - 1)}😀 more`);
    expect(cut).toBe(`${'a'.repeat(KEPT_LENGTH - 1)}…`);
    expect(bound('short')).toBe('short');
  });
});

describe('per-event detail and the filter', () => {
  const consumed = (i: number, userId = `user-${i % 7}`): Outcome => ({
    kind: 'consumed',
    eventId: `ev-${i}`,
    type: 'user_signup',
    userId,
    partition: i % 3,
    offset: String(i),
    summary: '',
    topic: 'user_events',
    key: userId,
    headers: { 'event-type': 'user_signup' },
    timestamp: 1000 + i,
    value: JSON.stringify({ id: `ev-${i}`, payload: { plan: 'pro' } }),
    valueBytes: 40,
    at: 2000 + i,
  });

  it('keeps the detail of the newest 2,000 events only: memory stays flat at any rate', () => {
    const c = new Collector(() => 0);
    for (let i = 0; i < 10_000; i++) c.listener(consumed(i));
    expect(c.detail('ev-9999')).toBeDefined();
    expect(c.detail(`ev-${10_000 - DETAIL_EVENTS}`)).toBeDefined();
    expect(c.detail(`ev-${10_000 - DETAIL_EVENTS - 1}`)).toBeUndefined();
  });

  it('an event detail gathers its look-up, its deliveries and, for a failed one, the dead letter', () => {
    const c = new Collector(() => 0);
    c.listener(consumed(1, 'user-02'));
    c.listener({
      kind: 'lookup',
      eventId: 'ev-1',
      userId: 'user-02',
      found: true,
      channelsOn: ['email', 'sms'],
      latencyMs: 3,
      at: 1,
    });
    const base = { kind: 'delivery' as const, eventId: 'ev-1', type: 'user_signup', userId: 'user-02', at: 2 };
    c.listener({
      ...base,
      channel: 'email',
      status: 'sent',
      reason: null,
      latencyMs: 9,
      attempts: 1,
      text: 'Subject: Hi',
    });
    c.listener({ ...base, channel: 'sms', status: 'failed', reason: 'provider down', latencyMs: 90, attempts: 3 });
    const d = c.detail('ev-1')!;
    expect(d).toMatchObject({
      topic: 'user_events',
      partition: 1,
      offset: '1',
      messageKey: 'user-02',
      timestamp: 1001,
    });
    expect(d.lookup).toEqual({ found: true, channelsOn: ['email', 'sms'], latencyMs: 3 });
    expect(d.deliveries.map((t) => `${t.channel} ${t.status} ${t.attempts} ${t.text}`)).toEqual([
      'email sent 1 Subject: Hi',
      'sms failed 3 ',
    ]);
    expect(d.deadLetter).toEqual({ reason: 'delivery-failed', detail: 'provider down' });
  });

  it('the filter matches id, user, type, channel, status and reason, case-insensitively, over all rows kept', () => {
    const c = new Collector(() => 0);
    for (let i = 0; i < 150; i++) c.listener(consumed(i));
    c.listener({
      kind: 'delivery',
      eventId: 'ev-3',
      type: 'user_signup',
      userId: 'user-3',
      channel: 'sms',
      status: 'skipped',
      reason: 'Opted-Out',
      latencyMs: 0,
      attempts: 0,
      at: 1,
    });
    expect(c.snapshot(10, 'USER-3').stream.map((r) => r.userId)).toEqual(Array(10).fill('user-3'));
    expect(c.snapshot(80, 'user-3').stream).toHaveLength(21); // every one of the 150 kept, not only the 80 newest
    expect(c.snapshot(80, 'opted-out').deliveries).toHaveLength(1);
    expect(c.snapshot(80, 'SMS').deliveries).toHaveLength(1);
    expect(c.snapshot(80, 'ev-149').stream.map((r) => r.eventId)).toEqual(['ev-149']);
    expect(c.snapshot(80, 'nothing-like-it').lookups).toEqual([]);
  });
});

describe("a digest's own detail", () => {
  it('lists the events it was made of, and its sends per channel', async () => {
    const { detailLines } = await import('../../src/ui/views/detail-lines.js');
    const c = new Collector(() => 0);
    const members = Array.from({ length: 60 }, (_, i) => `evt-${i}`);
    c.listener({
      kind: 'delivery',
      eventId: 'digest:item_purchased:u1:1000',
      type: 'item_purchased',
      userId: 'u1',
      channel: 'email',
      status: 'sent',
      reason: null,
      latencyMs: 3,
      attempts: 1,
      address: 'u1@example.com',
      text: '60 purchases',
      members,
      digestId: 'digest:item_purchased:u1:1000',
      at: 0,
    });
    const d = c.detail('digest:item_purchased:u1:1000');
    expect(d?.members).toEqual({ ids: members.slice(0, 50), total: 60 });
    const text = detailLines({ data: d, from: { eventId: d!.eventId } } as never)
      .map((l) => l.text)
      .join('\n');
    expect(text).toContain('digest    digest:item_purchased:u1:1000');
    expect(text).toMatch(/email\s+sent/);
    expect(text).toContain('a digest of 60 events:');
    expect(text).toContain('    evt-49');
    expect(text).not.toContain('    evt-50');
    expect(text).toContain('and 10 more');
  });
});
