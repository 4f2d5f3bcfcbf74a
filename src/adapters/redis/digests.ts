/**
 * Open digests in Redis (the pipeline's {@link DigestStore} port). Every key of a user's digests holds
 * the user's hash tag, `digest:{<userId>}:…`, so one script call joins all of a chunk's members of one
 * Redis Cluster slot atomically (on a single Redis: the whole chunk in one call):
 * - hash `digest:{<u>}:open`: field `<type>` = `<start> <due>` of the type's newest digest (ms), and
 *   `n:<type>` = a counter that orders its members;
 * - hash `digest:{<u>}:of`: field = member event id, value = `<start> <due>` of the digest it joined: a
 *   member redelivered before its digest is sent joins it again, never a second one;
 * - sorted set `digest:{<u>}:members:<type>`: one member per event, `<seq, 12 digits>\n<member JSON>`,
 *   scored by its digest's start (a digest's members: `ZRANGEBYSCORE <key> <start> <start>`).
 * All expire `keep` after the last join (the window, plus the dedupe window, plus two days for quiet
 * hours that hold a digest's send); older digests' members are pruned at each join.
 */
import { createHash } from 'node:crypto';
import type { RedisClient } from './client.js';
import { evalScript, isCluster, keySlot, luaScript } from './client.js';
import { DEDUPE_WINDOW_SECONDS } from '../../config/retention.js';
import { type DigestJoin, type DigestJoined, type DigestMember, type DigestStore } from '../../pipeline/ports.js';

export const digestOpenKey = (userId: string): string => `digest:{${userId}}:open`;
export const digestOfKey = (userId: string): string => `digest:{${userId}}:of`;
export const digestMembersKey = (userId: string, type: string): string => `digest:{${userId}}:members:${type}`;

/** Event ids are at most 200 characters: a digest id that would be longer names its user by a hash. */
const MAX_ID = 200;

/** `digest:<type>:<userId>:<startMs>`: deterministic, the digest's send key (its "event id"). */
export function digestId(type: string, userId: string, start: number): string {
  const id = `digest:${type}:${userId}:${start}`;
  if (id.length <= MAX_ID) return id;
  return `digest:${type}:#${createHash('sha256').update(userId).digest('hex').slice(0, 32)}:${start}`;
}

/**
 * A digest id's parts. The user id is the part between the type and the start (a user id holding `:`
 * is kept whole); a hashed one (`#…`) cannot be read back: pass the user id along ({@link DigestRef}).
 */
export function parseDigestId(id: string): { type: string; userId: string; start: number } | undefined {
  const m = /^digest:([^:]+):(.+):(\d+)$/s.exec(id);
  if (!m) return undefined;
  return { type: m[1]!, userId: m[2]!, start: Number(m[3]) };
}

