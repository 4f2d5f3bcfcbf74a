/**
 * Whether Kafka and Redis answer, the group's lag, and whether this member holds its partitions: what
 * `/readyz` answers and `eventstream_up` / `eventstream_consumer_lag` export. Every few seconds, one
 * Redis PING and two Kafka admin requests (the topic's high watermarks, the group's committed offsets,
 * on the admin client the pipeline already holds): nothing per event.
 */
import type { Pipeline } from './runtime.js';
import { errorText } from '../pipeline/errors.js';
import type { Outcome } from '../telemetry/outcomes.js';
import type { PipelineMetrics, ServiceName } from '../telemetry/metrics.js';

export interface ServiceState {
  up: boolean;
  detail: string;
  /** When it was last probed (ms); 0: not yet. */
  at: number;
}

export interface Readiness {
  ready: boolean;
  /** Why not, in words; absent when ready. */
  reason?: string;
  kafka: ServiceState;
  redis: ServiceState;
  /** The partitions this member holds; null until it has joined its group. */
  partitions: number[] | null;
}

export interface ServiceWatchOptions {
  /** Between probes, ms. */
  intervalMs?: number;
  /** A probe that has not answered in this long counts as down, ms. */
  timeoutMs?: number;
}

/** A probe in flight is never started twice: a service that hangs is not asked again until it answers. */
class Probe {
  private inFlight: Promise<void> | undefined;
  private startedAt = 0;
  state: ServiceState = { up: false, detail: 'not probed yet', at: 0 };

  constructor(
    private readonly run: () => Promise<string>,
    private readonly timeoutMs: number,
  ) {}

  async probe(): Promise<void> {
    const now = Date.now();
    if (this.inFlight) {
      if (now - this.startedAt > this.timeoutMs)
        this.state = { up: false, detail: `no answer in ${this.timeoutMs} ms`, at: now };
      return;
    }
    this.startedAt = now;
    const done = this.run().then(
      (detail) => {
        this.state = { up: true, detail, at: Date.now() };
      },
      (error: unknown) => {
        this.state = { up: false, detail: errorText(error), at: Date.now() };
      },
    );
    this.inFlight = done.finally(() => (this.inFlight = undefined));
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        this.state = { up: false, detail: `no answer in ${this.timeoutMs} ms`, at: Date.now() };
        resolve();
      }, this.timeoutMs);
    });
    await Promise.race([this.inFlight, timeout]);
    clearTimeout(timer);
  }
}

export class ServiceWatch {
  private readonly kafka: Probe;
  private readonly redis: Probe;
  /** The member's partitions since it last joined; null while it is not a member (joining, crashed, stopped). */
  private partitions: number[] | null = null;
  private timer: NodeJS.Timeout | undefined;
  private readonly unsubscribe: () => void;
  private readonly intervalMs: number;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly pipeline: Pipeline,
    private readonly metrics: PipelineMetrics | undefined,
    options: ServiceWatchOptions = {},
  ) {
    this.intervalMs = options.intervalMs ?? 2_000;
    const timeoutMs = options.timeoutMs ?? 2_500;
    const { settings, log, redis } = pipeline;
    let topicSeen = false;
    this.kafka = new Probe(async () => {
      // Not one offsets request for a topic that does not exist yet: kafkajs' admin would keep it in its
      // metadata requests, and the pipeline's own creation of it would fail.
      if (!topicSeen) {
        topicSeen = (await log.listTopics()).includes(settings.topic);
        if (!topicSeen) return `topic ${settings.topic} not created yet`;
      }
      const [ends, committed] = await Promise.all([
        log.topicOffsets(settings.topic),
        log.committedOffsets(settings.group, settings.topic),
      ]);
      const lag = new Map<number, number>();
      for (const end of ends) {
        const c = committed.get(end.partition);
        const from = c !== undefined ? BigInt(c) : BigInt(end.low);
        lag.set(end.partition, Number(BigInt(end.high) > from ? BigInt(end.high) - from : 0n));
      }
      this.metrics?.setLag(settings.topic, lag);
      return `${ends.length} partition(s) of ${settings.topic}`;
    }, timeoutMs);
    this.redis = new Probe(async () => {
      // ioredis queues commands while it reconnects: a client that is not ready is down now. (The
      // embedded stand-in has no status: its PING answers.)
      const status = (redis as { status?: string }).status;
      if (status !== undefined && status !== 'ready') throw new Error(`the Redis client is ${status}`);
      await redis.ping();
      return 'PING answered';
    }, timeoutMs);
    this.unsubscribe = pipeline.telemetry.subscribe(this.listener, ['assignment', 'connection']);
  }

  /** The consumer's own word on its membership: it holds its partitions from a join to a crash or a stop. */
  private readonly listener = (o: Outcome): void => {
    if (o.kind === 'assignment') this.partitions = o.partitions;
    else if (o.kind === 'connection' && o.service === 'kafka' && o.state !== 'connected') this.partitions = null;
  };

  /** Probes now, then every interval until {@link stop}. */
  start(): void {
    const tick = async (): Promise<void> => {
      this.running = this.probeOnce();
      await this.running;
      if (this.stopped) return;
      this.timer = setTimeout(() => void tick(), this.intervalMs);
      this.timer.unref();
    };
    void tick();
  }

  async probeOnce(): Promise<void> {
    await Promise.all([this.kafka.probe(), this.redis.probe()]);
    for (const service of ['kafka', 'redis'] as const) this.metrics?.setUp(service, this.state(service).up);
  }

  state(service: ServiceName): ServiceState {
    return (service === 'kafka' ? this.kafka : this.redis).state;
  }

  readiness(): Readiness {
    const kafka = this.kafka.state;
    const redis = this.redis.state;
    const reasons: string[] = [];
    if (!kafka.up) reasons.push(`kafka: ${kafka.detail}`);
    if (!redis.up) reasons.push(`redis: ${redis.detail}`);
    if (this.partitions === null) reasons.push(`consumer: not a member of group ${this.pipeline.settings.group} yet`);
    return {
      ready: reasons.length === 0,
      ...(reasons.length > 0 ? { reason: reasons.join('; ') } : {}),
      kafka,
      redis,
      partitions: this.partitions,
    };
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe();
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }
}
