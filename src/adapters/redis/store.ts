/**
 * Users, preferences and the delivery ledger in Redis. A consumer batch costs
 * one round trip for all its look-ups (and one to record what it delivered).
 */
import type { RedisClient } from './client.js';
import { isCluster } from './client.js';
import { ADDRESS_FIELDS, type ChannelDefinition } from '../../domain/channels/channel.js';
import type { UserProfile } from '../../domain/event-type.js';
import { parsePreferences, parseRules, type Preferences } from '../../domain/rules.js';
import { generatedUser, type SeedUser } from '../../domain/sample-users.js';
import type { PreferenceWrite } from '../../domain/preference-fields.js';
import { DEDUPE_WINDOW_SECONDS } from '../../config/retention.js';
import { type BatchLookup, type LedgerEvent, type LedgerMark, type UserRecord } from '../../pipeline/ports.js';
import { eventGeneration, ledgerKey, prefsKey, userKey, usersSetKey } from './keys.js';

const PROFILE_FIELDS = ['name', ...ADDRESS_FIELDS] as const;

/** Generated users written per script call by `seed --users` (a call holds Redis ~10 ms: live reads wait no longer). */
const SEED_BATCH = 500;

/**
 * `seed --users` on a single Redis: ARGV = profile field count, channel count, the field names, the
 * channel names, the key prefixes of users and preferences, then per user its id, its profile values
 * and its channel values ('' = absent). Each
 * user's hashes are rewritten whole and the ids added to the set (KEYS[1]).
 */
const WRITE_USERS = `
local nf, nc = tonumber(ARGV[1]), tonumber(ARGV[2])
local fields, channels = {}, {}
for i = 1, nf do fields[i] = ARGV[2 + i] end
for i = 1, nc do channels[i] = ARGV[2 + nf + i] end
local userPrefix, prefsPrefix = ARGV[3 + nf + nc], ARGV[4 + nf + nc]
local i, ids = 5 + nf + nc, {}
while i <= #ARGV do
  local id = ARGV[i]
  ids[#ids + 1] = id
  local profile, prefs = {}, {}
  for f = 1, nf do
    local v = ARGV[i + f]
    if v ~= '' then profile[#profile + 1] = fields[f]; profile[#profile + 1] = v end
  end
  for c = 1, nc do
    local v = ARGV[i + nf + c]
    if v ~= '' then prefs[#prefs + 1] = channels[c]; prefs[#prefs + 1] = v end
  end
  redis.call('DEL', userPrefix .. id, prefsPrefix .. id)
  redis.call('HSET', userPrefix .. id, unpack(profile))
  if #prefs > 0 then redis.call('HSET', prefsPrefix .. id, unpack(prefs)) end
  i = i + 1 + nf + nc
end
redis.call('SADD', KEYS[1], unpack(ids))
return #ids
`;

/** A seed user's profile as HSET arguments: field, value, … (absent fields left out). */
const profileFields = (u: SeedUser): string[] =>
  PROFILE_FIELDS.flatMap((f) => (u.profile[f] === undefined ? [] : [f, u.profile[f]!]));
/** A seed user's preferences as HSET arguments. */
const prefsFields = (u: SeedUser): string[] => Object.entries(u.prefs).flatMap(([k, v]) => [k, v]);

function toProfile(id: string, raw: Record<string, string>): UserProfile {
  const profile: UserProfile = { id };
  for (const f of PROFILE_FIELDS) if (typeof raw[f] === 'string') profile[f] = raw[f];
  return profile;
}

/** A user whose keys Redis cannot read as hashes: the key that holds another type, and what Redis said. */
export interface BrokenUser {
  key: string;
  message: string;
}

/** One user as read: a record, nothing (no `user:<id>`: listed in `users` but never seeded), or broken. */
export interface UserRead {
  id: string;
  record?: UserRecord;
  broken?: BrokenUser;
  /** Broken in its profile only: the preferences, read as usual (`prefs get|set` still act on them). */
  prefs?: Preferences;
}

/** A user whose key holds another type: the error names the key, as `redis-cli TYPE <key>` would find it. */
export class BrokenUserError extends Error {
  override name = 'BrokenUserError';
  constructor(
    readonly userId: string,
    readonly broken: BrokenUser,
    /** The preferences, when only the profile is broken. */
    readonly prefs?: Preferences,
  ) {
    super(`user ${userId} cannot be read: ${broken.message}; see it with \`redis-cli TYPE ${broken.key}\``);
  }
}

/** The `users` set is not a set: nothing can list the users until it is fixed. */
export class UsersSetError extends Error {
  override name = 'UsersSetError';
}

