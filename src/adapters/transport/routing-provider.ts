/**
 * The provider the consumer talks to: each channel's sends go through the transport configured for it
 * (SMTP, a webhook, MQTT) or, by default, the mock provider. A real transport keeps the mock's
 * idempotency record in Redis (one hash per window of event time, field = event id, value = the
 * channels accepted), read before sending and written once the server accepted: a send recorded is
 * `already-accepted` and not sent again; a crash between the server's acceptance and the record
 * resends with the same idempotency key (at least once, with a stable key: docs/guarantees.md).
 */
import { crashPoint } from '../../pipeline/crash-point.js';
import { isPermanent, PermanentError } from '../../pipeline/errors.js';
import { DEDUPE_WINDOW_SECONDS } from '../../config/retention.js';
import {
  ProviderError,
  TransportDownError,
  type NotificationProvider,
  type SendRequest,
  type SendResult,
} from '../../pipeline/ports.js';
import type { TransportOutcome } from '../../telemetry/outcomes.js';
import { probeDelay, type Outages } from '../../pipeline/outages.js';
import type { RedisClient } from '../redis/client.js';
import { eventGeneration, providerSentKey } from '../redis/keys.js';
import { idempotencyKey, mapBounded, type Transport, type TransportHealth } from './transport.js';

type Slot = SendResult | ProviderError | PermanentError;

// Adds channels to events' records, atomically: KEYS[1] the window's hash; ARGV[1] its TTL, then pairs
// (event id, channel). A channel already in an event's record is left alone.
const RECORD_SENT = `
for i = 2, #ARGV, 2 do
  local id, channel = ARGV[i], ARGV[i + 1]
  local known = redis.call('HGET', KEYS[1], id)
  if not known then
    redis.call('HSET', KEYS[1], id, channel)
  else
    local found = false
    for name in string.gmatch(known, '[^,]+') do if name == channel then found = true break end end
    if not found then redis.call('HSET', KEYS[1], id, known .. ',' .. channel) end
  end
end
redis.call('EXPIRE', KEYS[1], ARGV[1])
return 1`;

/** What the status line says of a channel's transport. */
export interface ChannelTransport {
  channel: string;
  /** `mock`, or the transport's URL without secrets. */
  via: string;
  /** Absent for the mock (it is Redis: its health is Redis's). */
  health?: TransportHealth;
}

export interface RoutingProviderOptions {
  mock: NotificationProvider;
  /** Channel → its real transport; a channel not named goes to the mock. */
  transports: ReadonlyMap<string, Transport>;
  idempotencyWindowSeconds?: number;
  now?: () => number;
}

export class RoutingProvider implements NotificationProvider {
  private readonly windowSeconds: number;
  private readonly now: () => number;

  constructor(
    private readonly redis: RedisClient,
    private readonly options: RoutingProviderOptions,
  ) {
    this.windowSeconds = options.idempotencyWindowSeconds ?? DEDUPE_WINDOW_SECONDS;
    this.now = options.now ?? Date.now;
    this.redis.defineCommand('etuiRecordSent', { numberOfKeys: 1, lua: RECORD_SENT });
  }

  /** The transport of each channel, as the status bar and `--output stats` show it. */
  routes(channels: readonly string[]): { channel: string; via: string; transport?: Transport }[] {
    return channels.map((channel) => {
      const transport = this.options.transports.get(channel);
      return transport ? { channel, via: transport.label, transport } : { channel, via: 'mock' };
    });
  }

