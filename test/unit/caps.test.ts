/**
 * Frequency caps (`cap.<channel>`) in the processor, on a fake clock with an in-memory CapCounter: which
 * sends are checked and counted (not required ones, not duplicates, not deferred ones until their due
 * time), a send over the cap settled `throttled` with its detail, the window sliding, a redelivery never
 * counted twice, and Redis errors (waited out when transient; one user's refused key fails only that
 * user's capped sends). Then the Redis script itself on the embedded stand-in (ioredis-mock).
 */
import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../../src/domain/catalog.js';
import { parsePreferences, parseRules } from '../../src/domain/rules.js';
import { BatchProcessor, type ClaimedSend } from '../../src/pipeline/processor.js';
import type {
  CapCheck,
  CapCounter,
  CapVerdict,
  DeadLetter,
  NotificationProvider,
  PipelineStore,
  RawMessage,
  Schedule,
  ScheduledSend,
  SendRequest,
  UserRecord,
} from '../../src/pipeline/ports.js';
import type { DeliveryOutcome, Outcome } from '../../src/telemetry/outcomes.js';
import { countInto, emptyTotals, Telemetry } from '../../src/telemetry/telemetry.js';
import { throttledDetail } from '../../src/pipeline/caps-step.js';
import { RedisCapCounter } from '../../src/adapters/redis/caps.js';
import { keySlot } from '../../src/adapters/redis/client.js';
import { capKey } from '../../src/adapters/redis/keys.js';
import { embeddedBackends } from '../../src/app/runtime.js';
import type { Redis } from 'ioredis';
import { Collector } from '../../src/telemetry/collector.js';
import { detailLines } from '../../src/ui/views/detail-lines.js';
import { toLine } from '../../src/cli/headless-output.js';

// The four channels these cases were written for: a channel added later (webhook) changes none of them.
const loaded = await loadCatalog();
const catalog = {
  ...loaded,
  channels: loaded.channels.filter((c) => ['email', 'sms', 'push', 'console'].includes(c.name)),
};
const T0 = Date.parse('2026-06-10T12:00:00Z');
const HOUR = 3_600_000;

/** The port's semantics in memory: per (user, channel) the event ids counted and when. */
class MemoryCaps implements CapCounter {
  readonly sets = new Map<string, Map<string, number>>();
  readonly calls: CapCheck[][] = [];
  fail: ((checks: readonly CapCheck[]) => Error | undefined) | undefined;

  async check(checks: readonly CapCheck[], now: number): Promise<CapVerdict[]> {
    this.calls.push([...checks]);
    const error = this.fail?.(checks);
    if (error) throw error;
    return checks.map((c) => {
      const key = `${c.userId}/${c.channel}`;
      let set = this.sets.get(key);
      if (!set) this.sets.set(key, (set = new Map()));
      for (const [id, at] of set) if (at <= now - c.windowMs) set.delete(id);
      if (set.has(c.eventId)) return { allowed: true, count: set.size };
      if (set.size < c.limit) {
        set.set(c.eventId, now);
        return { allowed: true, count: set.size };
      }
      return { allowed: false, count: set.size };
    });
  }

  counted(userId: string, channel: string): string[] {
    return [...(this.sets.get(`${userId}/${channel}`)?.keys() ?? [])];
  }
}

const replyError = (message: string): Error => Object.assign(new Error(message), { name: 'ReplyError' });

function userWith(id: string, raw: Record<string, string>): UserRecord {
  return {
    profile: { id, name: id, email: `${id}@example.com`, phone: '+15550001' },
    prefs: parsePreferences(raw, catalog.channels),
    rules: parseRules(raw),
  };
}

let offsets = 0;
function message(id: string, userId = 'u1', type = 'item_purchased', at = T0): RawMessage {
  const payload = type === 'item_purchased' ? { orderId: 'ord-1', item: 'kettle', amount: 10, currency: 'USD' } : {};
  const event = { id, type, userId, occurredAt: new Date(at).toISOString(), payload };
  return {
    key: Buffer.from(userId),
    value: Buffer.from(JSON.stringify(event)),
    offset: String(offsets++),
    timestamp: String(at),
  };
}

