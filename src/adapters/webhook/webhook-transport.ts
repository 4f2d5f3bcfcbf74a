/**
 * Signed webhooks (Standard Webhooks, https://www.standardwebhooks.com): one POST per message to one
 * endpoint for every user (a relay), over keep-alive connections. 2xx: accepted; 408, 429 (with its
 * Retry-After) and 5xx: not now; any other status (3xx included: no redirect is followed) rejected.
 *
 * undici's connection pool (the library inside Node's fetch), called directly: against a local
 * server on 2 cores, Node 20's global fetch made 1,900-2,400 requests/s at 450-600 µs of CPU each,
 * node:http with a keep-alive agent 5,500-6,400/s at 110-170 µs, an undici Pool 13,700-14,300/s at
 * 40-70 µs (the target is 5,000/s; bench/transports.ts measures it end to end).
 */
import { createHmac } from 'node:crypto';
import { connect } from 'node:net';
import { Pool } from 'undici';
import {
  ProviderError,
  RejectedError,
  sanitizeReply,
  shownUrl,
  TransportDownError,
  unreachableCode,
  type Transport,
  type TransportHealth,
  type TransportMessage,
} from '../transport/transport.js';

export interface WebhookSettings {
  url: string;
  /** `whsec_<base64>` (the spec's form: the key is the decoded bytes) or any other string (its UTF-8 bytes). */
  secret: string;
  /** Per request (default 10 s). */
  timeoutMs?: number;
  /** Requests in flight at once (default 64). */
  concurrency?: number;
  /** Connections kept open to the endpoint (default 16). */
  connections?: number;
  /** A PEM CA to trust for https. */
  ca?: string;
  now?: () => number;
}

/** The body of a webhook: docs/contracts.md. */
export interface WebhookBody {
  /** The idempotency key of (event id, channel), also the `webhook-id` header. */
  id: string;
  eventId: string;
  type: string;
  userId: string;
  occurredAt: string;
  text: string;
}

/** The signing key of a secret: a `whsec_` secret's base64 bytes, else the secret's UTF-8 bytes. */
export function signingKey(secret: string): Buffer {
  return secret.startsWith('whsec_')
    ? Buffer.from(secret.slice('whsec_'.length), 'base64')
    : Buffer.from(secret, 'utf8');
}

/** `v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">`. */
export function webhookSignature(key: Buffer, id: string, timestamp: number, body: string): string {
  return `v1,${createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64')}`;
}

/** `Retry-After` (seconds or an HTTP date) in ms from `now`; undefined when absent or unreadable. */
export function retryAfterMs(header: string | null, now: number): number | undefined {
  if (header === null || header.trim() === '') return undefined;
  const value = header.trim();
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** A response's status in the pipeline's words (undefined: accepted). */
export function classifyStatus(
  status: number,
  reply: string,
  retryAfter: number | undefined,
  label: string,
): ProviderError | RejectedError | undefined {
  if (status >= 200 && status < 300) return undefined;
  const said = sanitizeReply(`${status}${reply ? ` ${reply}` : ''}`);
  if (status === 408 || status === 429 || status >= 500)
    return new ProviderError(`${label} answered ${said}`, retryAfter);
  return new RejectedError(said);
}

export class WebhookTransport implements Transport {
  readonly kind = 'webhook';
  readonly label: string;
  readonly concurrency: number;
  private readonly key: Buffer;
  private readonly now: () => number;
  private health: TransportHealth = { answers: null, detail: 'no request yet' };
  private readonly url: URL;
  private readonly path: string;
  private readonly pool: Pool;
  private readonly timeoutMs: number;

  constructor(private readonly settings: WebhookSettings) {
    this.label = shownUrl(settings.url);
    this.url = new URL(settings.url);
    this.path = `${this.url.pathname}${this.url.search}`;
    this.key = signingKey(settings.secret);
    this.concurrency = settings.concurrency ?? 64;
    this.now = settings.now ?? Date.now;
    this.timeoutMs = settings.timeoutMs ?? 10_000;
    this.pool = new Pool(this.url.origin, {
      connections: settings.connections ?? 16,
      connectTimeout: this.timeoutMs,
      headersTimeout: this.timeoutMs,
      bodyTimeout: this.timeoutMs,
      ...(settings.ca ? { connect: { ca: settings.ca } } : {}),
    });
    // A connection's error surfaces through the request that fails.
    this.pool.on('connectionError', () => undefined);
  }

  /** One POST: its status, its body's first 300 characters (read whole: the connection goes back to the pool), its Retry-After. */
  private async post(
    headers: Record<string, string>,
    body: string,
  ): Promise<{ status: number; reply: string; retryAfter: string | null }> {
    const response = await this.pool.request({ path: this.path, method: 'POST', headers, body });
    const reply = await response.body.text();
    const retryAfter = response.headers['retry-after'];
    return {
      status: response.statusCode,
      reply: reply.slice(0, 300),
      retryAfter: typeof retryAfter === 'string' ? retryAfter : null,
    };
  }

  async deliver(m: TransportMessage): Promise<void> {
    const payload: WebhookBody = {
      id: m.key,
      eventId: m.eventId,
      type: m.type,
      userId: m.userId,
      occurredAt: m.occurredAt,
      text: m.text,
    };
    const body = JSON.stringify(payload);
    const timestamp = Math.floor(this.now() / 1000);
    let response: { status: number; reply: string; retryAfter: string | null };
    try {
      response = await this.post(
        {
          'content-type': 'application/json',
          'user-agent': 'eventstream-tui',
          'webhook-id': m.key,
          'webhook-timestamp': String(timestamp),
          'webhook-signature': webhookSignature(this.key, m.key, timestamp, body),
        },
        body,
      );
    } catch (error) {
      const code = unreachableCode(error);
      const message = `${this.label} unreachable: ${sanitizeReply(describe(error))}`;
      this.health = { answers: false, detail: message };
      if (code) throw new TransportDownError(this.label, message, code);
      throw new ProviderError(message);
    }
    this.health = { answers: true, detail: `last answer ${response.status}` };
    const failure = classifyStatus(
      response.status,
      response.reply,
      retryAfterMs(response.retryAfter, this.now()),
      this.label,
    );
    if (failure) throw failure;
  }

  /** The last request's result: a webhook is not called for nothing. */
  /**
   * Its last answer; once that found it unreachable, a TCP connection to it (no request): the sends of
   * a webhook that is down are parked and not tried, so only the probe can see it answer again.
   */
  async probe(): Promise<TransportHealth> {
    if (this.health.answers !== false) return this.health;
    const port = Number(this.url.port) || (this.url.protocol === 'https:' ? 443 : 80);
    const host = this.url.hostname.replace(/^\[|\]$/g, '');
    const connects = await new Promise<boolean>((resolve) => {
      const socket = connect({ host, port, timeout: 2_000 });
      const done = (ok: boolean): void => {
        socket.destroy();
        resolve(ok);
      };
      socket.once('connect', () => done(true));
      socket.once('timeout', () => done(false));
      socket.once('error', () => done(false));
    });
    if (connects) this.health = { answers: true, detail: 'accepts connections again' };
    return this.health;
  }

  async close(): Promise<void> {
    await this.pool.destroy().catch(() => undefined);
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
