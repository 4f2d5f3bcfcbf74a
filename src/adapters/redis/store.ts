/**
 * Users, preferences and the delivery ledger in Redis. A consumer batch costs
 * one round trip for all its look-ups (and one to record what it delivered).
 */
import type { Redis } from 'ioredis';
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

export class RedisStore {
  constructor(
    private readonly redis: Redis,
    private readonly channels: readonly ChannelDefinition[],
    private readonly dedupeTtlSeconds = 7 * 24 * 3600,
  ) {}

  /** Users, preferences and already-delivered marks for a whole batch, in one round trip. */
  async lookupBatch(userIds: readonly string[], dedupeKeys: readonly string[]): Promise<BatchLookup> {
    const pipeline = this.redis.pipeline();
    for (const id of userIds) {
      pipeline.hgetall(userKey(id));
      pipeline.hgetall(prefsKey(id));
    }
    if (dedupeKeys.length > 0) pipeline.mget(...dedupeKeys);
    const replies = (await pipeline.exec()) ?? [];
    const users = new Map<string, UserRecord | undefined>();
    userIds.forEach((id, i) => {
      const profile = pipelineValue<Record<string, string>>(replies[2 * i]);
      const prefs = pipelineValue<Record<string, string>>(replies[2 * i + 1]);
      users.set(
        id,
        Object.keys(profile).length === 0
          ? undefined
          : { profile: toProfile(id, profile), prefs: parsePreferences(prefs, this.channels) },
      );
    });
    const delivered = new Set<string>();
    if (dedupeKeys.length > 0) {
      const marks = pipelineValue<(string | null)[]>(replies[2 * userIds.length]);
      marks.forEach((m, i) => {
        if (m !== null) delivered.add(dedupeKeys[i]!);
      });
    }
    return { users, delivered };
  }

  async markDelivered(keys: readonly string[]): Promise<void> {
    if (keys.length === 0) return;
    const pipeline = this.redis.pipeline();
    for (const key of keys) pipeline.set(key, '1', 'EX', this.dedupeTtlSeconds);
    const replies = (await pipeline.exec()) ?? [];
    for (const r of replies) if (r[0]) throw r[0];
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
    const pipeline = this.redis.pipeline();
    for (const { profile, prefs } of users) {
      if (reset) pipeline.del(userKey(profile.id), prefsKey(profile.id));
      for (const f of PROFILE_FIELDS) {
        const value = profile[f];
        if (value !== undefined) pipeline.hsetnx(userKey(profile.id), f, value);
      }
      for (const [channel, value] of Object.entries(prefs)) pipeline.hsetnx(prefsKey(profile.id), channel, value);
      pipeline.sadd(usersSetKey, profile.id);
    }
    const replies = (await pipeline.exec()) ?? [];
    let written = 0;
    let kept = 0;
    for (const [error, value] of replies) {
      if (error) throw error;
      if (value === 1) written++;
      else if (value === 0) kept++;
    }
    return { written, kept };
  }
}