function harness(users: Record<string, Record<string, string>>, options: { delivered?: Map<string, string[]> } = {}) {
  let now = T0;
  const sent: SendRequest[] = [];
  const letters: DeadLetter[] = [];
  const added: ScheduledSend[] = [];
  const caps = new MemoryCaps();
  const store: PipelineStore = {
    lookupBatch: async (ids) => ({
      users: new Map(ids.map((id) => [id, users[id] ? userWith(id, users[id]) : undefined])),
      delivered: options.delivered ?? new Map(),
    }),
    markDelivered: async () => undefined,
  };
  const provider: NotificationProvider = {
    sendMany: async (requests) => requests.map((r) => (sent.push(r), 'accepted' as const)),
    send: async (r) => (sent.push(r), 'accepted'),
  };
  const schedule: Schedule = {
    add: async (entries) => void added.push(...entries),
    claimDue: async () => [],
    done: async () => undefined,
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
    deadLetters: { send: async (l) => void letters.push(...l) },
    telemetry,
    maxBytes: 1 << 20,
    schedule,
    caps,
    now: () => now,
  });
  const deliveries = (): DeliveryOutcome[] => published.flatMap((o) => (o.kind === 'delivery' ? [o] : []));
  // Every outcome but the channels the user turned off.
  const lines = (from = 0): string[] =>
    deliveries()
      .slice(from)
      .filter((o) => o.reason !== 'opted-out')
      .map(
        (o) =>
          `${o.eventId}/${o.channel} ${o.status}${o.reason ? ` ${o.reason}` : ''}${o.detail ? ` (${o.detail})` : ''}`,
      )
      .sort(); // a chunk's skips are published before its sends
  return {
    processor,
    caps,
    sent,
    letters,
    added,
    published,
    lines,
    settled: () => deliveries().length,
    telemetry,
    advance: (ms: number) => void (now += ms),
    now: () => now,
  };
}

const smsOnly = { email: 'off', sms: 'on', push: 'off', console: 'off' };

