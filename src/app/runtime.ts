/**
 * Wiring: settings → a partitioned log and a Redis → topics → producer and
 * consumer. The same pipeline runs on Kafka and Redis, or embedded on their
 * in-process stand-ins, headless or under the dashboard.
 */
import type { Kafka } from 'kafkajs';
import { createRequire } from 'node:module';
import { createKafka } from '../adapters/kafka/client.js';
import { KafkaEventLog } from '../adapters/kafka/event-log.js';
import { dlqTopicOf } from '../adapters/kafka/topics.js';
import { MemoryEventLog } from '../adapters/memory/event-log.js';
import { createRedis, createRedisCluster, isClusterNode, type RedisClient } from '../adapters/redis/client.js';
import { MockProvider } from '../adapters/redis/provider.js';
import { RedisStore } from '../adapters/redis/store.js';
import { RedisSchedule } from '../adapters/redis/schedule.js';
import { Outages } from '../pipeline/outages.js';
import { clockNow } from '../pipeline/clock.js';
import { RedisCapCounter } from '../adapters/redis/caps.js';
import { RedisDigestStore } from '../adapters/redis/digests.js';
import { RedisReplicaWait } from '../adapters/redis/replicas.js';
import { redactUrl, type Config, type KafkaSecurity, type TransportSettings } from '../config/config.js';
import { RoutingProvider } from '../adapters/transport/routing-provider.js';
import type { Transport } from '../adapters/transport/transport.js';
import { SmtpTransport } from '../adapters/smtp/smtp-transport.js';
import { WebhookTransport } from '../adapters/webhook/webhook-transport.js';
import { MqttTransport } from '../adapters/mqtt/mqtt-transport.js';
import { checkServices, ServiceUnavailableError } from './services.js';
import { loadCatalog, type Catalog } from '../domain/catalog.js';
import type { EventEnvelope } from '../domain/envelope.js';
import { sampleUsers } from '../domain/sample-users.js';
import type { Logger } from '../log/logger.js';
import { Telemetry } from '../telemetry/telemetry.js';
import { NotificationConsumer } from '../pipeline/consumer.js';
import { DeadLetterTopic } from '../pipeline/dead-letter-topic.js';
import type { EventLog, LogProducer } from '../pipeline/event-log.js';
import { kafkajsPatchProblem } from '../adapters/kafka/patch-check.js';
import { EventProducer } from '../pipeline/producer.js';

// The dashboard's Kafka health probe (declared with the Kafka adapter).
export { probeBrokers } from '../adapters/kafka/probe.js';

export interface PipelineSettings {
  brokers: string[];
  redisUrl: string;
  topic: string;
  group: string;
  partitions: number;
  fromBeginning: boolean;
  maxBytes: number;
  latencyMs: number;
  /** The dedupe ledger's and the providers' idempotency window, seconds. */
  dedupeWindowSeconds: number;
  /** How long sends of a transport that is down are parked before they are dead-lettered, ms. */
  outageHoldMs?: number;
  failureRate: number;
  /** Messages each mock provider's outbox keeps (EVENTSTREAM_OUTBOX_MAXLEN; a longer one for audits). */
  outboxMaxLen?: number;
  clientId?: string;
  kafkaSecurity?: KafkaSecurity;
  redisCa?: string | undefined;
  /** Real transports per channel (`--smtp`, `--webhook-url`, `--push-mqtt`); none: every channel on the mock. */
  transports?: TransportSettings;
  /** Replicas that must acknowledge a chunk's Redis writes before its commit (`WAIT`); 0 or absent: off. */
  redisWaitReplicas?: number;
  /** The timeout of that `WAIT`, ms. */
  redisWaitTimeoutMs?: number;
}

/** The pipeline flags every command shares; absent ones take their defaults. */
export interface PipelineFlags {
  from?: 'earliest' | 'latest';
  maxBytes?: number;
  latency?: number;
  failureRate?: number;
}

export function pipelineSettings(config: Config, flags: PipelineFlags, clientId?: string): PipelineSettings {
  return {
    brokers: config.brokers,
    redisUrl: config.redisUrl,
    topic: config.topic,
    group: config.group,
    partitions: config.partitions,
    fromBeginning: (flags.from ?? 'earliest') === 'earliest',
    maxBytes: flags.maxBytes ?? 1024 * 1024,
    latencyMs: flags.latency ?? 0,
    dedupeWindowSeconds: config.dedupeWindowSeconds,
    outageHoldMs: config.outageHoldMs,
    failureRate: flags.failureRate ?? 0,
    outboxMaxLen: config.outboxMaxLen,
    kafkaSecurity: config.kafkaSecurity,
    redisCa: config.redisCa,
    transports: config.transports,
    redisWaitReplicas: config.redisWaitReplicas,
    redisWaitTimeoutMs: config.redisWaitTimeoutMs,
    ...(clientId ? { clientId } : {}),
  };
}

