/**
 * The mock notification provider: it behaves like a real one (latency, failures,
 * an idempotency key per send) and keeps what it accepted outside the consumer,
 * in Redis, so a crash cannot make it forget: `XRANGE outbox:<channel> - +`.
 */
import type { RedisClient } from './client.js';
import { outboxKey, providerIdemKey } from './keys.js';

export interface SendRequest {
  channel: string;
  idempotencyKey: string;
  eventId: string;
  userId: string;
  address: string;
  text: string;
}

export type SendResult = 'accepted' | 'already-accepted';

export interface NotificationProvider {
  send(request: SendRequest): Promise<SendResult>;
  /** Many sends in one call (a provider's batch API); each slot holds its result or its rejection. */
  sendMany(requests: SendRequest[]): Promise<(SendResult | ProviderError)[]>;
}

export class ProviderError extends Error {
  override name = 'ProviderError';
}

export interface MockProviderOptions {
  latencyMs: number;
  failureRate: number;
  outboxMaxLen: number;
  idempotencyTtlSeconds: number;
  random?: () => number;
}

// Accept once per idempotency key: record the key and append to the outbox atomically.
const ACCEPT_ONCE = `
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'EX', ARGV[2]) then
  redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[3], '*', 'key', ARGV[1], 'event', ARGV[4], 'user', ARGV[5], 'to', ARGV[6], 'text', ARGV[7])
  return 1
end
return 0`;

// The same, for a batch of one channel: KEYS[1] the outbox, KEYS[2..] the idempotency records;
// ARGV: ttl, maxlen, then key, event, user, to, text per send. Returns a string with one character per
// send, '1' accepted or '0' already accepted (a string reads the same from Redis and its stand-in).
const ACCEPT_MANY = `
local out = {}
for i = 2, #KEYS do
  local a = 3 + (i - 2) * 5
  if redis.call('SET', KEYS[i], ARGV[a], 'NX', 'EX', ARGV[1]) then
    redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '*', 'key', ARGV[a], 'event', ARGV[a + 1], 'user', ARGV[a + 2], 'to', ARGV[a + 3], 'text', ARGV[a + 4])
    out[#out + 1] = '1'
  else
    out[#out + 1] = '0'
  end
end
return table.concat(out)`;

type AcceptMany = { etuiAcceptMany(numberOfKeys: number, ...args: (string | number)[]): Promise<string> };

export class MockProvider implements NotificationProvider {
  private readonly options: MockProviderOptions;
  constructor(
    private readonly redis: RedisClient,
    options: Partial<MockProviderOptions> = {},
  ) {
    this.options = {
      latencyMs: 0,
      failureRate: 0,
      // EVENTSTREAM_OUTBOX_MAXLEN: a longer outbox, for audits such as the fault suite's.
      outboxMaxLen: Number(process.env.EVENTSTREAM_OUTBOX_MAXLEN) || 10_000,
      idempotencyTtlSeconds: 7 * 24 * 3600,
      ...options,
    };
    this.redis.defineCommand('etuiAcceptOnce', { numberOfKeys: 2, lua: ACCEPT_ONCE });
    this.redis.defineCommand('etuiAcceptMany', { lua: ACCEPT_MANY });
  }

  private rejects(): boolean {
    return this.options.failureRate > 0 && (this.options.random ?? Math.random)() < this.options.failureRate;
  }

  async sendMany(requests: SendRequest[]): Promise<(SendResult | ProviderError)[]> {
    if (this.options.latencyMs > 0) await new Promise((r) => setTimeout(r, this.options.latencyMs));
    const results: (SendResult | ProviderError)[] = new Array(requests.length);
    const byChannel = new Map<string, number[]>();
    requests.forEach((request, i) => {
      if (this.rejects()) {
        results[i] = new ProviderError(`${request.channel} provider rejected the send (simulated failure)`);
        return;
      }
      const slots = byChannel.get(request.channel) ?? [];
      slots.push(i);
      byChannel.set(request.channel, slots);
    });
    const redis = this.redis as unknown as AcceptMany;
    await Promise.all(
      [...byChannel].map(async ([channel, slots]) => {
        const keys = [outboxKey(channel), ...slots.map((i) => providerIdemKey(channel, requests[i]!.idempotencyKey))];
        const args: (string | number)[] = [this.options.idempotencyTtlSeconds, this.options.outboxMaxLen];
        for (const i of slots) {
          const r = requests[i]!;
          args.push(r.idempotencyKey, r.eventId, r.userId, r.address, r.text);
        }
        const accepted = await redis.etuiAcceptMany(keys.length, ...keys, ...args);
        slots.forEach((slot, j) => (results[slot] = accepted[j] === '1' ? 'accepted' : 'already-accepted'));
      }),
    );
    return results;
  }

  async send(request: SendRequest): Promise<SendResult> {
    const { latencyMs, failureRate } = this.options;
    if (latencyMs > 0) await new Promise((r) => setTimeout(r, latencyMs));
    if (failureRate > 0 && (this.options.random ?? Math.random)() < failureRate) {
      throw new ProviderError(`${request.channel} provider rejected the send (simulated failure)`);
    }
    const accepted = await (
      this.redis as unknown as { etuiAcceptOnce(...args: (string | number)[]): Promise<number> }
    ).etuiAcceptOnce(
      providerIdemKey(request.channel, request.idempotencyKey),
      outboxKey(request.channel),
      request.idempotencyKey,
      this.options.idempotencyTtlSeconds,
      this.options.outboxMaxLen,
      request.eventId,
      request.userId,
      request.address,
      request.text,
    );
    return accepted === 1 ? 'accepted' : 'already-accepted';
  }
}
