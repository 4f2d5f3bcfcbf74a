/** What `scheduled list` prints of a schedule entry (src/cli/scheduled-command.ts). */
import { describe, expect, it } from 'vitest';
import { scheduledLine } from '../../src/cli/scheduled-command.js';
import type { ScheduledSend } from '../../src/pipeline/ports.js';

const due = Date.parse('2026-01-15T06:00:00Z');
const entry = (zone: string): ScheduledSend => ({
  eventId: 'e-1',
  channel: 'sms',
  userId: 'user-14',
  type: 'item_purchased',
  dueAt: due,
  zone,
  reason: 'quiet-hours',
  deferredAt: due - 7 * 3600_000,
  event: '{}',
  occurredAtMs: due - 7 * 3600_000,
  topic: 'user_events',
  partition: 1,
  offset: '42',
  timestamp: String(due - 7 * 3600_000),
});

describe('scheduled list lines', () => {
  it('give the due time in UTC and in the zone the user had when it was deferred', () => {
    expect(scheduledLine(entry('Europe/Paris'), due - 7 * 3600_000)).toEqual({
      kind: 'scheduled',
      eventId: 'e-1',
      type: 'item_purchased',
      userId: 'user-14',
      channel: 'sms',
      dueAt: '2026-01-15T06:00:00.000Z',
      dueLocal: '07:00 Europe/Paris',
      reason: 'quiet-hours',
      deferredAt: '2026-01-14T23:00:00.000Z',
    });
  });

  it('say the weekday when the due time is more than a day away, and fall back to UTC for a zone that is not one', () => {
    expect(scheduledLine(entry('Asia/Tokyo'), due - 3 * 86_400_000).dueLocal).toBe('Thu 15:00 Asia/Tokyo');
    expect(scheduledLine(entry('Mars/Base'), due - 3600_000).dueLocal).toBe('06:00 UTC');
  });
});
