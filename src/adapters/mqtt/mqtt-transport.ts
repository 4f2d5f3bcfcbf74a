/**
 * Push over MQTT: each message a QoS 1 publish to `eventstream/push/<userId>`, accepted on the
 * broker's PUBACK. One client, reconnecting by itself; a publish while it is not connected waits a
 * little for it, then fails as the broker being down (never queued without a bound).
 */
import { randomUUID } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import {
  ProviderError,
  sanitizeReply,
  shownUrl,
  TransportDownError,
  type Transport,
  type TransportHealth,
  type TransportMessage,
} from '../transport/transport.js';

export interface MqttSettings {
  url: string;
  /** How long a publish waits for its PUBACK, or the client for its connection (default 5 s). */
  timeoutMs?: number;
}

/** The payload of a push: docs/contracts.md. */
export interface PushPayload {
  /** The idempotency key of (event id, channel). */
  id: string;
  eventId: string;
  userId: string;
  text: string;
}

/**
 * The topic of a user's pushes: `eventstream/push/<userId>`, the id percent-encoded where it holds a
 * character MQTT gives a meaning in topics (`+`, `#`, `/`), the escape itself (`%`), or NUL (which no
 * topic may hold): every id has its own topic, one level deep.
 */
export function pushTopic(userId: string): string {
  return `eventstream/push/${userId.replace(/[%+#/\u0000]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`)}`;
}

/** A publish waiting for its PUBACK. */
interface Waiting {
  since: number;
  reject: (error: Error) => void;
}

export class MqttTransport implements Transport {
  readonly kind = 'mqtt';
  readonly label: string;
  readonly concurrency = 1_000;
  private readonly client: MqttClient;
  private readonly timeoutMs: number;
  private lastError = '';
  private readonly waiting = new Set<Waiting>();
  private sweeper: NodeJS.Timeout | undefined;

  constructor(settings: MqttSettings) {
    this.label = shownUrl(settings.url);
    this.timeoutMs = settings.timeoutMs ?? 5_000;
    this.client = mqtt.connect(settings.url, {
      clientId: `eventstream-tui-${randomUUID().slice(0, 8)}`,
      clean: true,
      reconnectPeriod: 1_000,
      connectTimeout: this.timeoutMs,
      protocolVersion: 4,
    });
    this.client.setMaxListeners(0);
    this.client.on('error', (error) => (this.lastError = sanitizeReply(error.message)));
    this.client.on('offline', () => (this.lastError ||= 'offline'));
    this.client.on('connect', () => (this.lastError = ''));
  }

  /** Resolves once connected; a {@link TransportDownError} after the time-out. */
  private connected(): Promise<void> {
    if (this.client.connected) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.client.off('connect', onConnect);
        reject(
          new TransportDownError(
            this.label,
            `${this.label} unreachable${this.lastError ? `: ${this.lastError}` : ''}`,
            'ECONNREFUSED',
          ),
        );
      }, this.timeoutMs);
      const onConnect = (): void => {
        clearTimeout(timer);
        resolve();
      };
      this.client.once('connect', onConnect);
    });
  }

  async deliver(m: TransportMessage): Promise<void> {
    if (!this.client.connected) await this.connected();
    const payload: PushPayload = { id: m.key, eventId: m.eventId, userId: m.userId, text: m.text };
    return new Promise<void>((resolve, reject) => {
      const waiting: Waiting = { since: Date.now(), reject };
      this.waiting.add(waiting);
      this.sweep();
      this.client.publish(pushTopic(m.userId), JSON.stringify(payload), { qos: 1 }, (error) => {
        if (!this.waiting.delete(waiting)) return; // timed out already
        if (error) reject(new ProviderError(`${this.label}: ${sanitizeReply(error.message)}`));
        else resolve();
      });
    });
  }

  /**
   * Publishes without their PUBACK after the time-out fail as the broker being down: one timer for all
   * of them (a timer per publish cost more than the publish), running while any waits.
   */
  private sweep(): void {
    if (this.sweeper) return;
    this.sweeper = setInterval(
      () => {
        const expired = Date.now() - this.timeoutMs;
        for (const w of this.waiting) {
          if (w.since > expired) continue;
          this.waiting.delete(w);
          w.reject(
            new TransportDownError(this.label, `${this.label}: no PUBACK within ${this.timeoutMs} ms`, 'ETIMEDOUT'),
          );
        }
        if (this.waiting.size === 0) {
          clearInterval(this.sweeper);
          this.sweeper = undefined;
        }
      },
      Math.max(50, this.timeoutMs / 5),
    );
    this.sweeper.unref();
  }

  async probe(): Promise<TransportHealth> {
    return this.client.connected
      ? { answers: true, detail: 'connected' }
      : { answers: false, detail: `${this.label} unreachable${this.lastError ? `: ${this.lastError}` : ''}` };
  }

  async close(): Promise<void> {
    if (this.sweeper) clearInterval(this.sweeper);
    await this.client.endAsync(true).catch(() => undefined);
  }
}
