/** The ioredis client: reconnects by itself, fails commands fast while Redis is away. */
import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';

export function createRedis(url: string, options: { connectionName?: string; ca?: string | undefined } = {}): Redis {
  const redis = new Redis(url, {
    ...(url.startsWith('rediss:') && options.ca ? { tls: { ca: [readFileSync(options.ca, 'utf8')] } } : {}),
    lazyConnect: true,
    connectTimeout: 3000,
    maxRetriesPerRequest: 1,
    retryStrategy: (times) => Math.min(100 * 2 ** Math.min(times, 5), 2000),
    connectionName: options.connectionName ?? 'eventstream-tui',
  });
  // Errors surface through the commands that fail; an unhandled 'error' event must not crash the process.
  redis.on('error', () => undefined);
  return redis;
}
