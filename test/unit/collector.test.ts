import { describe, expect, it } from 'vitest';
import { Collector, percentile } from '../../src/telemetry/collector.js';
import { RingBuffer } from '../../src/telemetry/ring-buffer.js';
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
    c.setHealth('redis', 'error', huge);
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