/** Connects, turning ioredis' bare "Connection is closed." into what went wrong (WRONGPASS, NOAUTH, TLS...). */
async function connectRedis(redis: RedisClient, url: string): Promise<void> {
  let last: Error | undefined;
  const record = (error: Error): void => {
    last = error;
  };
  redis.on('error', record);
  try {
    await redis.connect();
  } catch (error) {
    redis.disconnect();
    const reason = last?.message ?? (error as Error).message;
    const auth = /WRONGPASS|NOAUTH|NOPERM|invalid username-password/i.test(reason);
    throw new ServiceUnavailableError(
      'redis',
      `Redis at ${redactUrl(url)} refused the connection: ${reason}${auth ? '\n  Check the user and password: --redis / REDIS_URL (redis://user@host:port), with REDIS_PASSWORD or --redis-password-file.' : ''}`,
    );
  } finally {
    redis.off('error', record);
  }
}

export interface Backends {
  log: EventLog;
  redis: RedisClient;
  /** The kafkajs client, when the log is Kafka. */
  kafka?: Kafka;
  embedded: boolean;
}

/** The timeouts of the client the leaders and replicas are read through (KafkaEventLog.topicLayout). */
export const LAYOUT_TIMEOUTS = { connectionMs: 1500, requestMs: 2500 };

export function realBackends(settings: PipelineSettings, logger: Logger): Backends {
  const kafka = createKafka({
    brokers: settings.brokers,
    logger,
    clientId: settings.clientId ?? 'eventstream-tui',
    ...(settings.kafkaSecurity ? { security: settings.kafkaSecurity } : {}),
  });
  // The dashboard's reads of the leaders and replicas: answered in seconds or said as failed, never
  // waited on for the 30 s the pipeline's own requests may take.
  const layoutKafka = createKafka({
    brokers: settings.brokers,
    logger,
    clientId: `${settings.clientId ?? 'eventstream-tui'}-layout`,
    connectionTimeout: LAYOUT_TIMEOUTS.connectionMs,
    requestTimeout: LAYOUT_TIMEOUTS.requestMs,
    retry: { retries: 0 },
    ...(settings.kafkaSecurity ? { security: settings.kafkaSecurity } : {}),
  });
  return {
    log: new KafkaEventLog(kafka, layoutKafka),
    redis: createRedis(settings.redisUrl, { ca: settings.redisCa }),
    kafka,
    embedded: false,
  };
}

/** The real back ends, with a Redis Cluster behind the --redis URL spoken to as a cluster. */
export async function detectBackends(settings: PipelineSettings, logger: Logger): Promise<Backends> {
  const backends = realBackends(settings, logger);
  if (await isClusterNode(settings.redisUrl, { ca: settings.redisCa })) {
    backends.redis.disconnect();
    backends.redis = createRedisCluster(settings.redisUrl, { ca: settings.redisCa });
  }
  return backends;
}

// Loaded only for the embedded stand-ins: ioredis-mock (with a Lua VM) is a tenth of a second of every
// launch, and the dashboard's first frame waits for the modules loaded before it.
const require = createRequire(import.meta.url);

/** How many random users the producer picks from at a time (redrawn every 5 s). */
export const PRODUCER_POOL = 1_000;

/** The real transports the settings name, by the channel each carries: email (SMTP), webhook, push (MQTT). */
export function createTransports(settings: TransportSettings | undefined): Map<string, Transport> {
  const transports = new Map<string, Transport>();
  if (settings?.smtp) transports.set('email', new SmtpTransport(settings.smtp));
  if (settings?.webhook) transports.set('webhook', new WebhookTransport(settings.webhook));
  if (settings?.pushMqtt) transports.set('push', new MqttTransport(settings.pushMqtt));
  return transports;
}

/** In-process stand-ins behind the same ports: a partitioned log and an in-memory Redis. */
export function embeddedBackends(): Backends {
  const RedisMock = require('ioredis-mock') as typeof import('ioredis-mock');
  const redis = new RedisMock() as unknown as RedisClient;
  return { log: new MemoryEventLog(), redis, embedded: true };
}

