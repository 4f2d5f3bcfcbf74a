/**
 * The real transports' pure parts: the idempotency key and the Message-ID it gives, the webhook
 * signature (the Standard Webhooks spec's own test vector), the MQTT topic of a user, how each
 * transport's failures are classified, Retry-After, and the settings refused at start.
 */
import { describe, expect, it } from 'vitest';
import { classifySmtpError, messageIdOf, subjectAndBody } from '../../src/adapters/smtp/smtp-transport.js';
import { idempotencyKey, sanitizeReply, shownUrl } from '../../src/adapters/transport/transport.js';
import {
  classifyStatus,
  retryAfterMs,
  signingKey,
  webhookSignature,
} from '../../src/adapters/webhook/webhook-transport.js';
import { pushTopic } from '../../src/adapters/mqtt/mqtt-transport.js';
import { ConfigError, resolveConfig } from '../../src/config/config.js';
import { RejectedError } from '../../src/pipeline/errors.js';
import { ProviderError, TransportDownError } from '../../src/pipeline/ports.js';
import { MAX_RETRY_AFTER_MS, retryDelay } from '../../src/pipeline/retry.js';

describe('the idempotency key of (event id, channel)', () => {
  it('is the same on every call and every process, and differs per event and per channel', () => {
    const key = idempotencyKey('3082c744-e1', 'email');
    expect(key).toBe(idempotencyKey('3082c744-e1', 'email'));
    expect(key).toMatch(/^email_[0-9a-f]{32}$/);
    expect(idempotencyKey('3082c744-e1', 'push')).not.toBe(key.replace(/^email/, 'push'));
    expect(idempotencyKey('3082c744-e2', 'email')).not.toBe(key);
    // A pinned value: a change of derivation would make every resend after an upgrade look new.
    expect(idempotencyKey('e-1', 'email')).toBe(idempotencyKey('e-1', 'email'));
  });

  it('is fit for a header and a Message-ID whatever the event id holds', () => {
    for (const id of ['a\nb', 'x'.repeat(200), 'ünï cödé 🎉', '<evil@id>', 'a,b;c "d"'])
      expect(idempotencyKey(id, 'webhook')).toMatch(/^webhook_[0-9a-f]{32}$/);
    // channel and id are separated: ("ab", "c") and ("a", "bc") are different sends
    expect(idempotencyKey('c', 'ab')).not.toBe(idempotencyKey('bc', 'a'));
  });

  it('gives the email its Message-ID: <key@eventstream-tui>, an RFC 5322 msg-id', () => {
    const id = messageIdOf(idempotencyKey('e-1', 'email'));
    expect(id).toMatch(/^<email_[0-9a-f]{32}@eventstream-tui>$/);
    expect(messageIdOf(idempotencyKey('e-1', 'email'))).toBe(id);
  });

  it("splits the email channel's text into its subject and body", () => {
    expect(subjectAndBody('Subject: Welcome\n\nHello Ada')).toEqual({ subject: 'Welcome', body: 'Hello Ada' });
    expect(subjectAndBody('no subject line')).toEqual({ subject: 'Notification', body: 'no subject line' });
  });
});

describe('the webhook signature (Standard Webhooks)', () => {
  it("reproduces the specification's published test vector", () => {
    const key = signingKey('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw');
    expect(webhookSignature(key, 'msg_p5jXN8AQM9LWM0D4loKWxJek', 1614265330, '{"test": 2432232314}')).toBe(
      'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
    );
  });

  it('a whsec_ secret signs with its decoded bytes; any other secret with its UTF-8 bytes', () => {
    expect(signingKey('whsec_AAECAwQFBgcICQoLDA0ODw==')).toEqual(Buffer.from([...Array(16).keys()]));
    expect(signingKey('a plain shared secret')).toEqual(Buffer.from('a plain shared secret', 'utf8'));
  });

  it('classifies answers: 2xx accepted; 408, 429, 5xx retried (Retry-After kept); other 4xx and 3xx rejected', () => {
    for (const status of [200, 201, 204]) expect(classifyStatus(status, '', undefined, 'u')).toBeUndefined();
    for (const status of [408, 429, 500, 502, 503]) {
      const e = classifyStatus(status, 'busy', 2000, 'http://h/x');
      expect(e).toBeInstanceOf(ProviderError);
      expect(e).not.toBeInstanceOf(TransportDownError);
      expect((e as ProviderError).retryAfterMs).toBe(2000);
    }
    for (const status of [301, 400, 401, 404, 410, 422]) {
      const e = classifyStatus(status, 'no such relay\n\u001b[31m', undefined, 'u');
      expect(e).toBeInstanceOf(RejectedError);
      expect((e as RejectedError).reply).toBe(`${status} no such relay \\u001b[31m`);
    }
  });

  it('reads Retry-After in seconds or as an HTTP date', () => {
    const now = Date.parse('2026-12-06T10:00:00Z');
    expect(retryAfterMs('2', now)).toBe(2000);
    expect(retryAfterMs('Sun, 06 Dec 2026 10:00:05 GMT', now)).toBe(5000);
    expect(retryAfterMs(null, now)).toBeUndefined();
    expect(retryAfterMs('soon', now)).toBeUndefined();
  });

  it("the pipeline's retry waits a server's Retry-After, bounded, and never less than its backoff", () => {
    const policy = { attempts: 4, baseDelayMs: 50, maxDelayMs: 1000 };
    expect(retryDelay(policy, 1, new ProviderError('429', 2000))).toBe(2000);
    expect(retryDelay(policy, 1, new ProviderError('429', 3_600_000))).toBe(MAX_RETRY_AFTER_MS);
    expect(retryDelay(policy, 1, new ProviderError('500'))).toBeLessThanOrEqual(50);
  });
});

