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