// KEYS: per user of the call its open hash and member index, then per (user, type) its members set.
// ARGV: now, keep (ms), prune-before (ms), then per join: the KEYS places of its open hash, index and
// members set, its type, the due time of a digest it would open, its event id, its member line. Returns
// per join `<opened> <already> <start> <due>`, joined by newlines (one string: the embedded stand-in's
// Lua loses a table of values built in a loop). Indexed loops, not ipairs (the stand-in's proxies).
// A few commands per user and type, whatever the number of joins: the members' earlier joins are read
// with one HMGET per index (a few hundred ids a call), each open digest once (HMGET of its start and due
// and its member counter); the joins are decided in Lua, then written with one ZADD per members set,
// one HSET per index and per open hash (a few hundred members a call), and each key touched expires
// `keep` after. A member twice in the call joins once.
const JOIN = luaScript(`
local now = tonumber(ARGV[1])
local keep = ARGV[2]
local prune = ARGV[3]
local n = (#ARGV - 3) / 7
local BATCH = 500
-- A value of a reply: a string, or nil (Redis gives false for a missing one, the stand-in a userdata).
local function str(v)
  if type(v) == 'string' then return v end
  return nil
end
-- The members' earlier joins, per index key: prior[of][id] = '<start> <due>'.
local ofKeys, idsOf = {}, {}
for j = 0, n - 1 do
  local b = 3 + j * 7
  local of = KEYS[tonumber(ARGV[b + 2])]
  local ids = idsOf[of]
  if not ids then
    ids = {}
    idsOf[of] = ids
    ofKeys[#ofKeys + 1] = of
  end
  ids[#ids + 1] = ARGV[b + 6]
end
local prior = {}
for k = 1, #ofKeys do
  local of = ofKeys[k]
  local ids, got = idsOf[of], {}
  prior[of] = got
  for from = 1, #ids, BATCH do
    local to = math.min(from + BATCH - 1, #ids)
    local values = redis.call('HMGET', of, unpack(ids, from, to))
    for i = from, to do
      local v = str(values[i - from + 1])
      if v then got[ids[i]] = v end
    end
  end
end
-- Decide each join; what to write is gathered per key.
local opens, openKeys = {}, {}
local adds, addKeys = {}, {}
local sets, setKeys = {}, {}
local touched, touchedKeys = {}, {}
local function touch(key)
  if not touched[key] then
    touched[key] = true
    touchedKeys[#touchedKeys + 1] = key
  end
end
local function push(lists, keys, key, a, b)
  local list = lists[key]
  if not list then
    list = {}
    lists[key] = list
    keys[#keys + 1] = key
  end
  list[#list + 1] = a
  list[#list + 1] = b
end
local out = {}
for j = 0, n - 1 do
  local b = 3 + j * 7
  local open = KEYS[tonumber(ARGV[b + 1])]
  local of = KEYS[tonumber(ARGV[b + 2])]
  local zs = KEYS[tonumber(ARGV[b + 3])]
  local typ, due, id, member = ARGV[b + 4], ARGV[b + 5], ARGV[b + 6], ARGV[b + 7]
  local before = prior[of][id]
  if before then
    out[#out + 1] = '0 1 ' .. before
  else
    local types = opens[open]
    if not types then
      types = {}
      opens[open] = types
      openKeys[#openKeys + 1] = open
    end
    local st = types[typ]
    if not st then
      local got = redis.call('HMGET', open, typ, 'n:' .. typ)
      st = { seq = tonumber(str(got[2]) or '0') or 0, changed = false, typ = typ }
      local cur = str(got[1])
      if cur then
        local sp = string.find(cur, ' ', 1, true)
        if sp then
          local untilAt = string.sub(cur, sp + 1)
          if now < (tonumber(untilAt) or 0) then
            st.start = string.sub(cur, 1, sp - 1)
            st.untilAt = untilAt
          end
        end
      end
      types[typ] = st
      types[#types + 1] = st
    end
    local opened = '0'
    if not st.start then
      st.start = ARGV[1]
      st.untilAt = due
      st.changed = true
      opened = '1'
      redis.call('ZREMRANGEBYSCORE', zs, '-inf', '(' .. prune)
    end
    st.seq = st.seq + 1
    push(adds, addKeys, zs, st.start, string.format('%012d', st.seq) .. '\\n' .. member)
    local joined = st.start .. ' ' .. st.untilAt
    push(sets, setKeys, of, id, joined)
    prior[of][id] = joined
    out[#out + 1] = opened .. ' 0 ' .. joined
  end
  touch(open)
  touch(of)
  touch(zs)
end
-- Write: a few hundred members or fields a call (unpack() takes a few thousand values).
local function write(command, key, list)
  for from = 1, #list, 2 * BATCH do
    redis.call(command, key, unpack(list, from, math.min(from + 2 * BATCH - 1, #list)))
  end
end
for k = 1, #openKeys do
  local open = openKeys[k]
  local fields = {}
  local types = opens[open]
  for t = 1, #types do
    local st = types[t]
    if st.changed then
      fields[#fields + 1] = st.typ
      fields[#fields + 1] = st.start .. ' ' .. st.untilAt
    end
    fields[#fields + 1] = 'n:' .. st.typ
    fields[#fields + 1] = tostring(st.seq)
  end
  write('HSET', open, fields)
end
for k = 1, #addKeys do write('ZADD', addKeys[k], adds[addKeys[k]]) end
for k = 1, #setKeys do write('HSET', setKeys[k], sets[setKeys[k]]) end
for k = 1, #touchedKeys do redis.call('PEXPIRE', touchedKeys[k], keep) end
return table.concat(out, '\\n')`);

/**
 * A member's line (after its sequence number): `{"eventId":…,"occurredAtMs":…,"event":<the event>}`, the
 * event's JSON text embedded as it is (it is JSON.stringify's, from the consumer or the schedule), not
 * escaped into a string: read back by {@link RedisDigestStore.members}.
 */
export function memberLine(j: Pick<DigestJoin, 'eventId' | 'occurredAtMs' | 'event'>): string {
  // an event that is not an object's JSON text (none of ours) is kept as a string, as before
  const event = j.event.startsWith('{') && j.event.endsWith('}') ? j.event : JSON.stringify(j.event);
  return `{"eventId":${JSON.stringify(j.eventId)},"occurredAtMs":${j.occurredAtMs},"event":${event}}`;
}