describe('caps in the processor', () => {
  it('counts sends in chunk order, one call per chunk; over the cap: skipped throttled, with the detail', async () => {
    const h = harness({ u1: { ...smsOnly, 'cap.sms': '2/1h' } });
    await h.processor.process('t', 0, [message('e1'), message('e2'), message('e3'), message('e4')]);
    expect(h.caps.calls).toHaveLength(1);
    expect(h.caps.calls[0]!.map((c) => c.eventId)).toEqual(['e1', 'e2', 'e3', 'e4']);
    expect(h.sent.map((s) => s.eventId)).toEqual(['e1', 'e2']);
    expect(h.lines()).toEqual([
      'e1/sms sent',
      'e2/sms sent',
      'e3/sms skipped throttled (2 of 2 in the last hour)',
      'e4/sms skipped throttled (2 of 2 in the last hour)',
    ]);
    const totals = emptyTotals();
    const count = countInto(totals);
    h.published.forEach(count);
    expect([totals.sent, totals.skipped, totals.throttled]).toEqual([2, 2 + 12, 2]); // + the 3 channels off, for each of the 4 events
    expect(h.letters).toEqual([]);
  });

  it('the detail reads the window in words', () => {
    expect(throttledDetail(3, 3, HOUR)).toBe('3 of 3 in the last hour');
    expect(throttledDetail(10, 10, 10 * 60_000)).toBe('10 of 10 in the last 10 minutes');
    expect(throttledDetail(1, 1, 86_400_000)).toBe('1 of 1 in the last day');
  });

  it('the window slides: a send is allowed again once the oldest counted leaves the window', async () => {
    const h = harness({ u1: { ...smsOnly, 'cap.sms': '2/1h' } });
    await h.processor.process('t', 0, [message('e1')]);
    h.advance(30 * 60_000);
    await h.processor.process('t', 0, [message('e2'), message('e3')]);
    h.advance(30 * 60_000); // e1 is exactly an hour old: out of the window
    await h.processor.process('t', 0, [message('e4'), message('e5')]);
    expect(h.sent.map((s) => s.eventId)).toEqual(['e1', 'e2', 'e4']);
    expect(h.lines().filter((l) => l.includes('throttled'))).toEqual([
      'e3/sms skipped throttled (2 of 2 in the last hour)',
      'e5/sms skipped throttled (2 of 2 in the last hour)',
    ]);
  });

  it('only capped channels are checked; other channels and users without caps are not', async () => {
    const h = harness({
      u1: { email: 'on', sms: 'on', push: 'off', console: 'off', 'cap.sms': '1/1h' },
      u2: { email: 'on', sms: 'on', push: 'off', console: 'off' },
    });
    await h.processor.process('t', 0, [message('e1'), message('e2'), message('e3', 'u2'), message('e4', 'u2')]);
    expect(h.caps.calls).toHaveLength(1);
    expect(h.caps.calls[0]!.map((c) => `${c.eventId}/${c.channel}`)).toEqual(['e1/sms', 'e2/sms']);
    expect(h.sent.map((s) => `${s.eventId}/${s.channel}`)).toEqual([
      'e1/email',
      'e1/sms',
      'e2/email',
      'e3/email',
      'e3/sms',
      'e4/email',
      'e4/sms',
    ]);
  });

  it('no capped send in the chunk: no call', async () => {
    const h = harness({ u1: { ...smsOnly, sms: 'off', 'cap.sms': '1/1h' } });
    await h.processor.process('t', 0, [message('e1')]);
    expect(h.caps.calls).toEqual([]);
  });

  it('a required send (password_reset email) is never capped and does not count', async () => {
    const h = harness({ u1: { email: 'on', sms: 'off', push: 'off', console: 'off', 'cap.email': '1/1h' } });
    await h.processor.process('t', 0, [
      message('r1', 'u1', 'password_reset'),
      message('r2', 'u1', 'password_reset'),
      message('r3', 'u1', 'password_reset'),
    ]);
    expect(h.caps.calls).toEqual([]);
    expect(h.sent.map((s) => `${s.eventId}/${s.channel}`)).toEqual(['r1/email', 'r2/email', 'r3/email']);
    // and the cap is still whole for the next send that is not required
    const before = h.settled();
    await h.processor.process('t', 0, [message('e1'), message('e2')]);
    expect(h.lines(before)).toEqual(['e1/email sent', 'e2/email skipped throttled (1 of 1 in the last hour)']);
  });

  it('a duplicate (already in the dedupe ledger) is not checked nor counted', async () => {
    const h = harness({ u1: { ...smsOnly, 'cap.sms': '1/1h' } }, { delivered: new Map([['e1', ['sms']]]) });
    await h.processor.process('t', 0, [message('e1'), message('e2')]);
    expect(h.caps.calls.map((call) => call.map((c) => c.eventId))).toEqual([['e2']]);
    expect(h.lines()).toEqual(['e1/sms duplicate already-sent', 'e2/sms sent']);
  });

  it('a redelivered chunk is allowed again and not counted twice', async () => {
    const h = harness({ u1: { ...smsOnly, 'cap.sms': '2/1h' } });
    const chunk = [message('e1'), message('e2'), message('e3')];
    await h.processor.process('t', 0, chunk);
    h.advance(1000);
    const before = h.settled();
    await h.processor.process('t', 0, chunk); // no ledger in this harness: a crash before the mark
    expect(h.caps.counted('u1', 'sms')).toEqual(['e1', 'e2']);
    expect(h.lines(before)).toEqual([
      'e1/sms sent', // the provider's idempotency key makes it a duplicate in the real pipeline
      'e2/sms sent',
      'e3/sms skipped throttled (2 of 2 in the last hour)',
    ]);
  });

  it('a deferred send is not counted when deferred; it is checked at its due time', async () => {
    const quiet = { ...smsOnly, 'cap.sms': '1/1h', tz: 'UTC', quiet: '11:00-13:00' };
    const h = harness({ u1: quiet });
    await h.processor.process('t', 0, [message('e1'), message('e2')]);
    expect(h.caps.calls).toEqual([]);
    expect(h.lines()).toEqual(['e1/sms deferred quiet-hours', 'e2/sms deferred quiet-hours']);
    h.advance(HOUR + 1000); // 13:00: due
    await h.processor.processDue(h.added.map((e): ClaimedSend => ({ ...e, claim: h.now() + 30_000 })));
    expect(h.caps.calls.map((call) => call.map((c) => c.eventId))).toEqual([['e1', 'e2']]);
    expect(h.sent.map((s) => s.eventId)).toEqual(['e1']);
    const due = h.published.flatMap((o) => (o.kind === 'delivery' && o.deferred ? [o] : []));
    expect(due.map((o) => `${o.eventId} ${o.status} ${o.reason} ${o.detail}`).sort()).toEqual([
      'e1 sent null undefined',
      'e2 skipped throttled 1 of 1 in the last hour',
    ]);
  });

  it('a transient Redis error is waited out: nothing throttled by it', async () => {
    const h = harness({ u1: { ...smsOnly, 'cap.sms': '5/1h' } });
    let failures = 2;
    h.caps.fail = () => (failures-- > 0 ? new Error('connect ECONNREFUSED 127.0.0.1:6379') : undefined);
    await h.processor.process('t', 0, [message('e1'), message('e2')]);
    expect(h.caps.calls).toHaveLength(3);
    expect(h.lines()).toEqual(['e1/sms sent', 'e2/sms sent']);
    const errors = h.published.flatMap((o) => (o.kind === 'error' ? [o.message] : []));
    expect(errors[0]).toMatch(/checking frequency caps in Redis failed: connect ECONNREFUSED/);
  });

  it("a WRONGTYPE on one user's cap key: that user's capped sends fail as store-error; the rest go on", async () => {
    const h = harness({
      u1: { email: 'on', sms: 'on', push: 'off', console: 'off', 'cap.sms': '5/1h' },
      u2: { ...smsOnly, 'cap.sms': '1/1h' },
    });
    h.caps.fail = (checks) =>
      checks.some((c) => c.userId === 'u1')
        ? replyError('WRONGTYPE cap:{u1}:sms holds a value of another type, not a sorted set')
        : undefined;
    await h.processor.process('t', 0, [message('e1'), message('e2', 'u2'), message('e3', 'u2')]);
    expect(h.sent.map((s) => `${s.eventId}/${s.channel}`)).toEqual(['e1/email', 'e2/sms']);
    expect(h.lines()).toEqual([
      'e1/email sent',
      'e1/sms failed store-error: WRONGTYPE cap:{u1}:sms holds a value of another type, not a sorted set',
      'e2/sms sent',
      'e3/sms skipped throttled (1 of 1 in the last hour)',
    ]);
    expect(h.letters.map((l) => `${l.reason} ${l.channel} ${l.detail}`)).toEqual([
      'store-error sms sms: WRONGTYPE cap:{u1}:sms holds a value of another type, not a sorted set',
    ]);
    const errors = h.published.flatMap((o) => (o.kind === 'error' ? [o.message] : []));
    expect(errors).toEqual([expect.stringMatching(/^Redis refused the caps of user u1: WRONGTYPE/)]);
  });

  it('a capped send without a cap counter stops the consumer (a setup error, never a silent send)', async () => {
    const h = harness({ u1: { ...smsOnly, 'cap.sms': '1/1h' } });
    const bare = new BatchProcessor({
      catalog,
      store: (h.processor as unknown as { options: { store: PipelineStore } }).options.store,
      provider: { sendMany: async (r) => r.map(() => 'accepted' as const), send: async () => 'accepted' },
      deadLetters: { send: async () => undefined },
      telemetry: new Telemetry(),
      maxBytes: 1 << 20,
    });
    await expect(bare.process('t', 0, [message('e1')])).rejects.toThrow(/no cap counter/);
  });
});

