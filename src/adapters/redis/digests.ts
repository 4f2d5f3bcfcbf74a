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
import { isCluster, keySlot } from './client.js';
import {
  DEDUPE_WINDOW_SECONDS,
  type DigestJoin,
  type DigestJoined,
  type DigestMember,
  type DigestStore,
} from '../../pipeline/ports.js';

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
const JOIN = `
local now = tonumber(ARGV[1])
local keep = ARGV[2]
local prune = ARGV[3]
local out = {}
local n = (#ARGV - 3) / 7
for j = 0, n - 1 do
  local b = 3 + j * 7
  local open = KEYS[tonumber(ARGV[b + 1])]
  local of = KEYS[tonumber(ARGV[b + 2])]
  local zs = KEYS[tonumber(ARGV[b + 3])]
  local typ, due, id, member = ARGV[b + 4], ARGV[b + 5], ARGV[b + 6], ARGV[b + 7]
  local prior = redis.call('HGET', of, id)
  if prior then
    out[#out + 1] = '0 1 ' .. prior
  else
    local start, untilAt, opened = nil, nil, '0'
    local cur = redis.call('HGET', open, typ)
    if cur then
      local sp = string.find(cur, ' ', 1, true)
      if sp then
        start = string.sub(cur, 1, sp - 1)
        untilAt = string.sub(cur, sp + 1)
        if now >= tonumber(untilAt) then start = nil end
      end
    end
    if not start then
      start = ARGV[1]
      untilAt = due
      opened = '1'
      redis.call('HSET', open, typ, start .. ' ' .. untilAt)
      redis.call('ZREMRANGEBYSCORE', zs, '-inf', '(' .. prune)
    end
    local seq = string.format('%012d', redis.call('HINCRBY', open, 'n:' .. typ, 1))
    redis.call('ZADD', zs, start, seq .. '\\n' .. member)
    redis.call('HSET', of, id, start .. ' ' .. untilAt)
    out[#out + 1] = opened .. ' 0 ' .. start .. ' ' .. untilAt
  end
  redis.call('PEXPIRE', open, keep)
  redis.call('PEXPIRE', of, keep)
  redis.call('PEXPIRE', zs, keep)
end
return table.concat(out, '\\n')`;

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
    const place = new Map<string, number>();
    const keyAt = (key: string): number => {
      let at = place.get(key);
      if (at === undefined) place.set(key, (at = keys.push(key)));
      return at;
    };
    let longest = 0;
    const args: (string | number)[] = [];
    for (const i of indexes) {
      const j = joins[i]!;
      longest = Math.max(longest, j.windowMs);
      const member: DigestMember = { eventId: j.eventId, event: j.event, occurredAtMs: j.occurredAtMs };
      args.push(
        keyAt(digestOpenKey(j.userId)),
        keyAt(digestOfKey(j.userId)),
        keyAt(digestMembersKey(j.userId, j.type)),
        j.type,
        now + j.windowMs,
        j.eventId,
        JSON.stringify(member),
      );
    }
    const keep = longest + this.dedupeMs + EXTRA_KEEP_MS;
    // EVAL, not a defined command: the number of keys differs from call to call (ioredis caches the
    // script's SHA itself only for defined commands; a chunk's call is one EVAL of 2 KB).
    const reply = (await this.redis.eval(JOIN, keys.length, ...keys, now, keep, now - keep, ...args)) as string;
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
        members.push(JSON.parse(line.slice(line.indexOf('\n') + 1)) as DigestMember);
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