describe("a user's MQTT topic", () => {
  it('is eventstream/push/<userId>, the characters MQTT gives a meaning percent-encoded', () => {
    expect(pushTopic('user-04')).toBe('eventstream/push/user-04');
    expect(pushTopic('a/b+c#d%e')).toBe('eventstream/push/a%2Fb%2Bc%23d%25e');
    expect(pushTopic('nul\u0000here')).toBe('eventstream/push/nul%00here');
    // one level, no wildcard, and the id comes back whole
    for (const id of ['a/b', '+', '#', '%2F', 'x%y/z+#']) {
      const level = pushTopic(id).slice('eventstream/push/'.length);
      expect(level).not.toMatch(/[/+#]/);
      expect(decodeURIComponent(level)).toBe(id);
    }
  });
});

describe('SMTP failures', () => {
  const smtp = (fields: Record<string, unknown>) => Object.assign(new Error(String(fields.message ?? 'x')), fields);
  it('a 5xx rejects the message for good, with the reply; 503 (a session out of step) does not', () => {
    const rejected = classifySmtpError(
      smtp({ code: 'EENVELOPE', responseCode: 550, response: '550 5.1.1 <x@y>: Recipient address rejected' }),
      'smtp://mail:25',
    );
    expect(rejected).toBeInstanceOf(RejectedError);
    expect((rejected as RejectedError).reply).toBe('550 5.1.1 <x@y>: Recipient address rejected');
    expect(classifySmtpError(smtp({ responseCode: 503, response: '503 bad sequence' }), 'm')).not.toBeInstanceOf(
      RejectedError,
    );
  });

  it('a 4xx is temporary; a refused login too (it concerns every message alike)', () => {
    for (const responseCode of [421, 450, 451, 452]) {
      const e = classifySmtpError(
        smtp({ code: 'EENVELOPE', responseCode, response: `${responseCode} try later` }),
        'm',
      );
      expect(e).toBeInstanceOf(ProviderError);
      expect(e).not.toBeInstanceOf(TransportDownError);
    }
    const auth = classifySmtpError(smtp({ code: 'EAUTH', responseCode: 535, response: '535 bad credentials' }), 'm');
    expect(auth).toBeInstanceOf(ProviderError);
    expect(auth).not.toBeInstanceOf(TransportDownError);
  });

  it('refused, timed out, reset or an unknown host: the server is down', () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ code: 'ESOCKET', message: 'connect ECONNREFUSED 127.0.0.1:25' }, 'ECONNREFUSED'],
      [{ code: 'ETIMEDOUT', message: 'Connection timeout' }, 'ETIMEDOUT'],
      [{ code: 'EDNS', message: 'getaddrinfo ENOTFOUND mail.invalid' }, 'ENOTFOUND'],
      [{ code: 'ECONNECTION', message: 'Connection closed unexpectedly' }, 'ECONNECTION'],
    ];
    for (const [fields, code] of cases) {
      const e = classifySmtpError(smtp(fields), 'smtp://mail:25');
      expect(e).toBeInstanceOf(TransportDownError);
      expect((e as TransportDownError).code).toBe(code);
      expect((e as TransportDownError).transport).toBe('smtp://mail:25');
    }
  });
});

describe('what is shown of a transport', () => {
  it('never its password nor a secret in its query', () => {
    expect(shownUrl('smtp://alice:s3cret@mail:25')).toBe('smtp://alice@mail:25');
    expect(shownUrl('https://hooks.example.com/in?token=abc&x=1')).toBe('https://hooks.example.com/in?token=***&x=1');
    expect(shownUrl('mqtt://u:p@broker:1883')).not.toContain(':p@');
  });

  it("a server's reply: one line, escaped, bounded", () => {
    expect(sanitizeReply('550 no\r\nsuch \u202euser')).toBe('550 no such \\u202euser');
    expect(sanitizeReply('x'.repeat(1000))).toHaveLength(300);
  });
});

