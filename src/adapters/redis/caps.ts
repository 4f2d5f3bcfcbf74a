/**
 * Frequency caps in Redis (the pipeline's {@link CapCounter} port): per (user, channel) a sorted set of
 * the event ids counted, scored by when they were counted. One script call checks and counts a chunk's
 * capped sends in chunk order, atomically (so consumers together never count more than the limit); on
 * a Redis Cluster one call per hash slot the chunk's users fall in, sent concurrently.
 */
import { createHash } from 'node:crypto';
import { ReplyError } from 'ioredis';
import type { RedisClient } from './client.js';
import { isCluster } from './client.js';
import type { CapCheck, CapCounter, CapVerdict } from '../../pipeline/ports.js';
import { capKey } from './keys.js';

// KEYS: the cap sets of the call (one slot). ARGV: now (ms), then per check in order: its key's place
// in KEYS (from 1), the event id, the limit, the window (ms). Per check: the set is trimmed to the
// window; an event id in it was counted before (allowed again, not counted twice); else it is counted
// when fewer than the limit are. Returns, per check in order, '1:<count>' (allowed) or '0:<count>'
// (over the cap), joined by commas: one string (the embedded stand-in's Lua loses a table reply built
// in a loop). A key of another type refuses the whole call before anything is written: the reply is
// 'x:' and the key (the stand-in's Lua has no redis.error_reply), thrown as Redis' WRONGTYPE.
const CHECK = `
local now = tonumber(ARGV[1])
-- Whether a key is absent or a sorted set (TYPE is a status reply: a table on Redis).
local function holds(key)
  local t = redis.call('TYPE', key)
  if type(t) == 'table' then t = t.ok end
  return t == 'zset' or t == 'none'
end
for k = 1, #KEYS do
  if not holds(KEYS[k]) then return 'x:' .. KEYS[k] end
end
local trimmed, expiry, out = {}, {}, {}
for i = 2, #ARGV, 4 do
  local k = tonumber(ARGV[i])
  local key, member, limit, window = KEYS[k], ARGV[i + 1], tonumber(ARGV[i + 2]), tonumber(ARGV[i + 3])
  if trimmed[k] ~= window then
    redis.call('ZREMRANGEBYSCORE', KEYS[k], '-inf', now - window)
    trimmed[k] = window
  end
  local count = redis.call('ZCARD', key)
  if redis.call('ZSCORE', key, member) then
    out[#out + 1] = '1:' .. count
  elseif count < limit then
    redis.call('ZADD', key, now, member)
    out[#out + 1] = '1:' .. (count + 1)
    if (expiry[k] or 0) < window then expiry[k] = window end
  else
    out[#out + 1] = '0:' .. count
  end
end
for k = 1, #KEYS do
  if expiry[k] then redis.call('PEXPIRE', KEYS[k], expiry[k]) end
end
return table.concat(out, ',')`;

const CHECK_SHA = createHash('sha1').update(CHECK).digest('hex');

/** CRC16 (XMODEM), as Redis Cluster hashes keys. */
const CRC16 = (() => {
  const table = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i << 8;
    for (let j = 0; j < 8; j++) c = c & 0x8000 ? ((c << 1) ^ 0x1021) & 0xffff : (c << 1) & 0xffff;
    table[i] = c;
  }
  return table;
})();

/** The Redis Cluster slot of `key`: its hash tag's (`{…}`, when not empty), else the whole key's. */
export function keySlot(key: string): number {
  let hashed = key;
  const open = key.indexOf('{');
  if (open >= 0) {
    const close = key.indexOf('}', open + 1);
    if (close > open + 1) hashed = key.slice(open + 1, close);
  }
  let crc = 0;
  for (const byte of Buffer.from(hashed, 'utf8')) crc = ((crc << 8) & 0xffff) ^ CRC16[((crc >> 8) ^ byte) & 0xff]!;
  return crc % 16384;
}

type Evaluate = (script: string, keys: number, ...args: (string | number)[]) => Promise<unknown>;

/** One script call: its keys (one slot) and, per check it holds, the check's place in the chunk. */
interface Call {
  keys: string[];
  args: (string | number)[];
  checks: number[];
}

export class RedisCapCounter implements CapCounter {
  /** Script calls made (tests count them: one per chunk, or one per slot on a Cluster). */
  calls = 0;

  constructor(private readonly redis: RedisClient) {}

  async check(checks: readonly CapCheck[], now: number): Promise<CapVerdict[]> {
    const verdicts: CapVerdict[] = new Array(checks.length);
    if (checks.length === 0) return verdicts;
    const cluster = isCluster(this.redis);
    const calls = new Map<number, Call & { places: Map<string, number> }>();
    for (let i = 0; i < checks.length; i++) {
      const c = checks[i]!;
      const key = capKey(c.userId, c.channel);
      const slot = cluster ? keySlot(key) : 0;
      let call = calls.get(slot);
      if (!call) calls.set(slot, (call = { keys: [], args: [now], checks: [], places: new Map() }));
      let place = call.places.get(key);
      if (place === undefined) call.places.set(key, (place = call.keys.push(key)));
      call.args.push(place, c.eventId, c.limit, c.windowMs);
      call.checks.push(i);
    }
    await Promise.all(
      [...calls.values()].map(async (call) => {
        const reply = String(await this.run(call));
        if (reply.startsWith('x:'))
          throw new ReplyError(`WRONGTYPE ${reply.slice(2)} holds a value of another type, not a sorted set`);
        const answers = reply.split(',');
        if (answers.length !== call.checks.length)
          throw new Error(`the cap script answered ${answers.length} checks for ${call.checks.length}: ${reply}`);
        for (let j = 0; j < answers.length; j++) {
          const answer = answers[j]!;
          verdicts[call.checks[j]!] = { allowed: answer.startsWith('1'), count: Number(answer.slice(2)) };
        }
      }),
    );
    return verdicts;
  }

  /** EVALSHA, and EVAL when the server does not have the script yet (the keys vary per call). */
  private async run(call: Call): Promise<unknown> {
    this.calls++;
    const redis = this.redis as unknown as { evalsha: Evaluate; eval: Evaluate };
    try {
      return await redis.evalsha.call(this.redis, CHECK_SHA, call.keys.length, ...call.keys, ...call.args);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return redis.eval.call(this.redis, CHECK, call.keys.length, ...call.keys, ...call.args);
    }
  }
}