/**
 * The SSCAN MATCH glob that finds the ids containing `text`, whatever the case of its ASCII letters: `*[uU][sS]er-0*`; the
 * glob's own characters in `text` are escaped.
 */
export function idGlob(text: string): string {
  let glob = '';
  for (const ch of text) {
    // ASCII letters only: Redis matches bytes, and a class of two multi-byte letters would match their bytes.
    if (/^[a-z]$/i.test(ch)) glob += `[${ch.toLowerCase()}${ch.toUpperCase()}]`;
    else glob += /[*?[\]\\]/.test(ch) ? `\\${ch}` : ch;
  }
  return `*${glob}*`;
}

/** Whether Redis refused a command because the key holds another type. */
export const isWrongType = (error: unknown): boolean => error instanceof Error && error.message.includes('WRONGTYPE');

function usersSetError(error: unknown): unknown {
  if (!isWrongType(error)) return error;
  return new UsersSetError(
    `the key "${usersSetKey}" holds a value of another type, not a set of user ids (WRONGTYPE); see it with \`redis-cli TYPE ${usersSetKey}\``,
  );
}

function pipelineValue<T>(entry: [Error | null, unknown] | undefined): T {
  if (!entry) throw new Error('Redis pipeline returned fewer replies than commands');
  if (entry[0]) throw entry[0];
  return entry[1] as T;
}

