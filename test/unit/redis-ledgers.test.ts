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
  idempotencyKey: `${eventId}:${channel}`,
  eventId,
  userId: 'user-01',
  address: 'ada@example.com',
  text: 'Line one\nand "quoted" \\ tab\t 🚀 \u2028 end',
  occurredAtMs,
});

describe('the mock provider accepts each idempotency key once and keeps what it accepted', () => {
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
    expect((await redis.smembers(`outbox:{email}:sent:g${window}`)).sort()).toEqual(['e1:email', 'e2:email']);
    expect(await redis.smembers(`outbox:{email}:sent:g${window + 1}`)).toEqual(['e3:email']);
    const ttl = await redis.ttl(`outbox:{email}:sent:g${window}`);
    expect(ttl).toBeGreaterThan(DAY / 1000);
    expect(ttl).toBeLessThanOrEqual((2 * DAY) / 1000);
    const outbox = (await redis.lrange('outbox:{email}', 0, -1)).map((l) => JSON.parse(l) as OutboxLine);
    expect(outbox.map((l) => l.key)).toEqual(['e1:email', 'e2:email', 'e3:email']);
    expect(outbox[0]).toMatchObject({
      event: 'e1',
      user: 'user-01',
      to: 'ada@example.com',
      text: 'Line one\nand "quoted" \\ tab\t 🚀 \u2028 end',
      at: T,
    });
  });

  it('quotes what needs quoting: an event id, user or key with quotes, backslashes, controls, lone surrogates', async () => {
    const redis = new RedisMock() as unknown as Redis;
    await redis.flushall(); // ioredis-mock instances share their data
    const provider = new MockProvider(redis);
    const odd = ['e"1', 'e\\2', 'e\t3', 'e\ud8004', 'plain'];
    const requests = odd.flatMap((id) => [request(id, 'email'), request(id, 'email')]);
    requests.push({ ...request('plain', 'email'), idempotencyKey: 'plain:"odd"', userId: 'u"ser' });
    const results = await provider.sendMany(requests);
    expect(results.filter((r) => r === 'accepted')).toHaveLength(odd.length + 1);
    const outbox = (await redis.lrange('outbox:{email}', 0, -1)).map((l) => JSON.parse(l) as OutboxLine);
    expect(outbox.map((l) => [l.event, l.key, l.user])).toEqual([
      ...odd.map((id) => [id, `${id}:email`, 'user-01']),
      ['plain', 'plain:"odd"', 'u"ser'],
    ]);
  });

  it('keeps the newest messages up to its length', async () => {
    const redis = new RedisMock() as unknown as Redis;
    const provider = new MockProvider(redis, { outboxMaxLen: 3 });
    await provider.sendMany(['a', 'b', 'c', 'd', 'e'].map((id) => request(id)));
    const outbox = (await redis.lrange('outbox:{email}', 0, -1)).map((l) => JSON.parse(l) as OutboxLine);
    expect(outbox.map((l) => l.event)).toEqual(['c', 'd', 'e']);
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
