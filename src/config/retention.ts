/**
 * What the program keeps, and for how long, unless told otherwise: defaults of settings (`DEFAULTS` in
 * config.ts), and of the Redis adapters that take them as options.
 */

/** How long deliveries are remembered against redelivery by default (`--dedupe-window`): a day. */
export const DEDUPE_WINDOW_SECONDS = 24 * 3600;

/** Messages each mock provider's outbox keeps by default (EVENTSTREAM_OUTBOX_MAXLEN changes it). */
export const DEFAULT_OUTBOX_MAXLEN = 10_000;