describe('a throttled send as people see it', () => {
  it('the trace line and the headless line carry the detail', async () => {
    const h = harness({ u1: { ...smsOnly, 'cap.sms': '1/1h' } });
    const collector = new Collector(() => h.now());
    h.telemetry.subscribe(collector.listener);
    await h.processor.process('t', 0, [message('e1'), message('e2')]);
    const throttled = h.published.find((o) => o.kind === 'delivery' && o.reason === 'throttled')!;
    expect(toLine(throttled)).toMatchObject({
      status: 'skipped',
      reason: 'throttled',
      detail: '1 of 1 in the last hour',
    });
    const data = collector.detail('e2') ?? null;
    const lines = detailLines({ key: 'e2', from: { eventId: 'e2', type: '', userId: '', where: '' }, data }).map(
      (l) => l.text,
    );
    expect(lines.find((l) => l.startsWith('  sms '))).toMatch(
      /^ {2}sms {6}skipped throttled: 1 of 1 in the last hour · /,
    );
  });
});

describe('RedisCapCounter on the embedded stand-in', () => {
  const check = (eventId: string, limit = 2, userId = 'cu1', channel = 'sms'): CapCheck => ({
    userId,
    channel,
    eventId,
    limit,
    windowMs: HOUR,
  });

  it('checks in order, idempotent per event, sliding, expiring with the window', async () => {
    const redis = embeddedBackends().redis as Redis;
    const caps = new RedisCapCounter(redis);
    expect(await caps.check([check('a'), check('b'), check('c'), check('a')], T0)).toEqual([
      { allowed: true, count: 1 },
      { allowed: true, count: 2 },
      { allowed: false, count: 2 },
      { allowed: true, count: 2 },
    ]);
    expect(caps.calls).toBe(1);
    expect(await redis.zrange(capKey('cu1', 'sms'), 0, -1)).toEqual(['a', 'b']);
    expect(await redis.pttl(capKey('cu1', 'sms'))).toBeGreaterThan(HOUR - 5000);
    // half an hour on: e is over the cap; then a and b leave the window an hour after they were counted
    expect(await caps.check([check('e')], T0 + HOUR / 2)).toEqual([{ allowed: false, count: 2 }]);
    expect(await caps.check([check('e'), check('c')], T0 + HOUR / 2)).toEqual([
      { allowed: false, count: 2 },
      { allowed: false, count: 2 },
    ]);
    expect(await caps.check([check('c'), check('d'), check('e')], T0 + HOUR)).toEqual([
      { allowed: true, count: 1 },
      { allowed: true, count: 2 },
      { allowed: false, count: 2 },
    ]);
    expect(await caps.check([check('c')], T0 + HOUR + 1)).toEqual([{ allowed: true, count: 2 }]);
    // several users and channels in one call
    expect(await caps.check([check('x', 1, 'cu2'), check('x', 1, 'cu2', 'email'), check('y', 1, 'cu2')], T0)).toEqual([
      { allowed: true, count: 1 },
      { allowed: true, count: 1 },
      { allowed: false, count: 1 },
    ]);
  });

  it('many sends of one key in one call (added a few hundred at a time), and the same event twice in it', async () => {
    const redis = embeddedBackends().redis as Redis;
    const caps = new RedisCapCounter(redis);
    const ids = Array.from({ length: 1200 }, (_, i) => `m${i}`);
    const verdicts = await caps.check(
      [...ids, 'm0'].map((id) => check(id, 1000, 'cu5')),
      T0,
    );
    expect(verdicts.filter((v) => v.allowed)).toHaveLength(1001);
    expect(verdicts[999]).toEqual({ allowed: true, count: 1000 });
    expect(verdicts[1000]).toEqual({ allowed: false, count: 1000 });
    expect(verdicts[1200]).toEqual({ allowed: true, count: 1000 });
    expect(await redis.zcard(capKey('cu5', 'sms'))).toBe(1000);
  });

  it('a cap key of another type refuses the call, writing nothing', async () => {
    const redis = embeddedBackends().redis as Redis;
    const caps = new RedisCapCounter(redis);
    await redis.set(capKey('cu3', 'sms'), 'garbage');
    await expect(caps.check([check('a', 2, 'cu4'), check('a', 2, 'cu3')], T0)).rejects.toThrow(
      /WRONGTYPE cap:\{cu3\}:sms/,
    );
    expect(await redis.exists(capKey('cu4', 'sms'))).toBe(0);
  });

  it("keys are hash-tagged per user: a user's caps share a slot", () => {
    expect(capKey('user-03', 'sms')).toBe('cap:{user-03}:sms');
    expect(keySlot(capKey('user-03', 'sms'))).toBe(keySlot(capKey('user-03', 'email')));
    // Redis' own examples (CLUSTER KEYSLOT)
    expect(keySlot('foo')).toBe(12182);
    expect(keySlot('{user1000}.following')).toBe(keySlot('user1000'));
    expect(keySlot('123456789')).toBe(12739);
  });
});
