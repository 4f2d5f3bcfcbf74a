/**
 * The Scheduled view's reads (`S`): the pending deferred sends, soonest due first, from Redis every
 * second while the view is open. Bounded: the schedule's size (ZCARD) and the soonest
 * {@link SCHEDULED_LIMIT} entries, never the whole schedule (a time zone's morning may hold a million).
 */
import type { Pipeline } from '../../app/runtime.js';
import { isValidZone, localLabel } from '../../domain/quiet-hours.js';
import { clockNow } from '../../pipeline/clock.js';
import { bound } from '../../text/bound.js';
import type { DashboardStore, ScheduledRow, ScheduledView } from '../../ui/store.js';

/** Entries read per refresh: more than any terminal shows. */
export const SCHEDULED_LIMIT = 200;

const text = (v: unknown, max = 256): string => bound(typeof v === 'string' ? v : String(v ?? ''), max);

export class ScheduledActions {
  private reading = false;

  constructor(
    private readonly store: DashboardStore,
    private readonly current: () => Pipeline | undefined,
  ) {}

  /** Reads the schedule while its view is open (on opening, on `S`, and every second). */
  async refresh(): Promise<void> {
    if (this.reading || this.store.getState().view !== 'scheduled') return;
    const set = (patch: Partial<ScheduledView>): void =>
      this.store.setState((s) => ({ scheduled: { ...s.scheduled, ...patch } }));
    const pipeline = this.current();
    if (!pipeline || !(pipeline.embedded || pipeline.redis.status === 'ready')) {
      return set({ state: 'loading', message: 'waiting for Redis: read as soon as it answers' });
    }
    this.reading = true;
    if (this.store.getState().scheduled.state !== 'ready') set({ state: 'loading', message: 'reading the schedule…' });
    try {
      const [pending, entries] = await Promise.all([
        pipeline.schedule.pending(),
        pipeline.schedule.list({ limit: SCHEDULED_LIMIT }),
      ]);
      // Open digests: their member counts, one read for the rows shown.
      const digestIds = [...new Set(entries.flatMap((e) => (e.digest ? [e.digest.id] : [])))];
      const counts = new Map<string, number>();
      if (digestIds.length > 0) {
        const n = await pipeline.digests.counts(digestIds).catch(() => [] as number[]);
        digestIds.forEach((id, i) => counts.set(id, n[i] ?? 0));
      }
      const now = clockNow();
      const rows = entries.slice(0, SCHEDULED_LIMIT).map((e): ScheduledRow => {
        const zone = text(e.zone, 64);
        return {
          eventId: text(e.eventId),
          userId: text(e.userId),
          type: text(e.type, 64),
          channel: text(e.channel, 64),
          dueAt: e.dueAt,
          dueLabel: isValidZone(zone)
            ? localLabel(e.dueAt, zone, now)
            : `${new Date(e.dueAt).toISOString().slice(11, 16)} UTC`,
          reason: text(e.reason, 64),
          ...(e.digest ? { members: counts.get(e.digest.id) ?? 0 } : {}),
        };
      });
      this.store.setState((s) => ({
        scheduled: {
          ...s.scheduled,
          state: 'ready',
          message: '',
          at: Date.now(),
          rows,
          pending,
          skew: now - Date.now(),
          cursor: Math.min(s.scheduled.cursor, Math.max(0, rows.length - 1)),
        },
      }));
    } catch (error) {
      set({ state: 'error', message: bound(`could not read the schedule: ${(error as Error).message}`) });
    } finally {
      this.reading = false;
    }
  }
}
