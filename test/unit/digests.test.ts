/**
 * Digests on a fake clock: the processor with the real digest store's script (on the embedded
 * ioredis-mock) and in-memory fakes of the ledger, the provider and the schedule. Windows (join, or
 * open a new digest after the end), the send at the due time (one message per channel listing the
 * members, bounded), quiet hours at the due time, redelivered members.
 */
import RedisMock from 'ioredis-mock';
import type { Redis } from 'ioredis';
import { beforeEach, describe, expect, it } from 'vitest';
import { keySlot } from '../../src/adapters/redis/client.js';
import {
  RedisDigestStore,
  digestId,
  digestMembersKey,
  memberLine,
  parseDigestId,
} from '../../src/adapters/redis/digests.js';
import { loadCatalog } from '../../src/domain/catalog.js';
import { parsePreferences, parseRules } from '../../src/domain/rules.js';
import { BatchProcessor, type ClaimedSend } from '../../src/pipeline/processor.js';
import type {
  LedgerMark,
  NotificationProvider,
  PipelineStore,
  RawMessage,
  Schedule,
  ScheduledSend,
  SendRequest,
} from '../../src/pipeline/ports.js';
import type { DeliveryOutcome, Outcome } from '../../src/telemetry/outcomes.js';
import { Telemetry } from '../../src/telemetry/telemetry.js';

// The four channels these cases were written for: a channel added later (webhook) changes none of them.
const loaded = await loadCatalog();
const catalog = {
  ...loaded,
  channels: loaded.channels.filter((c) => ['email', 'sms', 'push', 'console'].includes(c.name)),
};
const T = Date.parse('2026-06-10T10:00:00Z'); // 12:00 in Paris
const MINUTE = 60_000;

let redis: Redis;
beforeEach(async () => {
  redis = new RedisMock() as unknown as Redis;
  await redis.flushall(); // ioredis-mock instances share their data
});

function harness(raw: Record<string, string>) {
  const clock = { now: T };
  const ledger = new Map<string, string>();
  const accepted = new Set<string>();
  const sent: SendRequest[] = [];
  const schedule = new Map<string, ScheduledSend>();
  const adds: { entries: readonly ScheduledSend[]; replace: boolean | undefined }[] = [];
  const store: PipelineStore = {
    lookupBatch: async (userIds, events) => ({
      users: new Map(
        userIds.map((id) => [
          id,
          {
            profile: { id, name: 'Ada', email: 'ada@example.com', phone: '+15550001' },
            prefs: parsePreferences(raw, catalog.channels),
            rules: parseRules(raw),
          },
        ]),
      ),
      delivered: new Map(events.flatMap((e) => (ledger.has(e.id) ? [[e.id, ledger.get(e.id)!.split(',')]] : []))),
    }),
    markDelivered: async (marks: readonly LedgerMark[]) => {
      for (const m of marks) ledger.set(m.id, m.channels);
    },
  };
  const accept = (r: SendRequest) => {
    const key = `${r.eventId}/${r.channel}`;
    if (accepted.has(key)) return 'already-accepted' as const;
    accepted.add(key);
    sent.push(r);
    return 'accepted' as const;
  };
  const provider: NotificationProvider = {
    sendMany: async (requests) => requests.map(accept),
    send: async (r) => accept(r),
  };
  const member = (e: Pick<ScheduledSend, 'eventId' | 'channel'>) => `${e.eventId}/${e.channel}`;
  const fakeSchedule: Schedule = {
    add: async (entries, replace) => {
      adds.push({ entries, replace });
      for (const e of entries) if (replace || !schedule.has(member(e))) schedule.set(member(e), e);
    },
    claimDue: async (now) => [...schedule.values()].filter((e) => e.dueAt <= now).map((e) => ({ ...e })),
    done: async (entries) => void entries.forEach((e) => schedule.delete(member(e))),
    pending: async () => schedule.size,
    list: async () => [...schedule.values()],
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
    schedule: fakeSchedule,
    digests: new RedisDigestStore(redis),
    now: () => clock.now,
  });
  let offset = 0;
  const message = (id: string, item: string, type = 'item_purchased'): RawMessage => ({
    key: Buffer.from('u1'),
    value: Buffer.from(
      JSON.stringify({
        id,
        type,
        userId: 'u1',
        occurredAt: new Date(clock.now).toISOString(),
        payload: { orderId: `o-${id}`, item, amount: 10, currency: 'USD' },
      }),
    ),
    offset: String(offset++),
    timestamp: String(clock.now),
  });
  const deliveries = (): DeliveryOutcome[] => published.flatMap((o) => (o.kind === 'delivery' ? [o] : []));
  // Push and console are off for every user here: their skips are left out.
  const lines = () =>
    deliveries()
      .filter((o) => !(o.status === 'skipped' && (o.channel === 'push' || o.channel === 'console')))
      .map((o) => `${o.eventId}/${o.channel} ${o.status}${o.digestId ? ` → ${o.digestId}` : ''}`);
  const due = async () => processor.processDue((await fakeSchedule.claimDue(clock.now, 100, 0)) as ClaimedSend[]);
  return { processor, clock, ledger, sent, schedule, adds, message, deliveries, lines, due, published };
}

