/**
 * Users, preferences and the delivery ledger in Redis. A consumer batch costs
 * one round trip for all its look-ups (and one to record what it delivered).
 */
import type { RedisClient } from './client.js';
import { isCluster } from './client.js';
import type { ChannelDefinition } from '../../channels/channel.js';
import type { UserProfile } from '../../domain/event-type.js';
import { parsePreferences, type Preferences } from '../../domain/rules.js';
import type { SeedUser } from '../../domain/sample-users.js';
import { deliveredKey, prefsKey, userKey, usersSetKey } from './keys.js';

export interface UserRecord {
  profile: UserProfile;
  prefs: Preferences;
}

export interface BatchLookup {
  users: Map<string, UserRecord | undefined>;
  /** The dedupe keys (see {@link deliveredKey}) already recorded as delivered. */
  delivered: Set<string>;
}

const PROFILE_FIELDS = ['name', 'email', 'phone', 'pushToken'] as const;

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

const MARK_MANY = `
for i = 1, #KEYS do
  redis.call('SET', KEYS[i], '1', 'EX', ARGV[1])
end
return #KEYS`;

type MarkMany = { etuiMarkMany(numberOfKeys: number, ...args: (string | number)[]): Promise<number> };

export class RedisStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly channels: readonly ChannelDefinition[],
    private readonly dedupeTtlSeconds = 7 * 24 * 3600,
  ) {
    this.redis.defineCommand('etuiMarkMany', { lua: MARK_MANY });
  }

  /**
   * Users, preferences and already-delivered marks for a whole batch, in one round trip: one
   * pipeline (and one MGET) on a single Redis; on a Redis Cluster the same reads go out concurrently,
   * since the keys span hash slots.
   */
  async lookupBatch(userIds: readonly string[], dedupeKeys: readonly string[]): Promise<BatchLookup> {
    let profiles: Record<string, string>[];
    let prefs: Record<string, string>[];
    let marks: (string | null)[];
    if (isCluster(this.redis)) {
      const redis = this.redis;
      [profiles, prefs, marks] = await Promise.all([
        Promise.all(userIds.map((id) => redis.hgetall(userKey(id)))),
        Promise.all(userIds.map((id) => redis.hgetall(prefsKey(id)))),
        Promise.all(dedupeKeys.map((k) => redis.get(k))),
      ]);
    } else {
      const pipeline = this.redis.pipeline();
      for (const id of userIds) {
        pipeline.hgetall(userKey(id));
        pipeline.hgetall(prefsKey(id));
      }
      if (dedupeKeys.length > 0) pipeline.mget(...dedupeKeys);
      const replies = (await pipeline.exec()) ?? [];
      profiles = userIds.map((_, i) => pipelineValue<Record<string, string>>(replies[2 * i]));
      prefs = userIds.map((_, i) => pipelineValue<Record<string, string>>(replies[2 * i + 1]));
      marks = dedupeKeys.length > 0 ? pipelineValue<(string | null)[]>(replies[2 * userIds.length]) : [];
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
    const delivered = new Set<string>();
    marks.forEach((m, i) => {
      if (m !== null) delivered.add(dedupeKeys[i]!);
    });
    return { users, delivered };
  }

  async markDelivered(keys: readonly string[]): Promise<void> {
    if (keys.length === 0) return;
    if (isCluster(this.redis)) {
      // The keys span hash slots: concurrent SETs.
      const redis = this.redis;
      await Promise.all(keys.map((key) => redis.set(key, '1', 'EX', this.dedupeTtlSeconds)));
      return;
    }
    // One command for the whole batch on a single Redis.
    await (this.redis as unknown as MarkMany).etuiMarkMany(keys.length, ...keys, this.dedupeTtlSeconds);
  }

  dedupeKey(eventId: string, channel: string): string {
    return deliveredKey(eventId, channel);
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
