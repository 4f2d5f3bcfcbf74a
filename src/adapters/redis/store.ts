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
import {
  DEDUPE_WINDOW_SECONDS,
  type BatchLookup,
  type LedgerEvent,
  type LedgerMark,
  type UserRecord,
} from '../../pipeline/ports.js';
import { eventGeneration, ledgerKey, prefsKey, userKey, usersSetKey } from './keys.js';

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
          : { profile: toProfile(id, profile), prefs: parsePreferences(prefs[i]!, this.channels) },
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
