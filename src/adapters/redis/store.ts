/**
 * Users, preferences and the delivery ledger in Redis. A consumer batch costs
 * one round trip for all its look-ups (and one to record what it delivered).
 */
import type { RedisClient } from './client.js';
import { isCluster } from './client.js';
import { ADDRESS_FIELDS, type ChannelDefinition } from '../../domain/channels/channel.js';
import type { UserProfile } from '../../domain/event-type.js';
import { parsePreferences } from '../../domain/rules.js';
import type { SeedUser } from '../../domain/sample-users.js';
import { DEDUPE_WINDOW_SECONDS, type BatchLookup, type UserRecord } from '../../pipeline/ports.js';
import { dedupeGeneration, ledgerKey, prefsKey, userKey, usersSetKey } from './keys.js';

const PROFILE_FIELDS = ['name', ...ADDRESS_FIELDS] as const;

function toProfile(id: string, raw: Record<string, string>): UserProfile {
  const profile: UserProfile = { id };
  for (const f of PROFILE_FIELDS) if (typeof raw[f] === 'string') profile[f] = raw[f];
  return profile;
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

  /**
   * Users, preferences and the ledger's marks for a whole batch, in one round trip: one pipeline (the
   * marks: one HMGET per ledger generation) on a single Redis; on a Redis Cluster the same reads go out
   * concurrently, since the keys span hash slots.
   */
  async lookupBatch(userIds: readonly string[], eventIds: readonly string[]): Promise<BatchLookup> {
    let profiles: Record<string, string>[];
    let prefs: Record<string, string>[];
    let current: (string | null)[] = [];
    let previous: (string | null)[] = [];
    const generation = dedupeGeneration(this.now(), this.dedupeWindowSeconds);
    if (isCluster(this.redis)) {
      const redis = this.redis;
      [profiles, prefs, [current, previous]] = await Promise.all([
        Promise.all(userIds.map((id) => redis.hgetall(userKey(id)))),
        Promise.all(userIds.map((id) => redis.hgetall(prefsKey(id)))),
        eventIds.length > 0
          ? Promise.all([
              redis.hmget(ledgerKey(generation), ...eventIds),
              redis.hmget(ledgerKey(generation - 1), ...eventIds),
            ])
          : Promise.resolve([[], []]),
      ]);
    } else {
      const pipeline = this.redis.pipeline();
      for (const id of userIds) {
        pipeline.hgetall(userKey(id));
        pipeline.hgetall(prefsKey(id));
      }
      if (eventIds.length > 0) {
        pipeline.hmget(ledgerKey(generation), ...eventIds);
        pipeline.hmget(ledgerKey(generation - 1), ...eventIds);
      }
      const replies = (await pipeline.exec()) ?? [];
      profiles = userIds.map((_, i) => pipelineValue<Record<string, string>>(replies[2 * i]));
      prefs = userIds.map((_, i) => pipelineValue<Record<string, string>>(replies[2 * i + 1]));
      if (eventIds.length > 0) {
        current = pipelineValue<(string | null)[]>(replies[2 * userIds.length]);
        previous = pipelineValue<(string | null)[]>(replies[2 * userIds.length + 1]);
      }
    }
    const users = new Map<string, UserRecord | undefined>();
    userIds.forEach((id, i) => {
      const profile = profiles[i]!;
      users.set(
        id,
        Object.keys(profile).length === 0
          ? undefined
          : { profile: toProfile(id, profile), prefs: parsePreferences(prefs[i]!, this.channels) },
      );
    });
    const delivered = new Map<string, readonly string[]>();
    for (let i = 0; i < eventIds.length; i++) {
      const cur = current[i];
      const prev = previous[i];
      if (!cur && !prev) continue; // the usual case: nothing recorded, nothing allocated
      const marks = [cur, prev].filter((m): m is string => typeof m === 'string' && m.length > 0);
      delivered.set(eventIds[i]!, [...new Set(marks.join(',').split(','))]);
    }
    return { users, delivered };
  }

  /**
   * Records, per event id, the channels delivered so far (comma-separated): one HSET into the
   * current ledger generation, which then expires two windows after its last write.
   */
  async markDelivered(delivered: ReadonlyMap<string, string>): Promise<void> {
    if (delivered.size === 0) return;
    const key = ledgerKey(dedupeGeneration(this.now(), this.dedupeWindowSeconds));
    const fields: string[] = [];
    for (const [eventId, channels] of delivered) fields.push(eventId, channels);
    const ttl = this.dedupeWindowSeconds * 2;
    if (isCluster(this.redis)) {
      await this.redis.hset(key, ...fields);
      await this.redis.expire(key, ttl);
      return;
    }
    const replies =
      (await this.redis
        .pipeline()
        .hset(key, ...fields)
        .expire(key, ttl)
        .exec()) ?? [];
    for (const entry of replies) pipelineValue(entry);
  }

  async userIds(): Promise<string[]> {
    return (await this.redis.smembers(usersSetKey)).sort();
  }

  async listUsers(): Promise<UserRecord[]> {
    const ids = await this.userIds();
    const { users } = await this.lookupBatch(ids, []);
    return ids.flatMap((id) => {
      const record = users.get(id);
      return record ? [record] : [];
    });
  }

  async getUser(id: string): Promise<UserRecord | undefined> {
    return (await this.lookupBatch([id], [])).users.get(id);
  }

  async setPreference(userId: string, channel: string, value: 'on' | 'off'): Promise<void> {
    await this.redis.hset(prefsKey(userId), channel, value);
  }

  /**
   * Writes the sample users where absent. Fields someone already set are kept
   * (HSETNX), so a changed preference survives re-seeding; `reset` rewrites all.
   */
  async seed(users: readonly SeedUser[], reset = false): Promise<{ written: number; kept: number }> {
    const redis = this.redis;
    const results = await Promise.all(
      users.map(async ({ profile, prefs }) => {
        if (reset) await Promise.all([redis.del(userKey(profile.id)), redis.del(prefsKey(profile.id))]);
        const writes: Promise<number>[] = [];
        for (const f of PROFILE_FIELDS) {
          const value = profile[f];
          if (value !== undefined) writes.push(redis.hsetnx(userKey(profile.id), f, value));
        }
        for (const [channel, value] of Object.entries(prefs))
          writes.push(redis.hsetnx(prefsKey(profile.id), channel, value));
        await redis.sadd(usersSetKey, profile.id);
        return Promise.all(writes);
      }),
    );
    const flat = results.flat();
    return { written: flat.filter((v) => v === 1).length, kept: flat.filter((v) => v === 0).length };
  }
}