  /**
   * Publishes each channel's transport now, then probes the real ones (SMTP: verify; MQTT: connected;
   * webhook: a connection when its last request found it down), publishing when one starts or stops
   * answering. Every `everyMs` while all answer; while one is down (by the probe or, in `outages`, by
   * this consumer's sends, which alone mark it down), with a backoff from 250 ms doubling to at most 5 s. A transport that answers
   * is marked up in `outages` and `wake` makes its parked sends due (at every answering probe: sends
   * parked by a consumer whose view lagged are picked up by the next one). Returns the function that stops it.
   */
  watch(
    channels: readonly string[],
    publish: (o: TransportOutcome) => void,
    options: { everyMs?: number; outages?: Outages; wake?: (channel: string) => Promise<unknown> } = {},
  ): () => void {
    const everyMs = options.everyMs ?? 5_000;
    const { outages, wake } = options;
    const routes = this.routes(channels);
    const last = new Map<string, string>();
    // When the probe first found each channel's transport not answering (the sends' view comes first).
    const probedDown = new Map<string, number>();
    const emit = (channel: string, via: string, health?: TransportHealth): void => {
      const since = health?.answers === false ? (outages?.get(channel)?.since ?? probedDown.get(channel)) : undefined;
      const state = `${via} ${String(health?.answers)} ${String(since)}`;
      if (last.get(channel) === state) return;
      last.set(channel, state);
      const o: TransportOutcome = { kind: 'transport', channel, via, at: this.now() };
      if (health) {
        o.answers = health.answers;
        o.detail = health.detail;
      }
      if (since !== undefined) o.since = since;
      publish(o);
    };
    for (const r of routes) emit(r.channel, r.via, r.transport ? { answers: null, detail: 'checking' } : undefined);
    let stopped = false;
    let timer: NodeJS.Timeout | undefined;
    let probing = false;
    let downProbes = 0;
    const probe = async (): Promise<void> => {
      probing = true;
      let anyDown = false;
      await Promise.all(
        routes.map(async (r) => {
          if (!r.transport) return;
          const health = await r.transport
            .probe()
            .catch((error: unknown) => ({ answers: false, detail: (error as Error).message }));
          if (stopped) return;
          // Only the sends mark a transport down (every try refused): a probe's "no" may be a connection
          // still being made (MQTT at start). A probe's "yes" marks it up and wakes its parked sends.
          if (health.answers === false) {
            anyDown = true;
            if (!probedDown.has(r.channel)) probedDown.set(r.channel, this.now());
          } else if (health.answers === true) {
            probedDown.delete(r.channel);
            outages?.markUp(r.channel);
            await wake?.(r.channel).catch(() => undefined);
          } else if (outages?.get(r.channel)) anyDown = true;
          if (!stopped) emit(r.channel, r.via, health);
        }),
      );
      probing = false;
      if (stopped) return;
      downProbes = anyDown ? downProbes + 1 : 0;
      schedule(anyDown ? probeDelay(downProbes - 1) : everyMs);
    };
    const schedule = (ms: number): void => {
      clearTimeout(timer);
      timer = setTimeout(() => void probe(), ms);
      timer.unref();
    };
    // A send that finds its transport down: probed soon (not at the next 5-s tick).
    outages?.onDown(() => {
      if (stopped || probing || downProbes > 0) return;
      downProbes = 1;
      schedule(probeDelay(0));
    });
    if (routes.some((r) => r.transport)) {
      void probe();
    }
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }

  async sendMany(requests: readonly SendRequest[]): Promise<Slot[]> {
    const { transports, mock } = this.options;
    if (transports.size === 0) return mock.sendMany(requests);
    const results: Slot[] = new Array(requests.length);
    const toMock: number[] = [];
    const toReal = new Map<Transport, number[]>();
    for (let i = 0; i < requests.length; i++) {
      const transport = transports.get(requests[i]!.channel);
      if (!transport) toMock.push(i);
      else {
        let slots = toReal.get(transport);
        if (!slots) toReal.set(transport, (slots = []));
        slots.push(i);
      }
    }
    const work: Promise<void>[] = [];
    if (toMock.length > 0)
      work.push(
        mock.sendMany(toMock.map((i) => requests[i]!)).then((answers) => {
          for (let j = 0; j < toMock.length; j++) results[toMock[j]!] = answers[j]!;
        }),
      );
    for (const [transport, slots] of toReal) work.push(this.viaTransport(transport, requests, slots, results));
    await Promise.all(work);
    return results;
  }

  async send(request: SendRequest): Promise<SendResult> {
    const [result] = await this.sendMany([request]);
    if (result instanceof Error) throw result;
    return result!;
  }

  private generation(request: SendRequest): number {
    return eventGeneration(request.occurredAtMs, this.windowSeconds, this.now);
  }