export class Pipeline {
  readonly telemetry = new Telemetry();
  readonly log: EventLog;
  readonly redis: RedisClient;
  readonly store: RedisStore;
  /** Sends deferred by quiet hours, shared by every consumer (and group) of the topic. */
  readonly schedule: RedisSchedule;
  /** Open digests (`digest.<type>`): their members, read when sent and by the Scheduled view. */
  readonly digests: RedisDigestStore;
  readonly embedded: boolean;
  private dlqProducer: LogProducer | undefined;
  producer: EventProducer | undefined;
  consumer: NotificationConsumer | undefined;
  private provider: RoutingProvider | undefined;
  private replicaWait: RedisReplicaWait | undefined;
  private stopWatching: (() => void) | undefined;
  private userIdCache: string[] = [];
  private userRefresh: NodeJS.Timeout | undefined;

  constructor(
    readonly settings: PipelineSettings,
    readonly catalog: Catalog,
    readonly logger: Logger,
    backends: Backends,
  ) {
    this.log = backends.log;
    this.redis = backends.redis;
    this.embedded = backends.embedded;
    this.store = new RedisStore(this.redis, catalog.channels, settings.dedupeWindowSeconds);
    this.digests = new RedisDigestStore(this.redis, { dedupeWindowSeconds: settings.dedupeWindowSeconds });
    this.schedule = new RedisSchedule(this.redis, (member) =>
      this.telemetry.publish({
        kind: 'error',
        source: 'redis',
        message: `the schedule held an entry that is not one (${member}); removed`,
        at: Date.now(),
      }),
    );
  }

  /** On the real services, after checking that they answer. */
  static async create(
    settings: PipelineSettings,
    logger: Logger,
    need = { kafka: true, redis: true },
  ): Promise<Pipeline> {
    await checkServices(settings.brokers, settings.redisUrl, need, {
      kafka: settings.kafkaSecurity?.tls,
      redisCa: settings.redisCa,
    });
    const backends = need.redis ? await detectBackends(settings, logger) : realBackends(settings, logger);
    const pipeline = new Pipeline(settings, await loadCatalog(), logger, backends);
    if (need.redis) await connectRedis(pipeline.redis, settings.redisUrl);
    const unpatched = need.kafka ? kafkajsPatchProblem() : undefined;
    if (unpatched) logger.warn(unpatched);
    return pipeline;
  }

  /** For the dashboard: no pre-flight checks; the services may come and go while it runs. */
  static async open(settings: PipelineSettings, logger: Logger, backends?: Backends): Promise<Pipeline> {
    const pipeline = new Pipeline(settings, await loadCatalog(), logger, backends ?? realBackends(settings, logger));
    if (!pipeline.embedded) pipeline.redis.connect().catch(() => undefined);
    return pipeline;
  }

  get dlqTopic(): string {
    return dlqTopicOf(this.settings.topic);
  }

  async ensureTopics(): Promise<string[]> {
    return this.log.ensureTopics([this.settings.topic, this.dlqTopic], this.settings.partitions);
  }

  /** Seeds the sample users where absent (never overwriting a changed preference). */
  async seedIfEmpty(): Promise<void> {
    await this.store.seed(sampleUsers(this.catalog.channels), false);
  }

  /**
   * The ids the producer picks from: a random sample of the users (SRANDMEMBER), drawn again every 5 s,
   * never the whole set (a production Redis holds millions). With up to {@link PRODUCER_POOL} users it
   * is all of them.
   */
  async refreshUsers(): Promise<readonly string[]> {
    this.userIdCache = (await this.store.randomUserIds(PRODUCER_POOL)).sort();
    return this.userIdCache;
  }

  async startProducer(rate: number): Promise<EventProducer> {
    await this.refreshUsers();
    this.userRefresh ??= setInterval(() => void this.refreshUsers().catch(() => undefined), 5_000);
    this.userRefresh.unref();
    const producer = new EventProducer({
      log: this.log,
      topic: this.settings.topic,
      catalog: this.catalog,
      telemetry: this.telemetry,
      userIds: () => this.userIdCache,
    });
    await producer.connect();
    producer.start(rate);
    this.producer = producer;
    return producer;
  }

  /**
   * Topics, the sample users (when Redis is ready), the consumer and the producer. A step that fails
   * stops what the others started (the consumer and its dead-letter producer), so that a retry, as the
   * dashboard's connect loop makes every 2 s, starts from nothing and leaks no Kafka client.
   */
  async startAll(rate: number): Promise<EventProducer> {
    try {
      await this.ensureTopics();
      if (this.embedded || this.redis.status === 'ready') await this.seedIfEmpty();
      await this.startConsumer();
      return await this.startProducer(rate);
    } catch (error) {
      await this.stopConsumer();
      throw error;
    }
  }

