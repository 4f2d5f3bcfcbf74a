/**
 * Wiring: config → clients → topics → producer and consumer. Used by headless
 * mode and by the dashboard alike.
 */
import type { Admin, Kafka, Producer } from 'kafkajs';
import { Partitioners } from 'kafkajs';
import type { Redis } from 'ioredis';
import { createKafka } from '../adapters/kafka/client.js';
import { KafkaDeadLetterSink } from '../adapters/kafka/dead-letters.js';
import { dlqTopicOf, ensureTopics } from '../adapters/kafka/topics.js';
import { createRedis } from '../adapters/redis/client.js';
import { MockProvider } from '../adapters/redis/provider.js';
import { RedisStore } from '../adapters/redis/store.js';
import { hostPort, redisHostPort } from '../config/config.js';
import { loadCatalog, type Catalog } from '../domain/catalog.js';
import { sampleUsers } from '../domain/sample-users.js';
import type { Logger } from '../log/logger.js';
import { probeKafka, probeRedis } from '../stack/probe.js';
import { Telemetry } from '../telemetry/telemetry.js';
import { NotificationConsumer } from './consumer.js';
import { EventProducer } from './producer.js';

export interface PipelineSettings {
  brokers: string[];
  redisUrl: string;
  topic: string;
  group: string;
  partitions: number;
  fromBeginning: boolean;
  maxBytes: number;
  latencyMs: number;
  failureRate: number;
  clientId?: string;
}

export class ServiceUnavailableError extends Error {
  override name = 'ServiceUnavailableError';
  constructor(
    readonly service: 'kafka' | 'redis',
    message: string,
  ) {
    super(message);
  }
}

/** Fails fast, with a message that names the service and how to start it. */
export async function checkServices(
  brokers: string[],
  redisUrl: string,
  need: { kafka: boolean; redis: boolean },
): Promise<void> {
  if (need.kafka) {
    const probes = await Promise.all(brokers.map((b) => probeKafka(hostPort(b).host, hostPort(b).port, 3000)));
    if (!probes.some((p) => p.state === 'answers')) {
      throw new ServiceUnavailableError(
        'kafka',
        `Kafka at ${brokers.join(',')} does not answer (${probes.map((p) => p.detail).join('; ')}).\n  Start the local one with \`eventstream-tui stack up\`, or point --brokers / KAFKA_BROKERS at a running Kafka.`,
      );
    }
  }
  if (need.redis) {
    const { host, port } = redisHostPort(redisUrl);
    const probe = await probeRedis(host, port, 3000);
    if (probe.state !== 'answers') {
      throw new ServiceUnavailableError(
        'redis',
        `Redis at ${redisUrl} does not answer (${probe.detail}).\n  Start the local one with \`eventstream-tui stack up\`, or point --redis / REDIS_URL at a running Redis.`,
      );
    }
  }
}

export class Pipeline {
  readonly telemetry = new Telemetry();
  readonly kafka: Kafka;
  readonly redis: Redis;
  readonly store: RedisStore;
  private admin: Admin | undefined;
  private dlqProducer: Producer | undefined;
  producer: EventProducer | undefined;
  consumer: NotificationConsumer | undefined;
  private userIdCache: string[] = [];
  private userRefresh: NodeJS.Timeout | undefined;

  private constructor(
    readonly settings: PipelineSettings,
    readonly catalog: Catalog,
    readonly logger: Logger,
  ) {
    this.kafka = createKafka({ brokers: settings.brokers, logger, clientId: settings.clientId ?? 'eventstream-tui' });
    this.redis = createRedis(settings.redisUrl);
    this.store = new RedisStore(this.redis, catalog.channels);
  }

  static async create(
    settings: PipelineSettings,
    logger: Logger,
    need = { kafka: true, redis: true },
  ): Promise<Pipeline> {
    await checkServices(settings.brokers, settings.redisUrl, need);
    const pipeline = new Pipeline(settings, await loadCatalog(), logger);
    if (need.redis) await pipeline.redis.connect();
    return pipeline;
  }

  /** For the dashboard: no pre-flight checks; the services may come and go while it runs. */
  static async open(settings: PipelineSettings, logger: Logger): Promise<Pipeline> {
    const pipeline = new Pipeline(settings, await loadCatalog(), logger);
    pipeline.redis.connect().catch(() => undefined);
    return pipeline;
  }

  get dlqTopic(): string {
    return dlqTopicOf(this.settings.topic);
  }

  async ensureTopics(): Promise<string[]> {
    this.admin ??= this.kafka.admin();
    await this.admin.connect();
    return ensureTopics(this.admin, [this.settings.topic, this.dlqTopic], this.settings.partitions);
  }

  /** Seeds the sample users where absent (never overwriting a changed preference). */
  async seedIfEmpty(): Promise<void> {
    await this.store.seed(sampleUsers(), false);
  }

  async refreshUsers(): Promise<readonly string[]> {
    this.userIdCache = await this.store.userIds();
    return this.userIdCache;
  }

  async startProducer(rate: number): Promise<EventProducer> {
    await this.refreshUsers();
    this.userRefresh ??= setInterval(() => void this.refreshUsers().catch(() => undefined), 5_000);
    this.userRefresh.unref();
    const producer = new EventProducer({
      kafka: this.kafka,
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

  async startConsumer(): Promise<NotificationConsumer> {
    this.dlqProducer = this.kafka.producer({
      createPartitioner: Partitioners.DefaultPartitioner,
      allowAutoTopicCreation: false,
    });
    await this.dlqProducer.connect();
    const consumer = new NotificationConsumer({
      kafka: this.kafka,
      topic: this.settings.topic,
      group: this.settings.group,
      fromBeginning: this.settings.fromBeginning,
      logger: this.logger,
      telemetry: this.telemetry,
      catalog: this.catalog,
      store: this.store,
      provider: new MockProvider(this.redis, {
        latencyMs: this.settings.latencyMs,
        failureRate: this.settings.failureRate,
      }),
      deadLetters: new KafkaDeadLetterSink(this.dlqProducer, this.dlqTopic),
      maxBytes: this.settings.maxBytes,
    });
    this.consumer = consumer;
    await consumer.start();
    return consumer;
  }

  /** Producer first (nothing new), then the consumer settles and commits its batch, then the clients go. */
  async stop(): Promise<void> {
    if (this.userRefresh) clearInterval(this.userRefresh);
    await this.producer?.stop();
    await this.consumer?.stop();
    await this.dlqProducer?.disconnect().catch(() => undefined);
    await this.admin?.disconnect().catch(() => undefined);
    this.redis.disconnect();
  }
}
