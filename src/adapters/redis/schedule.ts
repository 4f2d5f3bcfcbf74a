/**
 * The schedule of deferred sends in Redis (the pipeline's {@link Schedule} port). Claims are leases:
 * a claimed entry's score becomes the lease's end, so a claimer that dies mid-send loses it when the
 * lease runs out and another consumer takes it; exactly once comes from the provider's idempotency
 * record, as for every send.
 */
import type { RedisClient } from './client.js';
import type { Schedule, ScheduledSend } from '../../pipeline/ports.js';
import { scheduleDueKey, scheduleParkedKey, scheduleSendsKey } from './keys.js';

// KEYS: due, sends[, the channel's parked index]. ARGV: '1' to replace existing entries, then per entry:
// member, due time, JSON. With the index (sends parked while their transport is down), each entry
// written is listed there too, with its due time.
const ADD = `
local replace = ARGV[1] == '1'
local added = 0
for i = 2, #ARGV, 3 do
  local m = ARGV[i]
  local wrote = false
  if replace then
    redis.call('HSET', KEYS[2], m, ARGV[i + 2])
    redis.call('ZADD', KEYS[1], ARGV[i + 1], m)
    wrote = true
  elseif redis.call('HSETNX', KEYS[2], m, ARGV[i + 2]) == 1 then
    redis.call('ZADD', KEYS[1], ARGV[i + 1], m)
    wrote = true
  end
  if wrote then
    added = added + 1
    if KEYS[3] then redis.call('ZADD', KEYS[3], ARGV[i + 1], m) end
  end
end
return added`;

// KEYS: due, the channel's parked index. ARGV: now, limit. Each indexed member still waiting with the
// due time it was parked with becomes due now; one claimed since (its score is a lease) or gone is
// left alone. Every member read leaves the index. Returns how many became due.
const WAKE = `
local ms = redis.call('ZRANGE', KEYS[2], 0, tonumber(ARGV[2]) - 1, 'WITHSCORES')
local woken = 0
for i = 1, #ms, 2 do
  local m, parked = ms[i], ms[i + 1]
  local score = redis.call('ZSCORE', KEYS[1], m)
  if score and tonumber(score) == tonumber(parked) then
    redis.call('ZADD', KEYS[1], ARGV[1], m)
    woken = woken + 1
  end
  redis.call('ZREM', KEYS[2], m)
end
return woken`;

// KEYS: due, sends. ARGV: now, limit, the lease's end. Returns member, JSON, member, JSON, … joined by
// newlines (JSON text holds none of its own), one string: the embedded stand-in's Lua (fengari) loses a
// table of several values built in a loop.
const CLAIM = `
local ms = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
local out = {}
-- Indexed, not ipairs(): the embedded stand-in's Lua hands replies over as proxies ipairs() cannot walk.
for i = 1, #ms do
  local m = ms[i]
  local v = redis.call('HGET', KEYS[2], m)
  if v then
    redis.call('ZADD', KEYS[1], ARGV[3], m)
    table.insert(out, m)
    table.insert(out, v)
  else
    redis.call('ZREM', KEYS[1], m)
  end
end
return table.concat(out, '\\n')`;

// KEYS: due, sends. ARGV: per entry member, lease end ('' = whatever its score). An entry claimed again
// since (its lease ran out: another consumer holds it now) or moved to a new due time is kept.
const DONE = `
local removed = 0
for i = 1, #ARGV, 2 do
  local m, lease = ARGV[i], ARGV[i + 1]
  local score = redis.call('ZSCORE', KEYS[1], m)
  if lease == '' or (score and tonumber(score) == tonumber(lease)) or not score then
    redis.call('ZREM', KEYS[1], m)
    redis.call('HDEL', KEYS[2], m)
    removed = removed + 1
  end
end
return removed`;

/** Entries per script call (a call holds Redis a few milliseconds at most). */
const CALL_ENTRIES = 500;

type Scripted = Record<string, (...args: (string | number)[]) => Promise<unknown>>;

/** A claimed entry: the lease it was claimed with (the claim's token). */
export interface ClaimedSend extends ScheduledSend {
  claim?: number;
}

export const scheduleMember = (eventId: string, channel: string): string => JSON.stringify([eventId, channel]);

function parseEntry(json: string): ScheduledSend | undefined {
  try {
    const e = JSON.parse(json) as Partial<ScheduledSend>;
    if (typeof e.eventId !== 'string' || typeof e.channel !== 'string' || typeof e.dueAt !== 'number') return undefined;
    return e as ScheduledSend;
  } catch {
    return undefined;
  }
}

