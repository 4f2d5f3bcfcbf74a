/** The Redis keys of the public contract (docs/contracts.md, "Users and preferences"). */
import { DEDUPE_WINDOW_SECONDS } from '../../config/retention.js';
export const usersSetKey = 'users';
export const userKey = (id: string): string => `user:${id}`;
export const prefsKey = (id: string): string => `prefs:${id}`;

/**
 * Dedupe records live in generations: one key per window of event time (the window an event's
 * `occurredAt` falls in), each expiring two windows after its last write. One key per window instead
 * of one per event: a batch reads its marks with one HMGET and writes them with one HSET.
 */

/** The window `ms` falls in. */
export function dedupeGeneration(ms: number, windowSeconds = DEDUPE_WINDOW_SECONDS): number {
  return Math.floor(ms / (windowSeconds * 1000));
}

/** The window an event's dedupe records live in: the one its `occurredAt` falls in (now, for an event without one). */
export function eventGeneration(occurredAtMs: number, windowSeconds: number, now: () => number): number {
  return dedupeGeneration(Number.isFinite(occurredAtMs) ? occurredAtMs : now(), windowSeconds);
}

/** The consumer's dedupe ledger: field = event id, value = the channels delivered (comma-separated). */
export const ledgerKey = (generation: number): string => `delivered:g${generation}`;

/**
 * The mock provider: per channel an outbox, a list of what it accepted (one JSON line per message,
 * newest last), and one idempotency record per event for every channel (a hash per window of event
 * time: field = event id, value = the channels accepted, comma-separated). All under one hash tag, so
 * they live in one Redis Cluster slot and one script call writes a batch's sends on every channel.
 */
export const outboxKey = (channel: string): string => `outbox:{provider}:${channel}`;
/** The provider's records of the events that happened in window `generation` (a hash). */
export const providerSentKey = (generation: number): string => `outbox:{provider}:sent:g${generation}`;

/**
 * The schedule of deferred sends (src/adapters/redis/schedule.ts): a sorted set of (event id, channel)
 * members scored by due time (or, while claimed, by the claim's lease end) and a hash of the entries.
 * One hash tag: one Redis Cluster slot, so one script claims atomically. No expiry: an entry lives
 * until it is sent, however long its deferral (the dedupe window does not bound it).
 */
export const scheduleDueKey = 'schedule:{schedule}:due';
export const scheduleSendsKey = 'schedule:{schedule}:sends';
/** Per channel, the members parked while its transport was down (score: the due time they were parked with). */
export const scheduleParkedKey = (channel: string): string => `schedule:{schedule}:parked:${channel}`;

/**
 * Frequency caps (src/adapters/redis/caps.ts): per (user, channel) a sorted set of the event ids
 * counted against `cap.<channel>`, scored by when each was counted (ms). Hash-tagged per user: a
 * user's caps live in one Redis Cluster slot, and one script call per slot counts a chunk's sends. The
 * set is trimmed to the window at each check and expires a window after its last count.
 */
export const capKey = (userId: string, channel: string): string => `cap:{${userId}}:${channel}`;
