/** The Redis keys of the public contract (README, "Users and preferences"). */
export const usersSetKey = 'users';
export const userKey = (id: string): string => `user:${id}`;
export const prefsKey = (id: string): string => `prefs:${id}`;
/** The consumer's record that (event, channel) was delivered: the dedupe ledger. */
export const deliveredKey = (eventId: string, channel: string): string => `delivered:${eventId}:${channel}`;
/** The mock provider's idempotency record and its outbox stream, per channel. */
export const providerIdemKey = (channel: string, idempotencyKey: string): string =>
  `provider:${channel}:accepted:${idempotencyKey}`;
export const outboxKey = (channel: string): string => `outbox:${channel}`;