  /**
   * The sends in `slots` through `transport`: the records read (one HMGET per window), the ones not
   * recorded delivered concurrently (bounded), the accepted ones recorded (one script call per window).
   * A record hash of another type fails those sends as `store-error` before anything is sent.
   */
  private async viaTransport(
    transport: Transport,
    requests: readonly SendRequest[],
    slots: readonly number[],
    results: Slot[],
  ): Promise<void> {
    const byWindow = new Map<number, number[]>();
    for (const slot of slots) {
      const g = this.generation(requests[slot]!);
      let mine = byWindow.get(g);
      if (!mine) byWindow.set(g, (mine = []));
      mine.push(slot);
    }
    const toSend: number[] = [];
    const repeats = new Map<number, number>();
    await Promise.all(
      [...byWindow].map(async ([generation, mine]) => {
        let known: (string | null)[];
        try {
          known = await this.redis.hmget(providerSentKey(generation), ...mine.map((s) => requests[s]!.eventId));
        } catch (error) {
          if (!isPermanent(error)) throw error;
          for (const s of mine)
            results[s] = new PermanentError(`${requests[s]!.channel}: ${(error as Error).message}`, error);
          return;
        }
        // The same (event, channel) twice in the batch: sent once, the repeat is `already-accepted`.
        const first = new Map<string, number>();
        for (let j = 0; j < mine.length; j++) {
          const slot = mine[j]!;
          const { eventId, channel } = requests[slot]!;
          const record = known[j];
          const pair = `${channel}\u0000${eventId}`;
          const before = first.get(pair);
          if (record && record.split(',').includes(channel)) results[slot] = 'already-accepted';
          else if (before !== undefined) repeats.set(slot, before);
          else {
            first.set(pair, slot);
            toSend.push(slot);
          }
        }
      }),
    );
    const accepted: number[] = [];
    // Once a send of the batch found the transport not answering, the ones not started yet fail alike
    // without a try: a batch does not wait out one time-out after another (the processor parks them).
    let down: TransportDownError | undefined;
    await mapBounded(toSend, transport.concurrency, async (slot) => {
      const r = requests[slot]!;
      if (down) {
        results[slot] = down;
        return;
      }
      try {
        await transport.deliver({
          key: idempotencyKey(r.eventId, r.channel),
          eventId: r.eventId,
          channel: r.channel,
          userId: r.userId,
          address: r.address,
          text: r.text,
          type: r.type ?? '',
          occurredAt:
            r.occurredAt ?? new Date(Number.isFinite(r.occurredAtMs) ? r.occurredAtMs : this.now()).toISOString(),
        });
        results[slot] = 'accepted';
        accepted.push(slot);
      } catch (error) {
        if (error instanceof TransportDownError) down ??= error;
        results[slot] =
          error instanceof ProviderError || error instanceof PermanentError
            ? error
            : new ProviderError(`${r.channel} via ${transport.label}: ${(error as Error).message}`);
      }
    });
    if (accepted.length > 0) crashPoint('transport-before-record');
    await this.record(requests, accepted);
    // A repeat in the batch whose first went out: already accepted; whose first failed: failed alike.
    for (const [slot, first] of repeats) {
      const outcome = results[first]!;
      results[slot] = outcome === 'accepted' ? 'already-accepted' : outcome;
    }
  }

  /** Writes the records of the accepted sends: once this resolves, a resend is `already-accepted`. */
  private async record(requests: readonly SendRequest[], accepted: readonly number[]): Promise<void> {
    const byWindow = new Map<number, string[]>();
    for (const slot of accepted) {
      const r = requests[slot]!;
      const g = this.generation(r);
      let args = byWindow.get(g);
      if (!args) byWindow.set(g, (args = []));
      args.push(r.eventId, r.channel);
    }
    type RecordSent = (key: string, ttl: number, ...pairs: string[]) => Promise<number>;
    const recordSent = (this.redis as unknown as { etuiRecordSent: RecordSent }).etuiRecordSent.bind(this.redis);
    await Promise.all(
      [...byWindow].map(([generation, pairs]) =>
        recordSent(providerSentKey(generation), this.windowSeconds * 2, ...pairs),
      ),
    );
  }

  async close(): Promise<void> {
    await Promise.all([...new Set(this.options.transports.values())].map((t) => t.close().catch(() => undefined)));
  }
}