export class RedisSchedule implements Schedule {
  constructor(
    private readonly redis: RedisClient,
    /** Told of an entry another program wrote that is not one (it is removed). */
    private readonly onCorrupt: (member: string) => void = () => undefined,
  ) {
    this.redis.defineCommand('etuiScheduleAdd', { numberOfKeys: 2, lua: ADD });
    this.redis.defineCommand('etuiScheduleClaim', { numberOfKeys: 2, lua: CLAIM });
    this.redis.defineCommand('etuiScheduleDone', { numberOfKeys: 2, lua: DONE });
    this.redis.defineCommand('etuiSchedulePark', { numberOfKeys: 3, lua: ADD });
    this.redis.defineCommand('etuiScheduleWake', { numberOfKeys: 2, lua: WAKE });
  }

  private call(name: string, args: (string | number)[]): Promise<unknown> {
    const command = (this.redis as unknown as Scripted)[name]!;
    return command.call(this.redis, scheduleDueKey, scheduleSendsKey, ...args);
  }

  /** Sends parked while their transport is down (reason `transport-down`) are indexed per channel too. */
  async add(entries: readonly ScheduledSend[], replace = false): Promise<void> {
    const plain: ScheduledSend[] = [];
    const parked = new Map<string, ScheduledSend[]>();
    for (const e of entries) {
      if (e.reason !== 'transport-down') plain.push(e);
      else {
        let mine = parked.get(e.channel);
        if (!mine) parked.set(e.channel, (mine = []));
        mine.push(e);
      }
    }
    await this.write(plain, replace);
    for (const [channel, mine] of parked) await this.write(mine, replace, channel);
  }

  private async write(entries: readonly ScheduledSend[], replace: boolean, parkedChannel?: string): Promise<void> {
    for (let i = 0; i < entries.length; i += CALL_ENTRIES) {
      const args: (string | number)[] = [replace ? '1' : '0'];
      for (const e of entries.slice(i, i + CALL_ENTRIES))
        args.push(scheduleMember(e.eventId, e.channel), e.dueAt, JSON.stringify(e));
      if (parkedChannel === undefined) await this.call('etuiScheduleAdd', args);
      else {
        const command = (this.redis as unknown as Scripted).etuiSchedulePark!;
        await command.call(this.redis, scheduleDueKey, scheduleSendsKey, scheduleParkedKey(parkedChannel), ...args);
      }
    }
  }

  async wakeParked(channel: string, now: number): Promise<number> {
    const command = (this.redis as unknown as Scripted).etuiScheduleWake!;
    let woken = 0;
    // Bounded: consumers parking meanwhile (their view still says down) are woken by the next probe.
    for (let round = 0; round < 100; round++) {
      const n = Number(await command.call(this.redis, scheduleDueKey, scheduleParkedKey(channel), now, CALL_ENTRIES));
      woken += n;
      if ((await this.redis.zcard(scheduleParkedKey(channel))) === 0) break;
    }
    return woken;
  }

  async claimDue(now: number, limit: number, leaseMs: number): Promise<ClaimedSend[]> {
    const lease = now + leaseMs;
    const joined = (await this.call('etuiScheduleClaim', [now, limit, lease])) as string;
    const reply = joined === '' ? [] : joined.split('\n');
    const claimed: ClaimedSend[] = [];
    const corrupt: string[] = [];
    for (let i = 0; i < reply.length; i += 2) {
      const entry = parseEntry(reply[i + 1]!);
      if (entry) claimed.push({ ...entry, claim: lease });
      else corrupt.push(reply[i]!);
    }
    if (corrupt.length > 0) {
      await this.call(
        'etuiScheduleDone',
        corrupt.flatMap((m) => [m, '']),
      );
      for (const m of corrupt) this.onCorrupt(m);
    }
    return claimed;
  }

  async done(entries: readonly (Pick<ScheduledSend, 'eventId' | 'channel'> & { claim?: number })[]): Promise<void> {
    for (let i = 0; i < entries.length; i += CALL_ENTRIES) {
      const args = entries
        .slice(i, i + CALL_ENTRIES)
        .flatMap((e) => [scheduleMember(e.eventId, e.channel), e.claim === undefined ? '' : String(e.claim)]);
      await this.call('etuiScheduleDone', args);
    }
  }

  async pending(): Promise<number> {
    return this.redis.zcard(scheduleDueKey);
  }

  async list(options: { userId?: string; limit?: number } = {}): Promise<ScheduledSend[]> {
    const limit = options.limit ?? Infinity;
    const found: ScheduledSend[] = [];
    const page = 1000;
    for (let from = 0; found.length < limit; from += page) {
      const members = await this.redis.zrange(scheduleDueKey, from, from + page - 1);
      if (members.length === 0) break;
      const values = await this.redis.hmget(scheduleSendsKey, ...members);
      for (const v of values) {
        const entry = v ? parseEntry(v) : undefined;
        if (!entry || (options.userId !== undefined && entry.userId !== options.userId)) continue;
        found.push(entry);
        if (found.length >= limit) break;
      }
      if (members.length < page) break;
    }
    // Soonest first, by the due time itself (a claimed entry's score is its lease).
    return found.sort((a, b) => a.dueAt - b.dueAt);
  }
}