export interface RedisDigestStoreOptions {
  /** The dedupe window (s): a member is indexed at least this long after its digest's window. */
  dedupeWindowSeconds?: number;
}

/** Two days beyond window and dedupe window: a digest held by quiet hours is still read whole. */
const EXTRA_KEEP_MS = 2 * 86_400_000;

export class RedisDigestStore implements DigestStore {
  private readonly dedupeMs: number;

  constructor(
    private readonly redis: RedisClient,
    options: RedisDigestStoreOptions = {},
  ) {
    this.dedupeMs = (options.dedupeWindowSeconds ?? DEDUPE_WINDOW_SECONDS) * 1000;
  }

  async join(joins: readonly DigestJoin[], now: number): Promise<DigestJoined[]> {
    if (joins.length === 0) return [];
    // One call per slot on a cluster (the keys of one call must share one), one in all otherwise.
    const groups = new Map<number, number[]>();
    const cluster = isCluster(this.redis);
    joins.forEach((j, i) => {
      const g = cluster ? keySlot(digestOpenKey(j.userId)) : 0;
      let group = groups.get(g);
      if (!group) groups.set(g, (group = []));
      group.push(i);
    });
    const results: DigestJoined[] = new Array(joins.length);
    await Promise.all([...groups.values()].map((indexes) => this.joinGroup(joins, indexes, now, results)));
    return results;
  }

  private async joinGroup(
    joins: readonly DigestJoin[],
    indexes: readonly number[],
    now: number,
    results: DigestJoined[],
  ): Promise<void> {
    const keys: string[] = [];
    // Per user and type, the KEYS places of its open hash, member index and members set (made once).
    const places = new Map<string, readonly [number, number, number]>();
    const users = new Map<string, readonly [number, number]>();
    let longest = 0;
    const args: (string | number)[] = [];
    for (const i of indexes) {
      const j = joins[i]!;
      longest = Math.max(longest, j.windowMs);
      const pair = `${j.type}\n${j.userId}`;
      let at = places.get(pair);
      if (!at) {
        let user = users.get(j.userId);
        if (!user) {
          user = [keys.push(digestOpenKey(j.userId)), keys.push(digestOfKey(j.userId))] as const;
          users.set(j.userId, user);
        }
        places.set(pair, (at = [user[0], user[1], keys.push(digestMembersKey(j.userId, j.type))] as const));
      }
      args.push(at[0], at[1], at[2], j.type, now + j.windowMs, j.eventId, memberLine(j));
    }
    const keep = longest + this.dedupeMs + EXTRA_KEEP_MS;
    const reply = String(await evalScript(this.redis, JOIN, keys, [now, keep, now - keep, ...args]));
    const lines = reply.split('\n');
    indexes.forEach((i, k) => {
      const [opened, already, start, due] = lines[k]!.split(' ');
      const j = joins[i]!;
      results[i] = {
        digestId: digestId(j.type, j.userId, Number(start)),
        dueAt: Number(due),
        opened: opened === '1',
        already: already === '1',
      };
    });
  }

  /** The members set and score of a digest, from its id (or the user id given for a hashed one). */
  private where(id: string, userId?: string): { key: string; start: number } | undefined {
    const parts = parseDigestId(id);
    if (!parts) return undefined;
    const user = parts.userId.startsWith('#') && userId !== undefined ? userId : parts.userId;
    return { key: digestMembersKey(user, parts.type), start: parts.start };
  }

  async members(id: string, limit: number, userId?: string): Promise<{ members: DigestMember[]; total: number }> {
    const at = this.where(id, userId);
    if (!at) return { members: [], total: 0 };
    const { key, start } = at;
    const [lines, total] = await Promise.all([
      Number.isFinite(limit)
        ? this.redis.zrangebyscore(key, start, start, 'LIMIT', 0, Math.max(0, limit))
        : this.redis.zrangebyscore(key, start, start),
      this.redis.zcount(key, start, start),
    ]);
    const members: DigestMember[] = [];
    for (const line of lines) {
      try {
        const m = JSON.parse(line.slice(line.indexOf('\n') + 1)) as Omit<DigestMember, 'event'> & { event: unknown };
        // the event is held as JSON in the line (lines written before 0.4.1: as a string of JSON)
        members.push({ ...m, event: typeof m.event === 'string' ? m.event : JSON.stringify(m.event) });
      } catch {
        // another program's member: not ours to list
      }
    }
    return { members, total };
  }

  async counts(ids: readonly string[]): Promise<number[]> {
    return Promise.all(
      ids.map((id) => {
        const at = this.where(id);
        return at ? this.redis.zcount(at.key, at.start, at.start) : Promise.resolve(0);
      }),
    );
  }
}
