/**
 * Frequency caps in Redis (the pipeline's {@link CapCounter} port): per (user, channel) a sorted set of
 * the event ids counted, scored by when they were counted. One script call checks and counts a chunk's
 * capped sends in chunk order, atomically (so consumers together never count more than the limit); on
 * a Redis Cluster one call per hash slot the chunk's users fall in, sent concurrently.
 */
import { ReplyError } from 'ioredis';
import type { RedisClient } from './client.js';
import { evalScript, isCluster, keySlot, luaScript } from './client.js';
import type { CapCheck, CapCounter, CapVerdict } from '../../pipeline/ports.js';
import { capKey } from './keys.js';

// KEYS: the cap sets of the call (one slot). ARGV: now (ms), then per key in KEYS order: its limit, its
// window (ms), how many checks it has, and their event ids, in chunk order (keys are independent: only
// the order within a key matters). Per key, a few commands whatever its checks: the set is trimmed to
// the window and counted once. Far from the cap (its count and all its checks within the limit), every
// check is allowed and the ids are added with one ZADD NX (an id counted before keeps its time: counted
// once); the key's answer is '*<checks>:<count after>'. Near the cap, each check in order: an event id
// in the set (one ZMSCORE for the key's ids: Redis 6.2 or later) was counted before: allowed again, not
// counted twice; a new one is counted while fewer than the limit are; the key's answers are '1:<count>'
// (allowed) or '0:<count>' (over the cap) per check. Each new id is added in one ZADD (a few, for many)
// and the key expires a window after. The answers of all keys are joined by commas: one string (the
// embedded stand-in's Lua loses a table reply built in a loop). A key of another type refuses the whole
// call before anything is written: the reply is 'x:' and the key (the stand-in's Lua has no
// redis.error_reply), thrown as Redis' WRONGTYPE.
const CHECK = luaScript(`
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
local out, a = {}, 2
for k = 1, #KEYS do
  local key = KEYS[k]
  local limit, window, n = tonumber(ARGV[a]), tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2])
  a = a + 3
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  local count = redis.call('ZCARD', key)
  if count + n <= limit then
    -- far from the cap (the usual case): every check is allowed; the new ids are counted, one counted
    -- before keeps its time (NX); no look-up per id
    local adds = {}
    for i = a, a + n - 1 do
      adds[#adds + 1] = now
      adds[#adds + 1] = ARGV[i]
    end
    for from = 1, #adds, 1000 do
      redis.call('ZADD', key, 'NX', unpack(adds, from, math.min(from + 999, #adds)))
    end
    redis.call('PEXPIRE', key, window)
    out[#out + 1] = '*' .. n .. ':' .. redis.call('ZCARD', key)
  else
    -- near the cap: which ids were counted before, one ZMSCORE a few hundred (a copy: unpack() takes
    -- no proxy); then each check in order
    local ids, counted = {}, {}
    for i = a, a + n - 1 do ids[#ids + 1] = ARGV[i] end
    for from = 1, n, 500 do
      local to = math.min(from + 499, n)
      local got = redis.call('ZMSCORE', key, unpack(ids, from, to))
      -- a score is a string; an id not in the set is false (the stand-in's Lua: a null userdata)
      for i = from, to do counted[i] = type(got[i - from + 1]) == 'string' end
    end
    local seen, adds = {}, {}
    for i = 1, n do
      local member = ids[i]
      if seen[member] or counted[i] then
        out[#out + 1] = '1:' .. count
      elseif count < limit then
        count = count + 1
        seen[member] = true
        adds[#adds + 1] = now
        adds[#adds + 1] = member
        out[#out + 1] = '1:' .. count
      else
        out[#out + 1] = '0:' .. count
      end
    end
    if #adds > 0 then
      -- at most 500 members a ZADD: unpack() takes a few thousand values
      for from = 1, #adds, 1000 do
        redis.call('ZADD', key, unpack(adds, from, math.min(from + 999, #adds)))
      end
      redis.call('PEXPIRE', key, window)
    end
  end
  a = a + n
end
return table.concat(out, ',')`);

/** One script call: its keys (one slot), and per key its checks' places in the chunk, in order. */
interface Call {
  keys: string[];
  perKey: { limit: number; windowMs: number; ids: string[]; places: number[] }[];
}

export class RedisCapCounter implements CapCounter {
  /** Script calls made (tests count them: one per chunk, or one per slot on a Cluster). */
  calls = 0;

  constructor(private readonly redis: RedisClient) {}

  async check(checks: readonly CapCheck[], now: number): Promise<CapVerdict[]> {
    const verdicts: CapVerdict[] = new Array(checks.length);
    if (checks.length === 0) return verdicts;
    const cluster = isCluster(this.redis);
    const calls = new Map<number, Call>();
    // The chunk's checks per user and channel (one key each), in order: the key is made once per pair.
    const perPair = new Map<string, Map<string, Call['perKey'][number]>>();
    for (let i = 0; i < checks.length; i++) {
      const c = checks[i]!;
      let channels = perPair.get(c.userId);
      if (!channels) perPair.set(c.userId, (channels = new Map()));
      let mine = channels.get(c.channel);
      if (!mine) {
        // A chunk's checks of one key share its user's cap (one look-up): the first one's is the key's.
        channels.set(c.channel, (mine = { limit: c.limit, windowMs: c.windowMs, ids: [], places: [] }));
        const key = capKey(c.userId, c.channel);
        const slot = cluster ? keySlot(key) : 0;
        let call = calls.get(slot);
        if (!call) calls.set(slot, (call = { keys: [], perKey: [] }));
        call.keys.push(key);
        call.perKey.push(mine);
      }
      mine.ids.push(c.eventId);
      mine.places.push(i);
    }
    await Promise.all(
      [...calls.values()].map(async (call) => {
        const args: (string | number)[] = [now];
        for (const { limit, windowMs, ids } of call.perKey) args.push(limit, windowMs, ids.length, ...ids);
        const reply = String(await this.run(call.keys, args));
        if (reply.startsWith('x:'))
          throw new ReplyError(`WRONGTYPE ${reply.slice(2)} holds a value of another type, not a sorted set`);
        const answers = reply.split(',');
        const places = call.perKey.flatMap((k) => k.places);
        let p = 0;
        for (const answer of answers) {
          // every check of a key far from its cap: '*<checks>:<count after>', all allowed
          const all = answer.startsWith('*') ? answer.slice(1).split(':') : undefined;
          const n = all ? Number(all[0]) : 1;
          const verdict = all
            ? { allowed: true, count: Number(all[1]) }
            : { allowed: answer.startsWith('1'), count: Number(answer.slice(2)) };
          for (let j = 0; j < n; j++, p++) if (p < places.length) verdicts[places[p]!] = verdict;
        }
        if (p !== places.length)
          throw new Error(`the cap script answered ${p} checks for ${places.length}: ${reply.slice(0, 200)}`);
      }),
    );
    return verdicts;
  }

  private async run(keys: readonly string[], args: readonly (string | number)[]): Promise<unknown> {
    this.calls++;
    return evalScript(this.redis, CHECK, keys, args);
  }
}