const digesting = { email: 'on', sms: 'on', push: 'off', console: 'off', 'digest.item_purchased': '1m' };

describe('digest windows', () => {
  it('the first event opens a digest; events until the window ends join it; one after it opens another', async () => {
    const h = harness(digesting);
    await h.processor.process('t', 0, [h.message('e1', 'kettle')]);
    h.clock.now = T + 30_000;
    await h.processor.process('t', 0, [h.message('e2', 'filters'), h.message('e3', 'beans')]);
    h.clock.now = T + MINUTE; // the window's end: a new digest
    await h.processor.process('t', 0, [h.message('e4', 'mug')]);
    const first = digestId('item_purchased', 'u1', T);
    const second = digestId('item_purchased', 'u1', T + MINUTE);
    expect(first).toBe(`digest:item_purchased:u1:${T}`);
    expect(h.lines()).toEqual([
      `e1/email digested → ${first}`,
      `e1/sms digested → ${first}`,
      `e2/email digested → ${first}`,
      `e2/sms digested → ${first}`,
      `e3/email digested → ${first}`,
      `e3/sms digested → ${first}`,
      `e4/email digested → ${second}`,
      `e4/sms digested → ${second}`,
    ]);
    expect(h.sent).toEqual([]);
    const o = h.deliveries().find((d) => d.status === 'digested')!;
    expect(o.reason).toBe('digest');
    expect(o.detail).toBe(`digested into ${first}, sends at 10:01 UTC`);
    expect(o.dueAt).toBe(T + MINUTE);
    // one schedule entry per (digest, channel), added where absent at every join
    expect([...h.schedule.values()].map((e) => [e.eventId, e.channel, e.dueAt, e.reason, e.digest?.id])).toEqual([
      [first, 'email', T + MINUTE, 'digest', first],
      [first, 'sms', T + MINUTE, 'digest', first],
      [second, 'email', T + 2 * MINUTE, 'digest', second],
      [second, 'sms', T + 2 * MINUTE, 'digest', second],
    ]);
    expect(h.adds.every((a) => !a.replace)).toBe(true);
  });

  it('a type that is not digestible, a user who does not digest it, and skips stay as they were', async () => {
    const h = harness({ ...digesting, sms: 'off' });
    await h.processor.process('t', 0, [h.message('r1', '', 'password_reset'), h.message('e1', 'kettle')]);
    expect(h.lines().sort()).toEqual([
      `e1/email digested → digest:item_purchased:u1:${T}`,
      'e1/sms skipped',
      'r1/email sent',
      'r1/sms skipped',
    ]);
    const plain = harness({ ...digesting, 'digest.item_purchased': 'none' });
    await plain.processor.process('t', 0, [plain.message('e1', 'kettle')]);
    expect(plain.lines()).toEqual(['e1/email sent', 'e1/sms sent']);
  });

  it('at the end: one message per channel listing the members, members marked in the ledger, then a redelivery is a duplicate', async () => {
    const h = harness(digesting);
    await h.processor.process('t', 0, [h.message('e1', 'kettle'), h.message('e2', 'filters')]);
    h.clock.now = T + 10_000;
    const third = h.message('e3', 'beans');
    await h.processor.process('t', 0, [third]);
    // a member redelivered before the send joins the same digest again, never twice
    await h.processor.process('t', 0, [third]);
    const id = digestId('item_purchased', 'u1', T);
    expect(h.lines().slice(-2)).toEqual([`e3/email digested → ${id}`, `e3/sms digested → ${id}`]);
    h.clock.now = T + MINUTE - 1;
    await h.due();
    expect(h.sent).toEqual([]);
    h.clock.now = T + MINUTE;
    await h.due();
    expect(h.sent.map((s) => [s.eventId, s.channel, s.text, s.members])).toEqual([
      [id, 'email', expect.stringContaining('3 purchases confirmed'), ['e1', 'e2', 'e3']],
      [id, 'sms', expect.stringContaining('3 purchases: kettle, filters, beans · 30.00 USD'), ['e1', 'e2', 'e3']],
    ]);
    const sends = h.deliveries().filter((o) => o.eventId === id);
    expect(sends.map((o) => [o.channel, o.status, o.digestId, o.members, o.deferred])).toEqual([
      ['email', 'sent', id, ['e1', 'e2', 'e3'], undefined],
      ['sms', 'sent', id, ['e1', 'e2', 'e3'], undefined],
    ]);
    expect(h.schedule.size).toBe(0);
    expect(h.ledger.get('e1')).toBe('email,sms');
    expect(h.ledger.get('e3')).toBe('email,sms');
    // after the send a redelivered member is a duplicate, never a new digest
    h.clock.now = T + 2 * MINUTE;
    await h.processor.process('t', 0, [third]);
    expect(h.lines().slice(-2)).toEqual(['e3/email duplicate', 'e3/sms duplicate']);
    expect(h.schedule.size).toBe(0);
    // the digest's entry claimed again (a lease ran out after the send): a duplicate, sent once
    await h.processor.processDue([{ ...h.adds[0]!.entries[0]!, claim: 1 }]);
    expect(h.sent).toHaveLength(2);
    expect(h.lines().at(-1)).toBe(`${id}/email duplicate → ${id}`);
  });

  it('bounded: the first 10 members by name, "and N more"', async () => {
    const h = harness({ ...digesting, sms: 'off' });
    const items = Array.from({ length: 12 }, (_, i) => `item${i + 1}`);
    await h.processor.process(
      't',
      0,
      items.map((item, i) => h.message(`e${i + 1}`, item)),
    );
    h.clock.now = T + MINUTE;
    await h.due();
    expect(h.sent).toHaveLength(1);
    expect(h.sent[0]!.text).toContain(`12 orders: ${items.slice(0, 10).join(', ')} and 2 more.`);
    expect(h.sent[0]!.members).toHaveLength(12);
  });

  it('an opt-out since skips the digest on that channel; the other channel goes', async () => {
    const h = harness(digesting);
    await h.processor.process('t', 0, [h.message('e1', 'kettle')]);
    const later = harness({ ...digesting, sms: 'off' });
    // the same Redis, the same schedule entries: the user turned SMS off during the window
    for (const e of h.schedule.values()) later.schedule.set(`${e.eventId}/${e.channel}`, e);
    later.clock.now = T + MINUTE;
    await later.due();
    const id = digestId('item_purchased', 'u1', T);
    expect(later.lines().sort()).toEqual([`${id}/email sent → ${id}`, `${id}/sms skipped → ${id}`]);
    expect(later.ledger.get('e1')).toBe('email');
  });
});

