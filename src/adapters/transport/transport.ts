/**
 * A real transport (SMTP, a webhook, MQTT) behind the provider port: it delivers one message and says
 * how it went in the pipeline's words. Accepted: it resolves. Not now (an SMTP 4xx, a webhook's 408,
 * 429 or 5xx): a {@link ProviderError}, retried with backoff (`retryAfterMs` honoured). Not answering
 * (refused, timed out, no such host): a {@link TransportDownError}, retried alike today and held
 * during an outage later. Never (an SMTP 5xx, a webhook's other 4xx): a {@link RejectedError},
 * dead-lettered `rejected` with the server's reply.
 */
import { createHash } from 'node:crypto';
import { RejectedError } from '../../pipeline/errors.js';
import { ProviderError, TransportDownError } from '../../pipeline/ports.js';
import { sanitize } from '../../text/sanitize.js';

/** One message to a real transport: a send and its stable idempotency key. */
export interface TransportMessage {
  /** {@link idempotencyKey} of (event id, channel): the same on every resend. */
  key: string;
  eventId: string;
  channel: string;
  userId: string;
  address: string;
  text: string;
  type: string;
  /** The event's `occurredAt`, as written. */
  occurredAt: string;
}

/** Whether a transport answers: `null` until it is known (a webhook before its first send). */
export interface TransportHealth {
  answers: boolean | null;
  /** Why not, or what answered. */
  detail: string;
}

export interface Transport {
  /** `smtp`, `webhook`, `mqtt`. */
  readonly kind: string;
  /** Where it sends, as shown: the URL without user password or secret. */
  readonly label: string;
  /** How many of a batch's messages it has in flight at once. */
  readonly concurrency: number;
  /** Resolves once the server accepted the message; rejects with the errors above. */
  deliver(message: TransportMessage): Promise<void>;
  /** A cheap check that it answers (SMTP: verify; MQTT: connected; webhook: the last result). */
  probe(): Promise<TransportHealth>;
  close(): Promise<void>;
}

/**
 * The idempotency key of (event id, channel), the same in every process and on every resend, fit for a
 * header, a Message-ID and an MQTT payload whatever the event id holds: the channel, then the first 128
 * bits of SHA-256 over the channel and the id, in hex.
 */
export function idempotencyKey(eventId: string, channel: string): string {
  const digest = createHash('sha256').update(channel).update('\u0000').update(eventId).digest('hex');
  return `${channel}_${digest.slice(0, 32)}`;
}

/** A URL fit to show: no user password, no secret in the query, no fragment. */
export function shownUrl(url: string): string {
  try {
    const u = new URL(url);
    u.password = '';
    u.username = u.username ? u.username : '';
    u.hash = '';
    for (const name of [...u.searchParams.keys()])
      if (/pass|pwd|secret|token|auth|key|sig/i.test(name)) u.searchParams.set(name, '***');
    return u.toString().replace(/\/$/, '');
  } catch {
    return '(not a URL)';
  }
}

/** A server's reply fit for a dead letter's detail and a terminal: one line, escaped, at most 300 characters. */
export function sanitizeReply(reply: string): string {
  const line = sanitize(reply.replace(/\r?\n/g, ' ').trim());
  return line.length > 300 ? `${line.slice(0, 299)}…` : line;
}

// Network errors that mean the server is not there (as opposed to a reply from it).
const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'ECONNABORTED',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
]);

/** The network error code in `error` or what it wraps (`cause`), when it says the server is unreachable. */
export function unreachableCode(error: unknown): string | undefined {
  for (
    let e = error, depth = 0;
    e && typeof e === 'object' && depth < 5;
    e = (e as { cause?: unknown }).cause, depth++
  ) {
    const { code, name } = e as { code?: unknown; name?: unknown };
    if (typeof code === 'string' && UNREACHABLE.has(code)) return code;
    if (name === 'TimeoutError' || name === 'AbortError') return 'ETIMEDOUT';
  }
  return undefined;
}

/** Runs `work` over `items` with at most `limit` in flight; results in item order. */
export async function mapBounded<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return results;
}

export { ProviderError, RejectedError, TransportDownError };
