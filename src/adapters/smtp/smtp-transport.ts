/**
 * Email over SMTP with nodemailer's pooled transport: a few connections kept open, messages queued
 * over them; STARTTLS when the server offers it (`smtps://` for TLS from the first byte). The
 * Message-ID is derived from (event id, channel), so a resend after a crash carries the same one.
 */
import { readFileSync } from 'node:fs';
import nodemailer from 'nodemailer';
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

export interface SmtpSettings {
  /** `smtp://[user@]host[:port]` or `smtps://`; never with a password in it (see `password`). */
  url: string;
  password?: string | undefined;
  /** A PEM file of the CA to trust. */
  ca?: string | undefined;
  from: string;
  /** Connections kept open (default 10). */
  maxConnections?: number;
}

export const DEFAULT_SMTP_FROM = 'eventstream-tui <notifications@localhost>';

/** The Message-ID of (event id, channel)'s email, from its idempotency key: `<email_1a2b…@eventstream-tui>`. */
export const messageIdOf = (key: string): string => `<${key}@eventstream-tui>`;

/** The channel's text is `Subject: …`, a blank line, the body (email.channel.ts); other text is all body. */
export function subjectAndBody(text: string): { subject: string; body: string } {
  const match = /^Subject: ([^\n]*)\n\n?([\s\S]*)$/.exec(text);
  return match ? { subject: match[1]!, body: match[2]! } : { subject: 'Notification', body: text };
}

interface SmtpError {
  code?: unknown;
  responseCode?: unknown;
  response?: unknown;
  message?: unknown;
}

/**
 * Nodemailer's error in the pipeline's words: a 5xx reply (but 503, a session out of step) rejects the
 * message for good; a 4xx is "not now"; a failed login is "not now" too (it concerns every message
 * alike, not this one); a connection refused, closed, timed out or a name that does not resolve is the
 * server being down.
 */
export function classifySmtpError(error: unknown, label: string): ProviderError | RejectedError {
  const e = (error ?? {}) as SmtpError;
  const message = typeof e.message === 'string' ? e.message : String(error);
  const reply = sanitizeReply(typeof e.response === 'string' ? e.response : message);
  const code = typeof e.code === 'string' ? e.code : undefined;
  const status = typeof e.responseCode === 'number' ? e.responseCode : undefined;
  if (code === 'EAUTH') return new ProviderError(`${label} refused the login: ${reply}`);
  if (status !== undefined && status >= 500 && status < 600 && status !== 503) return new RejectedError(reply);
  if (status !== undefined && status >= 400) return new ProviderError(`${label} answered ${reply}`);
  // Nodemailer puts its own code (ESOCKET, ECONNECTION, EDNS) over the network's: the message keeps it.
  const down =
    /\b(ECONNREFUSED|ETIMEDOUT|ENOTFOUND|EAI_AGAIN|ECONNRESET|EHOSTUNREACH|ENETUNREACH)\b/.exec(message)?.[1] ??
    unreachableCode(error) ??
    (code && ['ECONNECTION', 'ETIMEDOUT', 'ESOCKET', 'EDNS'].includes(code) ? code : undefined);
  if (down) return new TransportDownError(label, `${label} unreachable: ${sanitizeReply(message)}`, down);
  return new ProviderError(`${label}: ${sanitizeReply(message)}`);
}

export class SmtpTransport implements Transport {
  readonly kind = 'smtp';
  readonly label: string;
  readonly concurrency: number;
  private readonly mailer: ReturnType<typeof nodemailer.createTransport>;
  private health: TransportHealth = { answers: null, detail: 'not checked yet' };
  private probing: Promise<TransportHealth> | undefined;

  constructor(private readonly settings: SmtpSettings) {
    const url = new URL(settings.url);
    this.label = shownUrl(settings.url);
    const secure = url.protocol === 'smtps:';
    const maxConnections = settings.maxConnections ?? 10;
    this.concurrency = maxConnections * 16;
    const user = decodeURIComponent(url.username);
    this.mailer = nodemailer.createTransport({
      pool: true,
      maxConnections,
      maxMessages: Infinity,
      host: url.hostname.replace(/^\[|\]$/g, ''),
      port: url.port ? Number(url.port) : secure ? 465 : 25,
      secure,
      ...(user ? { auth: { user, pass: settings.password ?? '' } } : {}),
      ...(settings.ca ? { tls: { ca: readFileSync(settings.ca, 'utf8') } } : {}),
      connectionTimeout: 5_000,
      greetingTimeout: 5_000,
      socketTimeout: 20_000,
      logger: false,
      debug: false,
    });
    // A pooled connection's error surfaces through the sends that fail.
    this.mailer.on('error', () => undefined);
  }

  async deliver(m: TransportMessage): Promise<void> {
    const { subject, body } = subjectAndBody(m.text);
    try {
      await this.mailer.sendMail({
        from: this.settings.from,
        to: m.address,
        subject,
        text: body,
        messageId: messageIdOf(m.key),
        headers: { 'X-Eventstream-Event': m.eventId.length <= 200 ? encodeURIComponent(m.eventId) : m.key },
      });
      this.health = { answers: true, detail: 'accepted' };
    } catch (error) {
      const classified = classifySmtpError(error, this.label);
      if (classified instanceof TransportDownError) this.health = { answers: false, detail: classified.message };
      else this.health = { answers: true, detail: classified.message };
      throw classified;
    }
  }

  /** SMTP verify (a connection, EHLO, the login): one at a time. */
  probe(): Promise<TransportHealth> {
    this.probing ??= this.mailer
      .verify()
      .then(
        () => (this.health = { answers: true, detail: 'answers' }),
        (error: unknown) => {
          const classified = classifySmtpError(error, this.label);
          return (this.health = {
            answers: !(classified instanceof TransportDownError),
            detail: classified.message,
          });
        },
      )
      .finally(() => (this.probing = undefined));
    return this.probing;
  }

  async close(): Promise<void> {
    this.mailer.close();
  }
}