describe('quiet hours × digests', () => {
  it('a digest due in quiet hours waits for their end, still a digest; then it is sent', async () => {
    // 11:58 to 13:00 in Paris is quiet (09:58 to 11:00 UTC); a 2-minute digest opens at 09:57 UTC.
    const quiet = { tz: 'Europe/Paris', quiet: '11:58-13:00', 'digest.item_purchased': '2m' };
    const h = harness({ ...digesting, sms: 'off', ...quiet });
    h.clock.now = T - 3 * MINUTE;
    await h.processor.process('t', 0, [h.message('e1', 'kettle')]);
    const id = digestId('item_purchased', 'u1', T - 3 * MINUTE);
    expect(h.deliveries().find((d) => d.status === 'digested')!.detail).toBe(
      `digested into ${id}, sends at 11:59 Europe/Paris`,
    );
    // in quiet hours an event joins the same digest (a deferral joins as a send does)
    h.clock.now = T - 1.5 * MINUTE;
    await h.processor.process('t', 0, [h.message('e2', 'mug')]);
    expect(h.lines().at(-1)).toBe(`e2/email digested → ${id}`);
    h.clock.now = T - MINUTE;
    await h.due();
    expect(h.sent).toEqual([]);
    const held = [...h.schedule.values()];
    expect(held.map((e) => [e.eventId, e.dueAt, e.reason, e.digest?.id])).toEqual([
      [id, Date.parse('2026-06-10T11:00:00Z'), 'digest', id],
    ]);
    expect(h.adds.at(-1)!.replace).toBe(true);
    expect(h.lines().at(-1)).toBe(`${id}/email deferred → ${id}`);
    h.clock.now = Date.parse('2026-06-10T11:00:00Z');
    await h.due();
    expect(h.sent.map((s) => [s.eventId, s.members])).toEqual([[id, ['e1', 'e2']]]);
    expect(h.schedule.size).toBe(0);
  });
});

