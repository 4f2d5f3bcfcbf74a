import { createHash } from 'node:crypto';
/**
 * The ioredis client: reconnects by itself, fails commands fast while Redis is
 * away, and auto-pipelines. A Redis Cluster behind the same URL is detected and
 * spoken to as a cluster.
 */
import { readFileSync } from 'node:fs';
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import { parseSentinelUrl } from '../../config/config.js';

export type RedisClient = Redis | Cluster;

export function isCluster(client: RedisClient): client is Cluster {
  return client instanceof Cluster;
}

interface ClientOptions {
  connectionName?: string;
  ca?: string | undefined;
}

function tlsFor(url: string, ca: string | undefined): { tls?: { ca: string[] } | Record<string, never> } {
  if (!url.startsWith('rediss:')) return {};
  return { tls: ca ? { ca: [readFileSync(ca, 'utf8')] } : {} };
}

const retryStrategy = (times: number): number => Math.min(100 * 2 ** Math.min(times, 5), 2000);

/**
 * A client for `url`: a plain `redis://` / `rediss://` server, or the primary a set of Sentinels names
 * (`redis+sentinel://…/<name>`): ioredis asks the Sentinels for the primary, and asks again after
 * every lost connection, so a failover is one reconnect (commands fail fast meanwhile, and the
 * pipeline's steps retry them).
 */
export function createRedis(url: string, options: ClientOptions = {}): Redis {
  const common: RedisOptions = {
    lazyConnect: true,
    connectTimeout: 3000,
    maxRetriesPerRequest: 1,
    retryStrategy,
    enableAutoPipelining: true,
    connectionName: options.connectionName ?? 'eventstream-tui',
  };
  const sentinel = parseSentinelUrl(url);
  const redis = sentinel
    ? new Redis({
        ...common,
        sentinels: sentinel.sentinels,
        name: sentinel.name,
        role: 'master',
        ...(sentinel.username ? { username: sentinel.username } : {}),
        ...(sentinel.password !== undefined ? { password: sentinel.password } : {}),
        ...(sentinel.sentinelPassword !== undefined ? { sentinelPassword: sentinel.sentinelPassword } : {}),
        ...(sentinel.tls ? { tls: options.ca ? { ca: [readFileSync(options.ca, 'utf8')] } : {} } : {}),
        sentinelRetryStrategy: retryStrategy,
        // A failover announced by the Sentinels (+switch-master) moves the connection at once.
        failoverDetector: true,
      })
    : new Redis(url, { ...tlsFor(url, options.ca), ...common });
  // Errors surface through the commands that fail; an unhandled 'error' event must not crash the process.
  redis.on('error', () => undefined);
  return redis;
}

/** Whether the server at `url` is a Redis Cluster node (INFO cluster: cluster_enabled:1). */
export async function isClusterNode(url: string, options: ClientOptions = {}): Promise<boolean> {
  if (parseSentinelUrl(url)) return false; // Sentinel watches a primary, never a cluster
  const probe = createRedis(url, options);
  try {
    await probe.connect();
    return /cluster_enabled:1/.test(await probe.info('cluster'));
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}

export function createRedisCluster(url: string, options: ClientOptions = {}): Cluster {
  const u = new URL(url);
  const cluster = new Cluster([{ host: u.hostname, port: u.port ? Number(u.port) : 6379 }], {
    lazyConnect: true,
    // Not auto-pipelined: it would route the batch scripts (numberOfKeys given per call) by their first
    // argument, not their first key. Concurrent commands still overlap on each node's connection.
    enableAutoPipelining: false,
    clusterRetryStrategy: retryStrategy,
    redisOptions: {
      ...tlsFor(url, options.ca),
      ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
      ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
      connectTimeout: 3000,
      maxRetriesPerRequest: 1,
      connectionName: options.connectionName ?? 'eventstream-tui',
    },
  });
  cluster.on('error', () => undefined);
  return cluster;
}

/** CRC16 (XMODEM), as Redis Cluster hashes keys. */
const CRC16 = (() => {
  const table = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i << 8;
    for (let j = 0; j < 8; j++) c = c & 0x8000 ? ((c << 1) ^ 0x1021) & 0xffff : (c << 1) & 0xffff;
    table[i] = c;
  }
  return table;
})();

/** The Redis Cluster slot of `key`: its hash tag's (`{…}`, when not empty), else the whole key's. */
export function keySlot(key: string): number {
  let hashed = key;
  const open = key.indexOf('{');
  if (open >= 0) {
    const close = key.indexOf('}', open + 1);
    if (close > open + 1) hashed = key.slice(open + 1, close);
  }
  let crc = 0;
  for (const byte of Buffer.from(hashed, 'utf8')) crc = ((crc << 8) & 0xffff) ^ CRC16[((crc >> 8) ^ byte) & 0xff]!;
  return crc % 16384;
}

type Evaluate = (script: string, keys: number, ...args: (string | number)[]) => Promise<unknown>;

/** A Lua script run by its SHA, so a call sends its arguments and not its text. */
export interface LuaScript {
  text: string;
  sha: string;
}

export const luaScript = (text: string): LuaScript => ({ text, sha: createHash('sha1').update(text).digest('hex') });

/**
 * EVALSHA, and EVAL when the server does not have the script yet: for scripts whose number of keys
 * differs from call to call (ioredis caches a script's SHA itself only for defined commands).
 */
export async function evalScript(
  client: RedisClient,
  script: LuaScript,
  keys: readonly string[],
  args: readonly (string | number)[],
): Promise<unknown> {
  const redis = client as unknown as { evalsha: Evaluate; eval: Evaluate };
  try {
    return await redis.evalsha.call(client, script.sha, keys.length, ...keys, ...args);
  } catch (error) {
    if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
    return redis.eval.call(client, script.text, keys.length, ...keys, ...args);
  }
}
