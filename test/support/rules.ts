/**
 * Helpers for the rules tests on the real Kafka and Redis: quiet windows that end at a chosen instant
 * of the pipeline's clock (EVENTSTREAM_CLOCK_OFFSET_MS moves it), and the schedule's entries of a test.
 */
import type { Redis } from 'ioredis';
import { DateTime } from 'luxon';
import { scheduleDueKey, scheduleSendsKey } from '../../src/adapters/redis/keys.js';
import { scheduleMember } from '../../src/adapters/redis/schedule.js';

/**
 * A quiet window's end on the pipeline's clock, and the clock offset that makes the pipeline's "now"
 * `beforeEndMs` before it. Windows are whole minutes, so the end is the next whole minute at least
 * `beforeEndMs` (plus a margin) after now; the offset is never negative (a consumer behind the wall
 * clock would let the other consumers on this Redis, on the wall clock, claim these entries first).
 */
export function quietEnd(beforeEndMs: number): { end: number; offsetMs: number; endReal: () => number } {
  const now = Date.now();
  const end = Math.ceil((now + beforeEndMs + 5_000) / 60_000) * 60_000;
  const offsetMs = end - beforeEndMs - now;
  // the wall-clock instant at which the pipeline's clock reads `end`
  return { end, offsetMs, endReal: () => end - offsetMs };
}

/** A window `minutes` long that ends at `end`, as the `quiet` field writes it in `zone`: `HH:MM-HH:MM`. */
export function windowEndingAt(end: number, zone: string, minutes = 60): string {
  const to = DateTime.fromMillis(end, { zone });
  const from = to.minus({ minutes });
  return `${from.toFormat('HH:mm')}-${to.toFormat('HH:mm')}`;
}

/** The schedule's entries for (event, channel) pairs: the due set's score (due time or lease) and the stored entry. */
export async function scheduleEntries(
  redis: Redis,
  pairs: readonly (readonly [string, string])[],
): Promise<{ member: string; score: number; entry: Record<string, unknown> | null }[]> {
  const found = [];
  for (const [eventId, channel] of pairs) {
    const member = scheduleMember(eventId, channel);
    const [score, entry] = await Promise.all([
      redis.zscore(scheduleDueKey, member),
      redis.hget(scheduleSendsKey, member),
    ]);
    if (score !== null || entry !== null)
      found.push({
        member,
        score: Number(score),
        entry: entry === null ? null : (JSON.parse(entry) as Record<string, unknown>),
      });
  }
  return found;
}

/** Removes a test's entries (the schedule is shared by every consumer on this Redis: only ours). */
export async function removeScheduleEntries(
  redis: Redis,
  pairs: readonly (readonly [string, string])[],
): Promise<void> {
  const members = pairs.map(([e, c]) => scheduleMember(e, c));
  for (let i = 0; i < members.length; i += 500) {
    const slice = members.slice(i, i + 500);
    if (slice.length === 0) continue;
    await redis.zrem(scheduleDueKey, ...slice);
    await redis.hdel(scheduleSendsKey, ...slice);
  }
}