  /** The consumer settles and commits its batch, then its dead-letter producer disconnects. */
  async stopConsumer(): Promise<void> {
    await this.consumer?.stop().catch(() => undefined);
    this.consumer = undefined;
    this.stopWatching?.();
    this.stopWatching = undefined;
    await this.provider?.close();
    this.provider = undefined;
    this.replicaWait?.close();
    this.replicaWait = undefined;
    await this.dlqProducer?.disconnect().catch(() => undefined);
    this.dlqProducer = undefined;
  }

  async startConsumer(): Promise<NotificationConsumer> {
    this.dlqProducer = await this.log.producer();
    // Each channel through its transport: the mock unless a real one is configured for it.
    const mock = new MockProvider(this.redis, {
      latencyMs: this.settings.latencyMs,
      failureRate: this.settings.failureRate,
      idempotencyWindowSeconds: this.settings.dedupeWindowSeconds,
      ...(this.settings.outboxMaxLen !== undefined ? { outboxMaxLen: this.settings.outboxMaxLen } : {}),
    });
    const provider = new RoutingProvider(this.redis, {
      mock,
      transports: createTransports(this.settings.transports),
      idempotencyWindowSeconds: this.settings.dedupeWindowSeconds,
    });
    this.provider = provider;
    // This consumer's view of the transports that are down: its sends park at once; its probe wakes them.
    const outages = new Outages(clockNow);
    const schedule = this.schedule;
    this.stopWatching = provider.watch(
      this.catalog.channels.map((c) => c.name),
      (o) => this.telemetry.publish(o),
      { outages, wake: (channel) => schedule.wakeParked(channel, clockNow()) },
    );
    const consumer = new NotificationConsumer({
      log: this.log,
      topic: this.settings.topic,
      group: this.settings.group,
      fromBeginning: this.settings.fromBeginning,
      logger: this.logger,
      telemetry: this.telemetry,
      catalog: this.catalog,
      store: this.store,
      provider,
      deadLetters: new DeadLetterTopic(this.dlqProducer, this.dlqTopic),
      maxBytes: this.settings.maxBytes,
      schedule: this.schedule,
      caps: new RedisCapCounter(this.redis),
      digests: this.digests,
      outages,
      ...(this.settings.outageHoldMs !== undefined ? { outageHoldMs: this.settings.outageHoldMs } : {}),
      ...(this.settings.redisWaitReplicas && !this.embedded
        ? {
            replicas: (this.replicaWait = new RedisReplicaWait(
              this.redis,
              this.settings.redisWaitReplicas,
              this.settings.redisWaitTimeoutMs ?? 1000,
            )),
            warn: (message: string) => this.logger.warn(message),
          }
        : {}),
    });
    this.consumer = consumer;
    try {
      await consumer.start();
    } catch (error) {
      await this.stopConsumer();
      throw error;
    }
    return consumer;
  }

  /** Total lag of the consumer group and the topic's partition count. */
  async lag(): Promise<{ lag: number; partitions: number }> {
    const [ends, committed] = await Promise.all([
      this.log.topicOffsets(this.settings.topic),
      this.log.committedOffsets(this.settings.group, this.settings.topic),
    ]);
    let lag = 0n;
    for (const end of ends) {
      const c = committed.get(end.partition);
      const from = c !== undefined ? BigInt(c) : BigInt(end.low);
      if (BigInt(end.high) > from) lag += BigInt(end.high) - from;
    }
    return { lag: Number(lag), partitions: ends.length };
  }

  /** Whether the group has committed up to `ends` (the end offsets taken earlier) on every partition. */
  async caughtUp(ends: { partition: number; low: string; high: string }[]): Promise<boolean> {
    const committed = await this.log.committedOffsets(this.settings.group, this.settings.topic);
    // A group that starts at the end (--from latest) reads a partition it has committed nothing on from
    // its end once it has joined: it is caught up there (like kcat -o end -e), not waiting for new events.
    const startsAtEnd = !this.settings.fromBeginning && this.consumer?.joined === true;
    return ends.every((end) => {
      const offset = committed.get(end.partition);
      if (end.high === end.low) return true;
      return offset === undefined ? startsAtEnd : BigInt(offset) >= BigInt(end.high);
    });
  }

  /**
   * Producer first (nothing new; what it made gets until the deadline to be acknowledged), then the
   * consumer settles and commits its batch, then the clients go. Resolves with the events the broker
   * never acknowledged: empty unless something was lost.
   */
  async stop(): Promise<EventEnvelope[]> {
    if (this.userRefresh) clearInterval(this.userRefresh);
    const unacknowledged = (await this.producer?.stop()) ?? [];
    await this.stopConsumer();
    await this.log.close().catch(() => undefined);
    this.redis.disconnect();
    return unacknowledged;
  }
}
