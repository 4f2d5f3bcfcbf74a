import { describe, expect, it } from 'vitest';
import { Collector, percentile } from '../../src/telemetry/collector.js';
import { RingBuffer } from '../../src/telemetry/ring-buffer.js';

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
