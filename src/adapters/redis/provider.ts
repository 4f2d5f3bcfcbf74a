/**
 * The mock notification provider: it behaves like a real one (latency, failures,
 * an idempotency key per send, a batch API) and keeps what it accepted outside the
 * consumer, in Redis, so a crash cannot make it forget:
 * `redis-cli LRANGE 'outbox:{email}' -10 -1`.
 */
import { isPermanent, PermanentError } from '../../pipeline/errors.js';
import type { RedisClient } from './client.js';
import {
  DEDUPE_WINDOW_SECONDS,
  DEFAULT_OUTBOX_MAXLEN,
  ProviderError,
  type NotificationProvider,
  type SendRequest,
  type SendResult,
} from '../../pipeline/ports.js';
import { dedupeGeneration, outboxKey, providerAcceptedKey } from './keys.js';

export interface MockProviderOptions {
  latencyMs: number;
  failureRate: number;
  /** Messages each outbox keeps (the newest). */
  outboxMaxLen: number;
  /** How long an idempotency key is remembered, at least (at most twice as long). */
  idempotencyWindowSeconds: number;
  random?: () => number;
  now?: () => number;
}

// Accept once per idempotency key, for a batch of one channel, atomically: look the keys up in the
// current and the previous generation, append the new messages to the outbox, record their keys.
// KEYS: outbox, current generation, previous generation. ARGV: generation TTL, outbox length, the
// outbox lines (JSON, one per send, joined by newlines: JSON text has none of its own), then the
// idempotency keys: 'joined' and all of them in one argument, joined by newlines (when none holds a
// newline: the usual case), or 'each' and one argument per key. Returns one character per send: '1'
// accepted, '0' already accepted.
// (A missing field is tested by type: Redis gives false, its in-process stand-in a null userdata.)
const ACCEPT_MANY = `
local ids = {}
if ARGV[4] == 'joined' then
  local keys, from = ARGV[5], 1
  while from <= #keys do
    local to = string.find(keys, '\\n', from, true) or (#keys + 1)
    ids[#ids + 1] = string.sub(keys, from, to - 1)
    from = to + 1
  end
else
  for i = 5, #ARGV do ids[#ids + 1] = ARGV[i] end
end
local n = #ids
local cur = redis.call('HMGET', KEYS[2], unpack(ids))
local prev = redis.call('HMGET', KEYS[3], unpack(ids))
local blob = ARGV[3]
local out, lines, marks, seen = {}, {}, {}, {}
local from = 1
for i = 1, n do
  local to = string.find(blob, '\\n', from, true) or (#blob + 1)
  local id = ids[i]
  if type(cur[i]) == 'string' or type(prev[i]) == 'string' or seen[id] then
    out[i] = '0'
  else
    seen[id] = true
    out[i] = '1'
    lines[#lines + 1] = string.sub(blob, from, to - 1)
    marks[#marks + 1] = id
    marks[#marks + 1] = '1'
  end
  from = to + 1
end
if #lines > 0 then
  redis.call('RPUSH', KEYS[1], unpack(lines))
  redis.call('LTRIM', KEYS[1], -tonumber(ARGV[2]), -1)
  redis.call('HSET', KEYS[2], unpack(marks))
  redis.call('EXPIRE', KEYS[2], ARGV[1])
end
return table.concat(out)`;

/** Sends per script call: Lua's unpack() takes a few thousand values at most. */
const SCRIPT_SLICE = 1000;

type AcceptMany = {
  etuiAcceptMany(...keysThenArgs: (string | number | string[])[]): Promise<string>;
};

/** One outbox line: what the provider accepted, as JSON. */
export interface OutboxLine {
  key: string;
  event: string;
  user: string;
  to: string;
  text: string;
  /** When it was accepted, ms since the epoch. */
  at: number;
}

