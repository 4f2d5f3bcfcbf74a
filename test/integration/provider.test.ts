/**
 * The mock provider's script on a real Redis: the event ids of a batch go in one argument (joined by
 * newlines) unless one of them holds a newline, and either way each (event, channel) is accepted once.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { MockProvider, type OutboxLine } from '../../src/adapters/redis/provider.js';
import type { SendRequest } from '../../src/pipeline/ports.js';
import { createRedis } from '../../src/adapters/redis/client.js';
import { newRedis, redisUrl, unique } from '../support/pipeline.js';

const redis = newRedis();
const channel = unique('provider-test');
const request = (eventId: string): SendRequest => ({
  channel,
  eventId,
  userId: 'user-01',
  address: 'ada@example.com',
  text: 'Line one\nand "quoted" \\ tab\t 🚀 end',
  occurredAtMs: Date.now(),
});

afterAll(async () => {
  await redis.del(`outbox:{provider}:${channel}`);
  redis.disconnect();
});

describe('the mock provider on Redis', () => {
  it('accepts each idempotency key once, an event id holding a newline too, and keeps each message once', async () => {
    const provider = new MockProvider(redis);
    const odd = `${unique('e')}\nwith a newline`;
    const [e0, e2, e3] = [unique('e'), unique('e'), unique('e')];
    expect(await provider.sendMany([request(e0), request(odd), request(e2)])).toEqual([
      'accepted',
      'accepted',
      'accepted',
    ]);
    // a batch without a newline in its keys (one argument), then one with (one argument each)
    expect(await provider.sendMany([request(e2), request(e3), request(e0)])).toEqual([
      'already-accepted',
      'accepted',
      'already-accepted',
    ]);
    expect(await provider.sendMany([request(odd), request(e3)])).toEqual(['already-accepted', 'already-accepted']);
    const records = `outbox:{provider}:sent:g${Math.floor(Date.now() / 86_400_000)}`;
    expect(await redis.hmget(records, e0, odd, e2, e3)).toEqual([channel, channel, channel, channel]);
    const outbox = (await redis.lrange(`outbox:{provider}:${channel}`, 0, -1)).map((l) => JSON.parse(l) as OutboxLine);
    expect(outbox.map((l) => l.event)).toEqual([e0, odd, e2, e3]);
    expect(outbox[1]).toMatchObject({ event: odd, text: 'Line one\nand "quoted" \\ tab\t 🚀 end' });
    await redis.hdel(records, e0, odd, e2, e3);
  });

  it("on the app's own client (auto-pipelined), batches of one to twenty channels at once, side by side with other commands: each send accepted once", async () => {
    const client = createRedis(redisUrl());
    const provider = new MockProvider(client);
    const channels = Array.from({ length: 20 }, (_, i) => `${channel}-${i}`);
    const e = [unique('e'), unique('e'), unique('e')];
    const batch = (id: string, n: number): SendRequest[] =>
      channels.slice(0, n).map((c) => ({ ...request(id), channel: c }));
    try {
      const [one, four, twenty] = await Promise.all([
        provider.sendMany(batch(e[0]!, 1)),
        provider.sendMany(batch(e[1]!, 4)),
        provider.sendMany(batch(e[2]!, 20)),
        client.ping(),
      ]);
      expect([one, four, twenty].map((r) => r.filter((x) => x === 'accepted').length)).toEqual([1, 4, 20]);
      expect((await provider.sendMany(batch(e[2]!, 20))).every((x) => x === 'already-accepted')).toBe(true);
      const records = `outbox:{provider}:sent:g${Math.floor(Date.now() / 86_400_000)}`;
      expect((await redis.hget(records, e[2]!))!.split(',').sort()).toEqual([...channels].sort());
      for (const c of channels)
        expect((await redis.lrange(`outbox:{provider}:${c}`, 0, -1)).filter((l) => l.includes(e[2]!))).toHaveLength(1);
      await redis.hdel(records, ...e);
    } finally {
      await redis.del(...channels.map((c) => `outbox:{provider}:${c}`));
      client.disconnect();
    }
  });
});