describe('member lines', () => {
  it("hold the event's JSON as it is; lines written as before (the event a string) still read back", async () => {
    const store = new RedisDigestStore(redis);
    const event = JSON.stringify({ id: 'e1', type: 'item_purchased', userId: 'u1', payload: { item: 'ké"ttle\n' } });
    const [joined] = await store.join(
      [{ userId: 'u1', type: 'item_purchased', windowMs: MINUTE, eventId: 'e1', event, occurredAtMs: T }],
      T,
    );
    const line = memberLine({ eventId: 'e1', occurredAtMs: T, event });
    expect(line).toContain(`"event":${event}`);
    // a line of the earlier form, beside it in the same digest
    const old = JSON.stringify({ eventId: 'e0', event: JSON.stringify({ id: 'e0' }), occurredAtMs: T - 1 });
    await redis.zadd(digestMembersKey('u1', 'item_purchased'), T, `000000000000\n${old}`);
    const { members, total } = await store.members(joined!.digestId, Infinity);
    expect(total).toBe(2);
    expect(members).toEqual([
      { eventId: 'e0', event: JSON.stringify({ id: 'e0' }), occurredAtMs: T - 1 },
      { eventId: 'e1', event, occurredAtMs: T },
    ]);
  });
});

describe('digest ids', () => {
  it('are (type, user, start), read back; a very long user id is named by a hash', () => {
    expect(parseDigestId(digestId('item_purchased', 'a:b', 5))).toEqual({
      type: 'item_purchased',
      userId: 'a:b',
      start: 5,
    });
    const long = digestId('item_purchased', 'x'.repeat(200), 5);
    expect(long.length).toBeLessThanOrEqual(200);
    expect(long).toBe(digestId('item_purchased', 'x'.repeat(200), 5));
  });
});

describe('cluster slots', () => {
  it("a user's digest keys share the slot Redis gives their hash tag", () => {
    // CLUSTER KEYSLOT values, as Redis computes them
    expect(keySlot('foo')).toBe(12182);
    expect(keySlot('{user1000}.following')).toBe(keySlot('user1000'));
    expect(keySlot('digest:{user-05}:open')).toBe(keySlot('digest:{user-05}:members:item_purchased'));
  });
});