export class RedisStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly channels: readonly ChannelDefinition[],
    private readonly dedupeWindowSeconds = DEDUPE_WINDOW_SECONDS,
    private readonly now: () => number = Date.now,
  ) {}

  /** The ledger generation an event's record lives in: the window its `occurredAt` falls in. */
  private generationOf(occurredAtMs: number): number {
    return eventGeneration(occurredAtMs, this.dedupeWindowSeconds, this.now);
  }

  /** The events' indexes by ledger generation (a chunk's events share one window, as a rule). */
  private byGeneration<T extends LedgerEvent>(events: readonly T[]): [number, number[]][] {
    const groups: [number, number[]][] = [];
    let last: [number, number[]] | undefined;
    for (let i = 0; i < events.length; i++) {
      const generation = this.generationOf(events[i]!.occurredAtMs);
      if (last?.[0] !== generation) {
        last = groups.find((g) => g[0] === generation);
        if (!last) groups.push((last = [generation, []]));
      }
      last[1].push(i);
    }
    return groups;
  }

  /**
   * Users, preferences and the ledger's marks for a whole batch, in one round trip: one pipeline (the
   * marks: one HMGET per ledger generation the events fall in, one as a rule) on a single Redis; on a
   * Redis Cluster the same reads go out concurrently, since the keys span hash slots.
   */
  async lookupBatch(userIds: readonly string[], events: readonly LedgerEvent[]): Promise<BatchLookup> {
    let profiles: Record<string, string>[];
    let prefs: Record<string, string>[];
    let marks: (string | null)[][];
    const groups = this.byGeneration(events);
    const ids = (indexes: number[]): string[] => indexes.map((i) => events[i]!.id);
    if (isCluster(this.redis)) {
      const redis = this.redis;
      [profiles, prefs, marks] = await Promise.all([
        Promise.all(userIds.map((id) => redis.hgetall(userKey(id)))),
        Promise.all(userIds.map((id) => redis.hgetall(prefsKey(id)))),
        Promise.all(groups.map(([generation, indexes]) => redis.hmget(ledgerKey(generation), ...ids(indexes)))),
      ]);
    } else {
      const pipeline = this.redis.pipeline();
      for (const id of userIds) {
        pipeline.hgetall(userKey(id));
        pipeline.hgetall(prefsKey(id));
      }
      for (const [generation, indexes] of groups) pipeline.hmget(ledgerKey(generation), ...ids(indexes));
      const replies = (await pipeline.exec()) ?? [];
      profiles = userIds.map((_, i) => pipelineValue<Record<string, string>>(replies[2 * i]));
      prefs = userIds.map((_, i) => pipelineValue<Record<string, string>>(replies[2 * i + 1]));
      marks = groups.map((_, g) => pipelineValue<(string | null)[]>(replies[2 * userIds.length + g]));
    }
    const users = new Map<string, UserRecord | undefined>();
    userIds.forEach((id, i) => {
      const profile = profiles[i]!;
      users.set(
        id,
        Object.keys(profile).length === 0
          ? undefined
          : {
              profile: toProfile(id, profile),
              prefs: parsePreferences(prefs[i]!, this.channels),
              rules: parseRules(prefs[i]!),
            },
      );
    });
    const delivered = new Map<string, readonly string[]>();
    groups.forEach(([, indexes], g) => {
      for (let j = 0; j < indexes.length; j++) {
        const mark = marks[g]![j];
        if (!mark) continue; // the usual case: nothing recorded, nothing allocated
        const id = events[indexes[j]!]!.id;
        const before = delivered.get(id) ?? [];
        delivered.set(id, [...new Set([...before, ...mark.split(',')])]);
      }
    });
    return { users, delivered };
  }

  /**
   * Records, per event, the channels delivered so far (comma-separated): one HSET into the ledger
   * generation of the event's window (one as a rule), which then expires two windows after its last
   * write.
   */
  async markDelivered(marks: readonly LedgerMark[]): Promise<void> {
    if (marks.length === 0) return;
    const ttl = this.dedupeWindowSeconds * 2;
    const writes = this.byGeneration(marks).map(([generation, indexes]) => {
      const fields: string[] = [];
      for (const i of indexes) fields.push(marks[i]!.id, marks[i]!.channels);
      return { key: ledgerKey(generation), fields };
    });
    if (isCluster(this.redis)) {
      for (const { key, fields } of writes) {
        await this.redis.hset(key, ...fields);
        await this.redis.expire(key, ttl);
      }
      return;
    }
    const pipeline = this.redis.pipeline();
    for (const { key, fields } of writes) pipeline.hset(key, ...fields).expire(key, ttl);
    const replies = (await pipeline.exec()) ?? [];
    for (const entry of replies) pipelineValue(entry);
  }

  /** How many users there are (SCARD users); a `users` key of another type is an error naming it. */
  async countUsers(): Promise<number> {
    try {
      return await this.redis.scard(usersSetKey);
    } catch (error) {
      throw usersSetError(error);
    }
  }

  /**
   * One page of user ids, in the set's scan order (SSCAN): `cursor` '0' starts, and comes back '0' once
   * the whole set was scanned. `match` is a glob (see {@link idGlob}). A page may repeat an id Redis
   * already returned when the set is resized meanwhile (SCAN's promise: every id at least once).
   */
  async scanUserIds(cursor: string, count: number, match?: string): Promise<{ cursor: string; ids: string[] }> {
    try {
      const [next, ids] = match
        ? await this.redis.sscan(usersSetKey, cursor, 'MATCH', match, 'COUNT', count)
        : await this.redis.sscan(usersSetKey, cursor, 'COUNT', count);
      return { cursor: next, ids };
    } catch (error) {
      throw usersSetError(error);
    }
  }

  /** Up to `n` distinct random user ids (SRANDMEMBER users n): what the producer picks from, never the whole set. */
  async randomUserIds(n: number): Promise<string[]> {
    try {
      return await this.redis.srandmember(usersSetKey, n);
    } catch (error) {
      throw usersSetError(error);
    }
  }

  /**
   * The users' records, each read on its own account: a user whose `user:<id>` or `prefs:<id>` holds
   * another type (WRONGTYPE) is a {@link BrokenUser} naming that key, and the others are read as usual.
   * One round trip (a pipeline; on a Redis Cluster, concurrent reads).
   */
  async readUsers(ids: readonly string[]): Promise<UserRead[]> {
    if (ids.length === 0) return [];
    const keys = ids.flatMap((id) => [userKey(id), prefsKey(id)]);
    let replies: [Error | null, unknown][];
    if (isCluster(this.redis)) {
      const redis = this.redis;
      const settled = await Promise.allSettled(keys.map((key) => redis.hgetall(key)));
      replies = settled.map((r) => (r.status === 'fulfilled' ? [null, r.value] : [r.reason as Error, null]));
    } else {
      const pipeline = this.redis.pipeline();
      for (const key of keys) pipeline.hgetall(key);
      replies = ((await pipeline.exec()) ?? []) as [Error | null, unknown][];
    }
    return ids.map((id, i): UserRead => {
      const [profileError, profile] = replies[2 * i] ?? [new Error('no reply'), null];
      const [prefsError, prefs] = replies[2 * i + 1] ?? [new Error('no reply'), null];
      if (profileError && !isWrongType(profileError)) throw profileError;
      if (prefsError && !isWrongType(prefsError)) throw prefsError;
      if (profileError || prefsError) {
        const key = profileError ? userKey(id) : prefsKey(id);
        const broken = { key, message: `${key} holds a value of another type, not a hash (WRONGTYPE)` };
        if (prefsError) return { id, broken };
        return { id, broken, prefs: parsePreferences(prefs as Record<string, string>, this.channels) };
      }
      const raw = profile as Record<string, string>;
      if (Object.keys(raw).length === 0) return { id };
      return {
        id,
        record: {
          profile: toProfile(id, raw),
          prefs: parsePreferences(prefs as Record<string, string>, this.channels),
          rules: parseRules(prefs as Record<string, string>),
        },
      };
    });
  }

  /** One user's record; undefined when `user:<id>` does not exist; a {@link BrokenUserError} naming the key of another type. */
  async getUser(id: string): Promise<UserRecord | undefined> {
    const [read] = await this.readUsers([id]);
    if (read?.broken) throw new BrokenUserError(read.id, read.broken, read.prefs);
    return read?.record;
  }

  async setPreference(userId: string, channel: string, value: 'on' | 'off'): Promise<void> {
    await this.redis.hset(prefsKey(userId), channel, value);
  }

  /** Writes one checked preference field (src/domain/preference-fields.ts), or removes it (back to its default). */
  async writePreference(userId: string, write: PreferenceWrite): Promise<void> {
    if ('remove' in write) await this.redis.hdel(prefsKey(userId), write.field);
    else await this.redis.hset(prefsKey(userId), write.field, write.value);
  }

  /** The raw `prefs:<id>` hash (for `prefs get` and the editor: every field, rules included). */
  async rawPreferences(userId: string): Promise<Record<string, string>> {
    return this.redis.hgetall(prefsKey(userId));
  }

  /**
   * Writes `total` generated users (`seed --users`), pipelined in batches of {@link SEED_BATCH}: each
   * user's two hashes rewritten whole and its id added to the set. `progress` is told after each batch.
   */
  async seedGenerated(
    total: number,
    progress: (written: number) => void = () => undefined,
    shouldStop: () => boolean = () => false,
  ): Promise<number> {
    let written = 0;
    while (written < total && !shouldStop()) {
      const batch = Math.min(SEED_BATCH, total - written);
      const users = Array.from({ length: batch }, (_, i) => generatedUser(written + i + 1, total, this.channels));
      const ids = users.map((u) => u.profile.id);
      if (isCluster(this.redis)) {
        const redis = this.redis;
        // The keys span slots: one command each, concurrent (a script may touch one slot only).
        await Promise.all([
          ...users.flatMap((u) => [
            redis.hset(userKey(u.profile.id), ...profileFields(u)),
            redis.hset(prefsKey(u.profile.id), ...prefsFields(u)),
          ]),
          redis.sadd(usersSetKey, ...ids),
        ]);
      } else {
        // One script call per batch: building a command per user cost the client ~45 µs a user, the
        // script ~3 µs in Redis. Fields that are absent ('') are left out of the hash.
        const args: string[] = [String(PROFILE_FIELDS.length), String(this.channels.length)];
        args.push(...PROFILE_FIELDS, ...this.channels.map((c) => c.name), userKey(''), prefsKey(''));
        for (const u of users) {
          args.push(u.profile.id);
          for (const f of PROFILE_FIELDS) args.push(u.profile[f] ?? '');
          for (const c of this.channels) args.push(u.prefs[c.name] ?? '');
        }
        await this.redis.eval(WRITE_USERS, 1, usersSetKey, ...args);
      }
      written += batch;
      progress(written);
    }
    return written;
  }

  /**
   * Writes the sample users where absent. Fields someone already set are kept
   * (HSETNX), so a changed preference survives re-seeding; `reset` rewrites all. A rule field someone
   * removed (`prefs set … quiet none`, `… item_purchased.sms default`) is absent: seeding writes it back.
   */
  async seed(users: readonly SeedUser[], reset = false): Promise<{ written: number; kept: number }> {
    const redis = this.redis;
    const results = await Promise.all(
      users.map(async ({ profile, prefs, rules }) => {
        if (reset) await Promise.all([redis.del(userKey(profile.id)), redis.del(prefsKey(profile.id))]);
        const writes: Promise<number>[] = [];
        for (const f of PROFILE_FIELDS) {
          const value = profile[f];
          if (value !== undefined) writes.push(redis.hsetnx(userKey(profile.id), f, value));
        }
        for (const [channel, value] of Object.entries(prefs))
          writes.push(redis.hsetnx(prefsKey(profile.id), channel, value));
        // Per-type choices, zone and quiet windows: as the channels, kept when someone set them.
        for (const [field, value] of Object.entries(rules ?? {}))
          writes.push(redis.hsetnx(prefsKey(profile.id), field, value));
        await redis.sadd(usersSetKey, profile.id);
        return Promise.all(writes);
      }),
    );
    const flat = results.flat();
    return { written: flat.filter((v) => v === 1).length, kept: flat.filter((v) => v === 0).length };
  }
}