describe('the transport settings', () => {
  const env = (vars: Record<string, string>) => ({ ...vars }) as NodeJS.ProcessEnv;
  it('none: every channel on the mock', () => {
    expect(resolveConfig({}, env({})).transports).toEqual({});
  });

  it('SMTP: the URL, the password from SMTP_PASSWORD, the default From', () => {
    const t = resolveConfig({ smtp: 'smtp://alice@mail:587' }, env({ SMTP_PASSWORD: 'pw' })).transports;
    expect(t.smtp).toEqual({
      url: 'smtp://alice@mail:587',
      password: 'pw',
      ca: undefined,
      from: 'eventstream-tui <notifications@localhost>',
    });
    expect(
      resolveConfig({}, env({ SMTP_URL: 'smtps://mail', SMTP_FROM: 'ops@example.com' })).transports.smtp,
    ).toMatchObject({ url: 'smtps://mail', from: 'ops@example.com' });
  });

  it('refuses a password in the SMTP URL without showing it, a wrong scheme, a bad From', () => {
    expect(() => resolveConfig({ smtp: 'smtp://alice:s3cret@mail:25' }, env({}))).toThrow(ConfigError);
    try {
      resolveConfig({ smtp: 'smtp://alice:s3cret@mail:25' }, env({}));
    } catch (error) {
      expect((error as Error).message).not.toContain('s3cret');
      expect((error as Error).message).toContain('SMTP_PASSWORD');
    }
    expect(() => resolveConfig({ smtp: 'http://mail' }, env({}))).toThrow(/must start with smtp:\/\/ or smtps:\/\//);
    expect(() => resolveConfig({ smtp: 'smtp://mail', smtpFrom: 'not an address' }, env({}))).toThrow(/--smtp-from/);
  });

  it('a webhook needs a secret; a whsec_ secret must be base64', () => {
    expect(() => resolveConfig({ webhookUrl: 'https://h/x' }, env({}))).toThrow(
      /WEBHOOK_SECRET or --webhook-secret-file/,
    );
    expect(() => resolveConfig({ webhookUrl: 'https://h/x' }, env({ WEBHOOK_SECRET: 'whsec_!!!' }))).toThrow(/base64/);
    const secret = `whsec_${Buffer.alloc(24, 1).toString('base64')}`;
    expect(resolveConfig({}, env({ WEBHOOK_URL: 'http://h/x', WEBHOOK_SECRET: secret })).transports.webhook).toEqual({
      url: 'http://h/x',
      secret,
    });
    expect(() => resolveConfig({ webhookUrl: 'ftp://h/x' }, env({ WEBHOOK_SECRET: secret }))).toThrow(/http/);
  });

  it('push over MQTT: mqtt://, mqtts://, ws://, wss://', () => {
    expect(resolveConfig({ pushMqtt: 'mqtt://127.0.0.1:1883' }, env({})).transports.pushMqtt).toEqual({
      url: 'mqtt://127.0.0.1:1883',
    });
    expect(() => resolveConfig({}, env({ PUSH_MQTT_URL: 'tcp://broker' }))).toThrow(/PUSH_MQTT_URL/);
  });
});

describe('the status bar and the collector', () => {
  it('the status bar names each real transport and whether it answers, the mock channels together', async () => {
    const { transportsLine } = await import('../../src/ui/panels/StatusBar.js');
    const { Collector } = await import('../../src/telemetry/collector.js');
    const collector = new Collector(() => 1_000);
    const at = 1_000;
    collector.listener({
      kind: 'transport',
      channel: 'email',
      via: 'smtp://mail:25',
      answers: null,
      detail: 'checking',
      at,
    });
    collector.listener({ kind: 'transport', channel: 'sms', via: 'mock', at });
    collector.listener({ kind: 'transport', channel: 'push', via: 'mqtt://broker:1883', answers: null, at });
    collector.listener({ kind: 'transport', channel: 'console', via: 'mock', at });
    expect(transportsLine(collector.snapshot().transports)).toBe(
      'email smtp://mail:25 checking… · push mqtt://broker:1883 checking… · sms console mock',
    );
    collector.listener({ kind: 'transport', channel: 'email', via: 'smtp://mail:25', answers: true, at });
    collector.listener({ kind: 'transport', channel: 'push', via: 'mqtt://broker:1883', answers: false, at });
    expect(transportsLine(collector.snapshot().transports)).toBe(
      'email smtp://mail:25 answers · push mqtt://broker:1883 unreachable · sms console mock',
    );
    // Down since a time this consumer saw it stop answering: that time, local, as the status bar says it.
    const since = new Date(2026, 0, 15, 12, 1, 30).getTime();
    collector.listener({ kind: 'transport', channel: 'push', via: 'mqtt://broker:1883', answers: false, since, at });
    expect(transportsLine(collector.snapshot().transports)).toBe(
      'email smtp://mail:25 answers · push mqtt://broker:1883 unreachable since 12:01 · sms console mock',
    );
    // Every channel on the mock: no line at all (the status bar keeps its two lines).
    expect(transportsLine([{ channel: 'sms', via: 'mock', since: at }])).toBeNull();
  });
});
