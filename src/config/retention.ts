/**
 * What the program keeps, and for how long, unless told otherwise: defaults of settings (`DEFAULTS` in
 * config.ts), and of the Redis adapters that take them as options.
 */

/** How long deliveries are remembered against redelivery by default (`--dedupe-window`): a day. */
export const DEDUPE_WINDOW_SECONDS = 24 * 3600;

/** Messages each mock provider's outbox keeps by default (EVENTSTREAM_OUTBOX_MAXLEN changes it). */
export const DEFAULT_OUTBOX_MAXLEN = 10_000;

/**
 * How long sends of a transport that does not answer are parked before they are dead-lettered
 * (`--outage-hold`): 10 minutes. The processor's own default, `DEFAULT_OUTAGE_HOLD_MS` of
 * src/pipeline/outages.ts, is the same (test/unit/outages.test.ts holds them equal).
 */
export const DEFAULT_OUTAGE_HOLD_MS = 10 * 60_000;
