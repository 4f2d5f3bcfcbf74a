/** The Redis keys of the public contract (README, "Users and preferences"). */
export const usersSetKey = 'users';
export const userKey = (id: string): string => `user:${id}`;
export const prefsKey = (id: string): string => `prefs:${id}`;
/** The consumer's record that (event, channel) was delivered: the dedupe ledger. */
export const deliveredKey = (eventId: string, channel: string): string => `delivered:${eventId}:${channel}`;
/**
 * The mock provider's idempotency record and its outbox stream, per channel. The record's hash tag
 * is the stream's name, so both live in one Redis Cluster slot and one script can write both.
 */
export const providerIdemKey = (channel: string, idempotencyKey: string): string =>
  `{outbox:${channel}}:accepted:${idempotencyKey}`;
export const outboxKey = (channel: string): string => `outbox:${channel}`;
