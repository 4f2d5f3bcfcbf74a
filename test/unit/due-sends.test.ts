/**
 * Deferred sends at their due time (BatchProcessor.processDue) with an in-memory store, provider and
 * schedule: what is sent, skipped, deferred again, left for another consumer, and removed.
 */
import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../../src/domain/catalog.js';
import { parsePreferences, parseRules } from '../../src/domain/rules.js';
import { BatchProcessor, type ClaimedSend } from '../../src/pipeline/processor.js';
import type {
  NotificationProvider,
  PipelineStore,
  Schedule,
  ScheduledSend,
  SendRequest,
  UserRecord,
} from '../../src/pipeline/ports.js';
import type { Outcome } from '../../src/telemetry/outcomes.js';
import { Telemetry } from '../../src/telemetry/telemetry.js';

const catalog = await loadCatalog();
const DUE = Date.parse('2026-06-11T05:00:00Z'); // 07:00 in Paris

function userWith(raw: Record<string, string>): UserRecord {
  return {
    profile: { id: 'u1', name: 'U', email: 'u1@example.com', phone: '+15550001' },
    prefs: parsePreferences(raw, catalog.channels),
    rules: parseRules(raw),
  };
}

function entry(eventId: string, channel: string, type = 'item_purchased'): ClaimedSend {
  const event = { id: eventId, type, userId: 'u1', occurredAt: '2026-06-10T21:00:00Z', payload: {} };
  return {
    eventId,
    channel,
    userId: 'u1',
    type,
    dueAt: DUE,
    zone: 'Europe/Paris',
    reason: 'quiet-hours',
    deferredAt: DUE - 8 * 3600_000,
    event: JSON.stringify(event),
    occurredAtMs: Date.parse(event.occurredAt),
    topic: 't',
    partition: 0,
    offset: '7',
    timestamp: String(DUE - 8 * 3600_000),
    claim: DUE + 30_000,
  };
}

function harness(raw: Record<string, string>, now = DUE + 1000) {
  const sent: SendRequest[] = [];
  const done: string[] = [];
  const added: { entries: readonly ScheduledSend[]; replace: boolean | undefined }[] = [];
  const store: PipelineStore = {
    lookupBatch: async () => ({ users: new Map([['u1', userWith(raw)]]), delivered: new Map() }),
    markDelivered: async () => undefined,
  };
  const provider: NotificationProvider = {
    sendMany: async (requests) => requests.map((r) => (sent.push(r), 'accepted' as const)),
    send: async (r) => (sent.push(r), 'accepted'),
  };
  const schedule: Schedule = {
    add: async (entries, replace) => void added.push({ entries, replace }),
    claimDue: async () => [],
    done: async (entries) => void done.push(...entries.map((e) => `${e.eventId}/${e.channel}`)),
    pending: async () => 0,
    list: async () => [],
  };
  const telemetry = new Telemetry();
  const published: Outcome[] = [];
  telemetry.subscribe((o) => published.push(o));
  const processor = new BatchProcessor({
    catalog,
    store,
    provider,
    deadLetters: { send: async () => undefined },
    telemetry,
    maxBytes: 1 << 20,
    schedule,
    now: () => now,
  });
  const deliveries = () =>
    published.flatMap((o) =>
      o.kind === 'delivery' ? [`${o.eventId}/${o.channel} ${o.status}${o.reason ? ` ${o.reason}` : ''}`] : [],
    );
  const errors = () => published.flatMap((o) => (o.kind === 'error' ? [o.message] : []));
  return { processor, sent, done, added, deliveries, errors };
}

const paris = { email: 'on', sms: 'on', push: 'off', console: 'off', tz: 'Europe/Paris', quiet: '22:00-07:00' };

describe('processDue: deferred sends at their due time', () => {
  it('sends each claimed entry once, marked deferred, and removes it', async () => {
    const h = harness(paris);
    await h.processor.processDue([entry('e1', 'email'), entry('e1', 'sms')]);
    expect(h.sent.map((s) => `${s.eventId}/${s.channel}`)).toEqual(['e1/email', 'e1/sms']);
    expect(h.deliveries()).toEqual(['e1/email sent', 'e1/sms sent']);
    expect(h.done).toEqual(['e1/email', 'e1/sms']);
  });

  it('a channel turned off since: skipped opted-out at the due time, removed, nothing sent', async () => {
    const h = harness({ ...paris, sms: 'off' });
    await h.processor.processDue([entry('e1', 'sms')]);
    expect(h.sent).toEqual([]);
    expect(h.deliveries()).toEqual(['e1/sms skipped opted-out']);
    expect(h.done).toEqual(['e1/sms']);
  });

  it('quiet again at the due time (the user moved zone): deferred again onto the same entry, not removed', async () => {
    const h = harness({ ...paris, tz: 'America/New_York' }); // 01:00 in New York
    await h.processor.processDue([entry('e1', 'email')]);
    expect(h.sent).toEqual([]);
    expect(h.added).toHaveLength(1);
    expect(h.added[0]!.replace).toBe(true);
    expect(h.added[0]!.entries.map((e) => [e.eventId, e.channel, new Date(e.dueAt).toISOString()])).toEqual([
      ['e1', 'email', '2026-06-11T11:00:00.000Z'],
    ]);
    expect(h.done).toEqual([]);
  });

  it('an entry of a type or channel this build does not know is left claimed for a consumer that does, never removed', async () => {
    const h = harness(paris);
    await h.processor.processDue([entry('e1', 'email', 'gift_card'), entry('e2', 'fax'), entry('e3', 'email')]);
    expect(h.sent.map((s) => `${s.eventId}/${s.channel}`)).toEqual(['e3/email']);
    expect(h.done).toEqual(['e3/email']);
    expect(h.errors()).toEqual([
      expect.stringMatching(/entry for event e1 on email \(gift_card\) .* left for a consumer that does/),
      expect.stringMatching(/entry for event e2 on fax .* left for a consumer that does/),
    ]);
  });

  it('an entry that holds no valid event is removed, said once', async () => {
    const h = harness(paris);
    await h.processor.processDue([{ ...entry('e1', 'email'), event: '{not json' }]);
    expect(h.done).toEqual(['e1/email']);
    expect(h.errors()).toEqual([expect.stringMatching(/holds no valid event; removed/)]);
  });
});
