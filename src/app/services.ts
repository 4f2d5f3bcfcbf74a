/**
 * Are the services there? Before a command connects, its Kafka and Redis are probed (a protocol
 * exchange, no client library) so that a missing one is one clear message, not a client's retries.
 */
import { checkKafka } from '../adapters/kafka/probe.js';
import { checkRedis } from '../adapters/redis/probe.js';
import { redactUrl } from '../config/config.js';

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
  tls: { kafka?: { ca?: string } | undefined; redisCa?: string | undefined } = {},
): Promise<void> {
  if (need.kafka) {
    const kafka = await checkKafka(brokers, 3000, tls.kafka ? { tls: tls.kafka } : {});
    if (!kafka.up) {
      throw new ServiceUnavailableError(
        'kafka',
        `Kafka at ${brokers.join(',')} does not answer (${kafka.detail}).\n  Start the local one with \`eventstream-tui stack up\`, or point --brokers / KAFKA_BROKERS at a running Kafka.`,
      );
    }
  }
  if (need.redis) {
    const redis = await checkRedis(redisUrl, 3000, tls.redisCa);
    if (!redis.up) {
      throw new ServiceUnavailableError(
        'redis',
        `Redis at ${redactUrl(redisUrl)} does not answer (${redis.detail}).\n  Start the local one with \`eventstream-tui stack up\`, or point --redis / REDIS_URL at a running Redis.`,
      );
    }
  }
}
