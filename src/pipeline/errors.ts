/**
 * Which failures can heal. A transient one (a service down, restarting, busy, failing over) is
 * waited out: the partition pauses and nothing is skipped. A permanent one (a reply about this
 * event's own keys, a message the broker will never take) is isolated to the events it concerns
 * and dead-lettered, so one bad input never stops a partition.
 */

/** A stop (signal, `q`, rebalance) arrived while waiting: the work in hand is abandoned uncommitted. */
export class StoppedError extends Error {
  override name = 'StoppedError';
}

/** A failure retrying cannot mend; `cause` is the service's own error. */
export class PermanentError extends Error {
  override name = 'PermanentError';
  constructor(
    message: string,
    override readonly cause: unknown,
  ) {
    super(message);
  }
}

/**
 * A real transport refused a send for good (an SMTP 5xx reply, a webhook's 4xx other than 408 and
 * 429): dead-lettered with reason `rejected` and the server's reply (sanitized), never retried.
 */
export class RejectedError extends PermanentError {
  override name = 'RejectedError';
  constructor(
    /** The server's reply, one line, terminal-safe and bounded. */
    readonly reply: string,
  ) {
    super(reply, undefined);
  }
}

/**
 * Neither delivered nor dead-lettered: the consumer must stop without committing past `offset`.
 * The message names what a person needs to look at.
 */
export class FatalConsumerError extends Error {
  override name = 'FatalConsumerError';
}

// Redis replies that say "not now": loading a data set, a script running, a failover, a cluster
// resharding, out of memory until something expires.
const TRANSIENT_REDIS_REPLY =
  /^(LOADING|BUSY|TRYAGAIN|CLUSTERDOWN|MASTERDOWN|READONLY|MOVED|ASK|NOREPLICAS|OOM|NOAUTH|WRONGPASS|NOSCRIPT)\b/;

interface ErrorLike {
  name?: unknown;
  message?: unknown;
  retriable?: unknown;
  cause?: unknown;
  originalError?: unknown;
  errors?: unknown;
}

/** The error and every error it wraps (kafkajs' `originalError`, `cause`, aggregate `errors`). */
function* chain(error: unknown, depth = 0): Generator<ErrorLike> {
  if (!error || typeof error !== 'object' || depth > 8) return;
  const e = error as ErrorLike;
  yield e;
  yield* chain(e.cause, depth + 1);
  yield* chain(e.originalError, depth + 1);
  if (Array.isArray(e.errors)) for (const inner of e.errors) yield* chain(inner, depth + 1);
}

/**
 * Redis: an error reply (ioredis' `ReplyError`) is permanent unless its code says "not now";
 * anything else (connection refused, closed, reset, timed out) is transient. Connection-level
 * authentication (NOAUTH, WRONGPASS) concerns every event alike, so it is waited out, not
 * dead-lettered; a per-key ACL refusal (NOPERM) is permanent.
 * Kafka: a protocol error the broker marks as not retriable (MESSAGE_TOO_LARGE,
 * TOPIC_AUTHORIZATION_FAILED, INVALID_RECORD, ...) is permanent, wherever kafkajs wraps it.
 */
export function isPermanent(error: unknown): boolean {
  for (const e of chain(error)) {
    if (e.name === 'ReplyError' && typeof e.message === 'string') {
      // A script's error reads "ERR Error running script ... WRONGTYPE ..." or "WRONGTYPE ... script: ...".
      const message = e.message.replace(/^ERR Error running script[^:]*:\s*/i, '');
      return !TRANSIENT_REDIS_REPLY.test(message) && !/^ERR max number of clients/i.test(message);
    }
    if (e.name === 'KafkaJSProtocolError' && e.retriable === false) return true;
  }
  return false;
}

/** The service's own words, for a dead letter's `dlq-detail` or an error line. */
export function errorText(error: unknown): string {
  if (error instanceof PermanentError) return errorText(error.cause);
  if (error instanceof Error) return error.message;
  return String(error);
}
