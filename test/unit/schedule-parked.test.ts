/**
 * The schedule's parked index (src/adapters/redis/schedule.ts): a send parked while its transport is
 * down is due at the end of its hold and listed per channel; when the transport answers, the wake makes
 * that channel's parked entries due now, and leaves alone one claimed meanwhile (its score is a lease)
 * and the other channels'.
 */
import RedisMock from 'ioredis-mock';
import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { RedisSchedule, scheduleMember } from '../../src/adapters/redis/schedule.js';
import { scheduleDueKey, scheduleParkedKey } from '../../src/adapters/redis/keys.js';
import type { ScheduledSend } from '../../src/pipeline/ports.js';

const entry = (eventId: string, channel: string, dueAt: number, reason = 'transport-down'): ScheduledSend => ({
  eventId,
  channel,
  userId: 'u1',
  type: 'user_signup',
  dueAt,
  zone: 'UTC',
  reason,
  deferredAt: 0,
  parkedAt: 0,
  event: JSON.stringify({ id: eventId }),
  occurredAtMs: 0,
  topic: 't',
  partition: 0,
  offset: '1',
  timestamp: '0',
});

describe('parked sends in the schedule', () => {
  it('are indexed per channel; the wake makes the waiting ones due now, not a claimed one nor another channel', async () => {
    const redis = new RedisMock() as unknown as Redis;
    await redis.flushall(); // ioredis-mock instances share their data
    const schedule = new RedisSchedule(redis);
    const hold = 600_000;
    await schedule.add([entry('a', 'email', hold), entry('b', 'email', hold), entry('c', 'push', hold)]);
    await schedule.add([entry('q', 'email', 50, 'quiet-hours')]);
    expect(await redis.zrange(scheduleParkedKey('email'), 0, -1)).toEqual([
      scheduleMember('a', 'email'),
      scheduleMember('b', 'email'),
    ]);
    // Nothing parked is due before the hold ends: no churn while the transport is down.
    expect((await schedule.claimDue(1000, 100, 30_000)).map((e) => e.eventId)).toEqual(['q']);
    // 'b' claimed meanwhile (its hold ran out at another consumer): its score is its lease.
    await redis.zadd(scheduleDueKey, 999_999, scheduleMember('b', 'email'));
    expect(await schedule.wakeParked('email', 2000)).toBe(1);
    expect(await redis.zscore(scheduleDueKey, scheduleMember('a', 'email'))).toBe('2000');
    expect(await redis.zscore(scheduleDueKey, scheduleMember('b', 'email'))).toBe('999999');
    expect(await redis.zscore(scheduleDueKey, scheduleMember('c', 'push'))).toBe(String(hold));
    expect(await redis.zcard(scheduleParkedKey('email'))).toBe(0);
    expect((await schedule.claimDue(2000, 100, 30_000)).map((e) => e.eventId)).toEqual(['a']);
    // Again: nothing left to wake.
    expect(await schedule.wakeParked('email', 3000)).toBe(0);
  });
});