// Characters a JSON string must escape (and lone surrogates): strings without any are quoted as they are.
const NEEDS_ESCAPE = /["\\\u0000-\u001f\u2028\u2029\ud800-\udfff]/;
const jsonString = (s: string): string => (NEEDS_ESCAPE.test(s) ? JSON.stringify(s) : `"${s}"`);

/** The {@link OutboxLine} of one send, as JSON: written out field by field (JSON.stringify of an object was 2.4x slower, and this runs per send). */
function outboxLine(r: SendRequest, at: number): string {
  return `{"key":${jsonString(r.idempotencyKey)},"event":${jsonString(r.eventId)},"user":${jsonString(r.userId)},"to":${jsonString(r.address)},"text":${jsonString(r.text)},"at":${at}}`;
}

export class MockProvider implements NotificationProvider {
  private readonly options: MockProviderOptions;
  constructor(
    private readonly redis: RedisClient,
    options: Partial<MockProviderOptions> = {},
  ) {
    this.options = {
      latencyMs: 0,
      failureRate: 0,
      outboxMaxLen: DEFAULT_OUTBOX_MAXLEN,
      idempotencyWindowSeconds: DEDUPE_WINDOW_SECONDS,
      ...options,
    };
    this.redis.defineCommand('etuiAcceptMany', { numberOfKeys: 3, lua: ACCEPT_MANY });
  }

  private rejects(): boolean {
    return this.options.failureRate > 0 && (this.options.random ?? Math.random)() < this.options.failureRate;
  }

  private async accept(channel: string, requests: readonly SendRequest[]): Promise<string> {
    const at = (this.options.now ?? Date.now)();
    const window = this.options.idempotencyWindowSeconds;
    const generation = dedupeGeneration(at, window);
    const lines: string[] = new Array(requests.length);
    const ids: string[] = new Array(requests.length);
    let newlineInKey = false;
    for (let i = 0; i < requests.length; i++) {
      const r = requests[i]!;
      lines[i] = outboxLine(r, at);
      ids[i] = r.idempotencyKey;
      if (r.idempotencyKey.includes('\n')) newlineInKey = true;
    }
    // The keys in one argument: a command of a thousand small arguments cost the consumer more to
    // write (one string piece each) than the lines themselves.
    return (this.redis as unknown as AcceptMany).etuiAcceptMany(
      outboxKey(channel),
      providerAcceptedKey(channel, generation),
      providerAcceptedKey(channel, generation - 1),
      window * 2,
      this.options.outboxMaxLen,
      lines.join('\n'),
      ...(newlineInKey ? ['each', ids] : ['joined', ids.join('\n')]),
    );
  }

  async sendMany(requests: SendRequest[]): Promise<(SendResult | ProviderError | PermanentError)[]> {
    if (this.options.latencyMs > 0) await new Promise((r) => setTimeout(r, this.options.latencyMs));
    const results: (SendResult | ProviderError | PermanentError)[] = new Array(requests.length);
    const byChannel = new Map<string, number[]>();
    for (let i = 0; i < requests.length; i++) {
      const request = requests[i]!;
      if (this.rejects()) {
        results[i] = new ProviderError(`${request.channel} provider rejected the send (simulated failure)`);
        continue;
      }
      let slots = byChannel.get(request.channel);
      if (!slots) byChannel.set(request.channel, (slots = []));
      slots.push(i);
    }
    const calls: Promise<void>[] = [];
    for (const [channel, slots] of byChannel) {
      for (let s = 0; s < slots.length; s += SCRIPT_SLICE) {
        const slice = slots.slice(s, s + SCRIPT_SLICE);
        calls.push(
          this.accept(
            channel,
            slice.map((i) => requests[i]!),
          ).then(
            (accepted) => {
              for (let j = 0; j < slice.length; j++)
                results[slice[j]!] = accepted[j] === '1' ? 'accepted' : 'already-accepted';
            },
            (error: unknown) => {
              // One channel's keys refused (its outbox is another program's key): those sends fail, the rest go on.
              if (!isPermanent(error)) throw error;
              const refused = new PermanentError(`${channel}: ${(error as Error).message}`, error);
              for (const i of slice) results[i] = refused;
            },
          ),
        );
      }
    }
    await Promise.all(calls);
    return results;
  }

  async send(request: SendRequest): Promise<SendResult> {
    const { latencyMs } = this.options;
    if (latencyMs > 0) await new Promise((r) => setTimeout(r, latencyMs));
    if (this.rejects()) throw new ProviderError(`${request.channel} provider rejected the send (simulated failure)`);
    return (await this.accept(request.channel, [request])) === '1' ? 'accepted' : 'already-accepted';
  }
}
