import RedisMock from 'ioredis-mock';
import { describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { MockProvider, type OutboxLine } from '../../src/adapters/redis/provider.js';
import type { SendRequest } from '../../src/pipeline/ports.js';
import { RedisStore } from '../../src/adapters/redis/store.js';
import { loadCatalog } from '../../src/domain/catalog.js';

const DAY = 24 * 3600 * 1000;
const request = (eventId: string, channel = 'email'): SendRequest => ({
  channel,
  idempotencyKey: `${eventId}:${channel}`,
  eventId,
  userId: 'user-01',
  address: 'ada@example.com',
  text: 'Line one\nand "quoted" \\ tab\t 🚀 \u2028 end',
});

describe('the mock provider accepts each idempotency key once and keeps what it accepted', () => {
  it('one batch: repeats inside it and across batches are already-accepted; the outbox holds each message once', async () => {
    const redis = new RedisMock() as unknown as Redis;
    let now = Date.UTC(2026, 10, 27, 12);
    const provider = new MockProvider(redis, { now: () => now });
    expect(await provider.sendMany([request('e1'), request('e2'), request('e1')])).toEqual([
      'accepted',
      'accepted',
      'already-accepted',
    ]);
    now += DAY; // the next window: the previous one is still read
    expect(await provider.sendMany([request('e2'), request('e3')])).toEqual(['already-accepted', 'accepted']);
    now += DAY; // two windows on: e1 is forgotten, e3 (accepted a window ago) is not
    expect(await provider.send(request('e3'))).toBe('already-accepted');
    expect(await provider.send(request('e1'))).toBe('accepted');
    const outbox = (await redis.lrange('outbox:{email}', 0, -1)).map((l) => JSON.parse(l) as OutboxLine);
    expect(outbox.map((l) => l.key)).toEqual(['e1:email', 'e2:email', 'e3:email', 'e1:email']);
    expect(outbox[0]).toMatchObject({
      event: 'e1',
      user: 'user-01',
      to: 'ada@example.com',
      text: 'Line one\nand "quoted" \\ tab\t 🚀 \u2028 end',
    });
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
  it('remembers the channels delivered per event across one window boundary, and merges nothing it was not told', async () => {
    const redis = new RedisMock() as unknown as Redis;
    let now = Date.UTC(2026, 10, 27, 23);
    const store = new RedisStore(redis, (await loadCatalog()).channels, undefined, () => now);
    await store.markDelivered(new Map([['e1', 'email,sms']]));
    now += DAY;
    const { delivered } = await store.lookupBatch([], ['e1', 'e2']);
    expect(delivered.get('e1')).toEqual(['email', 'sms']);
    expect(delivered.has('e2')).toBe(false);
    now += DAY;
    expect((await store.lookupBatch([], ['e1'])).delivered.has('e1')).toBe(false);
  });
});
