import RedisMock from 'ioredis-mock';
import { describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { MockProvider, type OutboxLine } from '../../src/adapters/redis/provider.js';
import type { SendRequest } from '../../src/pipeline/ports.js';
import { RedisStore } from '../../src/adapters/redis/store.js';
import { loadCatalog } from '../../src/domain/catalog.js';

const DAY = 24 * 3600 * 1000;
const T = Date.UTC(2026, 10, 27, 12);
const request = (eventId: string, channel = 'email', occurredAtMs = T): SendRequest => ({
  channel,
  eventId,
  userId: 'user-01',
  address: 'ada@example.com',
  text: 'Line one\nand "quoted" \\ tab\t 🚀 \u2028 end',
  occurredAtMs,
});

const outboxOf = async (redis: Redis, channel: string): Promise<OutboxLine[]> =>
  (await redis.lrange(`outbox:{provider}:${channel}`, 0, -1)).map((l) => JSON.parse(l) as OutboxLine);

describe('the mock provider accepts each (event, channel) once and keeps what it accepted', () => {
  it('one batch: repeats inside it and across batches are already-accepted; the outbox holds each message once', async () => {
    const redis = new RedisMock() as unknown as Redis;
    await redis.flushall(); // ioredis-mock instances share their data
    let now = T;
    const provider = new MockProvider(redis, { now: () => now });
    expect(await provider.sendMany([request('e1'), request('e2'), request('e1')])).toEqual([
      'accepted',
      'accepted',
      'already-accepted',
    ]);
    // Days later the same events (same occurredAt) are still known: their records live in the window
    // the events happened in, and expire two windows after the last write.
    now += 3 * DAY;
    expect(await provider.sendMany([request('e2'), request('e3', 'email', T + DAY)])).toEqual([
      'already-accepted',
      'accepted',
    ]);
    expect(await provider.send(request('e1'))).toBe('already-accepted');
    expect(await provider.send(request('e3', 'email', T + DAY))).toBe('already-accepted');
    expect(await provider.send(request('e1', 'sms'))).toBe('accepted');
    const window = Math.floor(T / DAY);
    expect(await redis.hgetall(`outbox:{provider}:sent:g${window}`)).toEqual({ e1: 'email,sms', e2: 'email' });
    expect(await redis.hgetall(`outbox:{provider}:sent:g${window + 1}`)).toEqual({ e3: 'email' });
    const ttl = await redis.ttl(`outbox:{provider}:sent:g${window}`);
    expect(ttl).toBeGreaterThan(DAY / 1000);
    expect(ttl).toBeLessThanOrEqual((2 * DAY) / 1000);
    const outbox = await outboxOf(redis, 'email');
    expect(outbox.map((l) => l.event)).toEqual(['e1', 'e2', 'e3']);
    expect(outbox[0]).toEqual({
      event: 'e1',
      user: 'user-01',
      to: 'ada@example.com',
      text: 'Line one\nand "quoted" \\ tab\t 🚀 \u2028 end',
      at: T,
    });
    expect((await outboxOf(redis, 'sms')).map((l) => l.event)).toEqual(['e1']);
  });

  it('every channel of a batch in one call: an event twice, a channel sent before, in any order', async () => {
    const redis = new RedisMock() as unknown as Redis;
    await redis.flushall();
    const provider = new MockProvider(redis, { now: () => T });
    expect(await provider.send(request('e2', 'push'))).toBe('accepted');
    const all = (id: string): SendRequest[] => ['email', 'sms', 'push'].map((c) => request(id, c));
    expect(await provider.sendMany([...all('e1'), ...all('e2'), request('e1', 'sms'), ...all('e1')])).toEqual([
      ...['accepted', 'accepted', 'accepted'],
      ...['accepted', 'accepted', 'already-accepted'],
      'already-accepted',
      ...['already-accepted', 'already-accepted', 'already-accepted'],
    ]);
    expect(await redis.hgetall(`outbox:{provider}:sent:g${Math.floor(T / DAY)}`)).toEqual({
      e1: 'email,sms,push',
      e2: 'push,email,sms',
    });
    for (const channel of ['email', 'sms'])
      expect((await outboxOf(redis, channel)).map((l) => l.event)).toEqual(['e1', 'e2']);
    expect((await outboxOf(redis, 'push')).map((l) => l.event)).toEqual(['e2', 'e1']);
  });

  it("an outbox that is another program's key refuses that channel's sends and writes nothing for them; the other channels are accepted", async () => {
    const redis = new RedisMock() as unknown as Redis;
    await redis.flushall();
    await redis.set('outbox:{provider}:sms', 'not a list');
    const provider = new MockProvider(redis, { now: () => T });
    const results = await provider.sendMany([request('e1', 'email'), request('e1', 'sms'), request('e2', 'sms')]);
    expect(results[0]).toBe('accepted');
    for (const refused of results.slice(1)) expect(String(refused)).toMatch(/^PermanentError: sms: WRONGTYPE/);
    expect(await redis.hgetall(`outbox:{provider}:sent:g${Math.floor(T / DAY)}`)).toEqual({ e1: 'email' });
    expect(await redis.get('outbox:{provider}:sms')).toBe('not a list');
    await expect(provider.send(request('e2', 'sms'))).rejects.toThrow(/sms: WRONGTYPE/);
  });

  it('quotes what needs quoting: an event id or user with quotes, backslashes, controls, lone surrogates', async () => {
    const redis = new RedisMock() as unknown as Redis;
    await redis.flushall(); // ioredis-mock instances share their data
    const provider = new MockProvider(redis);
    const odd = ['e"1', 'e\\2', 'e\t3', 'e\ud8004', 'plain'];
    const requests = odd.flatMap((id) => [request(id, 'email'), request(id, 'email')]);
    requests.push({ ...request('plain', 'sms'), userId: 'u"ser' });
    const results = await provider.sendMany(requests);
    expect(results.filter((r) => r === 'accepted')).toHaveLength(odd.length + 1);
    expect((await outboxOf(redis, 'email')).map((l) => [l.event, l.user])).toEqual(odd.map((id) => [id, 'user-01']));
    expect((await outboxOf(redis, 'sms')).map((l) => [l.event, l.user])).toEqual([['plain', 'u"ser']]);
  });

  it('keeps the newest messages up to its length', async () => {
    const redis = new RedisMock() as unknown as Redis;
    await redis.flushall();
    const provider = new MockProvider(redis, { outboxMaxLen: 3 });
    await provider.sendMany(['a', 'b', 'c', 'd', 'e'].map((id) => request(id)));
    expect((await outboxOf(redis, 'email')).map((l) => l.event)).toEqual(['c', 'd', 'e']);
  });
});

describe("the consumer's dedupe ledger", () => {
  it("keeps each event's channels in the window of its occurredAt, read there however late, and merges nothing it was not told", async () => {
    const redis = new RedisMock() as unknown as Redis;
    await redis.flushall(); // ioredis-mock instances share their data
    let now = Date.UTC(2026, 10, 27, 23);
    const store = new RedisStore(redis, (await loadCatalog()).channels, undefined, () => now);
    const e1 = { id: 'e1', occurredAtMs: now };
    const e2 = { id: 'e2', occurredAtMs: now + DAY }; // the next window, in the same batch
    await store.markDelivered([
      { ...e1, channels: 'email,sms' },
      { ...e2, channels: 'push' },
    ]);
    now += 3 * DAY;
    const { delivered } = await store.lookupBatch([], [e1, e2, { id: 'e3', occurredAtMs: now }]);
    expect(delivered.get('e1')).toEqual(['email', 'sms']);
    expect(delivered.get('e2')).toEqual(['push']);
    expect(delivered.has('e3')).toBe(false);
    // The same id with another time is looked up in that time's window: not this event's record.
    expect((await store.lookupBatch([], [{ id: 'e1', occurredAtMs: e1.occurredAtMs + 2 * DAY }])).delivered.size).toBe(
      0,
    );
    const window = Math.floor(e1.occurredAtMs / DAY);
    expect(await redis.hget(`delivered:g${window}`, 'e1')).toBe('email,sms');
    expect(await redis.hget(`delivered:g${window + 1}`, 'e2')).toBe('push');
    const ttl = await redis.ttl(`delivered:g${window}`);
    expect(ttl).toBeGreaterThan(DAY / 1000);
    expect(ttl).toBeLessThanOrEqual((2 * DAY) / 1000);
  });
});
