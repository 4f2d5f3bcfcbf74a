import { readFileSync } from 'node:fs';
import { DEDUPE_WINDOW_SECONDS } from '../adapters/redis/keys.js';
/**
 * Configuration: flags over environment over defaults. One place knows every
 * setting, its environment variable and its default, so `--help`, the README
 * table and the code cannot disagree.
 */
export type SaslMechanism = 'plain' | 'scram-sha-256' | 'scram-sha-512';

export interface KafkaSecurity {
  /** TLS to the brokers; `ca`: a PEM file to trust instead of the system's roots. */
  tls?: { ca?: string } | undefined;
  sasl?: { mechanism: SaslMechanism; username: string; password: string } | undefined;
}

export interface Config {
  brokers: string[];
  redisUrl: string;
  topic: string;
  group: string;
  partitions: number;
  kafkaSecurity: KafkaSecurity;
  /** A PEM file to trust for rediss:// (REDIS_CA_FILE). */
  redisCa?: string | undefined;
  /** How long the dedupe ledger and the providers' idempotency keys are remembered, at least (DEDUPE_WINDOW). */
  dedupeWindowSeconds: number;
}

export const DEFAULTS: Config = {
  brokers: ['localhost:9092'],
  redisUrl: 'redis://127.0.0.1:6379',
  topic: 'user_events',
  group: 'notification-service',
  partitions: 3,
  kafkaSecurity: {},
  dedupeWindowSeconds: DEDUPE_WINDOW_SECONDS,
};

export const ENV_VARS = {
  brokers: 'KAFKA_BROKERS',
  redisUrl: 'REDIS_URL',
  topic: 'EVENTS_TOPIC',
  group: 'CONSUMER_GROUP',
  saslMechanism: 'KAFKA_SASL_MECHANISM',
  kafkaUsername: 'KAFKA_USERNAME',
  kafkaPassword: 'KAFKA_PASSWORD',
  kafkaTls: 'KAFKA_TLS',
  kafkaCa: 'KAFKA_CA_FILE',
  redisCa: 'REDIS_CA_FILE',
  dedupeWindow: 'DEDUPE_WINDOW',
} as const;

export const SASL_MECHANISMS: readonly SaslMechanism[] = ['plain', 'scram-sha-256', 'scram-sha-512'];

export interface ConfigFlags {
  brokers?: string;
  redis?: string;
  topic?: string;
  group?: string;
  partitions?: number;
  kafkaSasl?: string;
  kafkaUsername?: string;
  kafkaPasswordFile?: string;
  kafkaTls?: boolean;
  kafkaCa?: string;
  /** A duration, see {@link parseDedupeWindow}. */
  dedupeWindow?: string;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export function parseBrokers(value: string): string[] {
  const brokers = value
    .split(',')
    .map((b) => b.trim())
    .filter((b) => b.length > 0);
  if (brokers.length === 0) throw new ConfigError(`no broker in "${value}": expected host:port[,host:port...]`);
  for (const broker of brokers) {
    const match = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(broker);
    const port = match ? Number(match[2]) : NaN;
    if (!match || port < 1 || port > 65535) {
      throw new ConfigError(`broker "${broker}" is not host:port (for example localhost:9092)`);
    }
  }
  return brokers;
}

export function parseRedisUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(`Redis URL "${value}" is not a URL (for example redis://127.0.0.1:6379)`);
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw new ConfigError(`Redis URL "${value}" must start with redis:// or rediss://`);
  }
  return value;
}

function resolveKafkaSecurity(flags: ConfigFlags, env: NodeJS.ProcessEnv): KafkaSecurity {
  const pick = (flag: string | undefined, name: string): string | undefined =>
    flag ?? (env[name] !== undefined && env[name] !== '' ? env[name] : undefined);
  const security: KafkaSecurity = {};
  const ca = pick(flags.kafkaCa, ENV_VARS.kafkaCa);
  const tlsEnv = env[ENV_VARS.kafkaTls]?.toLowerCase();
  if (flags.kafkaTls || ca !== undefined || tlsEnv === '1' || tlsEnv === 'true') security.tls = ca ? { ca } : {};
  const mechanism = pick(flags.kafkaSasl, ENV_VARS.saslMechanism)?.toLowerCase();
  if (mechanism !== undefined) {
    if (!SASL_MECHANISMS.includes(mechanism as SaslMechanism)) {
      throw new ConfigError(`SASL mechanism "${mechanism}" is not one of ${SASL_MECHANISMS.join(', ')}`);
    }
    const username = pick(flags.kafkaUsername, ENV_VARS.kafkaUsername);
    let password = env[ENV_VARS.kafkaPassword];
    if (flags.kafkaPasswordFile) {
      try {
        password = readFileSync(flags.kafkaPasswordFile, 'utf8').replace(/\r?\n$/, '');
      } catch (error) {
        throw new ConfigError(
          `cannot read --kafka-password-file ${flags.kafkaPasswordFile}: ${(error as Error).message}`,
        );
      }
    }
    if (!username || !password) {
      throw new ConfigError(
        `SASL ${mechanism} needs a user name (--kafka-username or KAFKA_USERNAME) and a password (KAFKA_PASSWORD or --kafka-password-file)`,
      );
    }
    security.sasl = { mechanism: mechanism as SaslMechanism, username, password };
  }
  return security;
}

export function resolveConfig(flags: ConfigFlags, env: NodeJS.ProcessEnv = process.env): Config {
  const pick = (flag: string | undefined, name: string): string | undefined => {
    if (flag !== undefined) return flag;
    const fromEnv = env[name];
    return fromEnv !== undefined && fromEnv !== '' ? fromEnv : undefined;
  };
  const brokers = pick(flags.brokers, ENV_VARS.brokers);
  const redis = pick(flags.redis, ENV_VARS.redisUrl);
  return {
    brokers: brokers !== undefined ? parseBrokers(brokers) : DEFAULTS.brokers,
    redisUrl: redis !== undefined ? parseRedisUrl(redis) : DEFAULTS.redisUrl,
    topic: pick(flags.topic, ENV_VARS.topic) ?? DEFAULTS.topic,
    group: pick(flags.group, ENV_VARS.group) ?? DEFAULTS.group,
    partitions: flags.partitions ?? DEFAULTS.partitions,
    kafkaSecurity: resolveKafkaSecurity(flags, env),
    redisCa: env[ENV_VARS.redisCa] || undefined,
    dedupeWindowSeconds:
      flags.dedupeWindow !== undefined
        ? parseDedupeWindow(flags.dedupeWindow)
        : env[ENV_VARS.dedupeWindow]
          ? parseDedupeWindow(env[ENV_VARS.dedupeWindow]!, ENV_VARS.dedupeWindow)
          : DEFAULTS.dedupeWindowSeconds,
  };
}

const DURATION_UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };
const DEDUPE_WINDOW_LIMITS = { min: 60, max: 30 * 86400 };

/**
 * A dedupe window: `90s`, `30m`, `6h`, `7d` or plain seconds, from one minute to 30 days. Shorter keeps
 * Redis smaller at high rates; an event redelivered after 1 to 2 windows is no longer recognised.
 */
export function parseDedupeWindow(value: string, name = '--dedupe-window'): number {
  const match = /^(\d+)\s*([smhd]?)$/i.exec(value.trim());
  const seconds = match ? Number(match[1]) * DURATION_UNITS[(match[2] || 's').toLowerCase()]! : NaN;
  if (!Number.isSafeInteger(seconds)) {
    throw new ConfigError(`${name} "${value}" is not a duration: use 90s, 30m, 6h, 7d or a number of seconds`);
  }
  if (seconds < DEDUPE_WINDOW_LIMITS.min || seconds > DEDUPE_WINDOW_LIMITS.max) {
    throw new ConfigError(`${name} "${value}" is out of range: from 1m (a minute) to 30d`);
  }
  return seconds;
}

/** A Redis URL fit to show: the password replaced by ***. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (!u.password) return url;
    u.password = '***';
    return u.toString().replace(/\/$/, '');
  } catch {
    return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
  }
}

/** Whether the user named the brokers or Redis explicitly (so we must never silently fall back). */
export function explicitServices(
  flags: ConfigFlags,
  env: NodeJS.ProcessEnv = process.env,
): {
  kafka: boolean;
  redis: boolean;
} {
  return {
    kafka: flags.brokers !== undefined || Boolean(env[ENV_VARS.brokers]),
    redis: flags.redis !== undefined || Boolean(env[ENV_VARS.redisUrl]),
  };
}

export function hostPort(address: string): { host: string; port: number } {
  const idx = address.lastIndexOf(':');
  const host = address.slice(0, idx).replace(/^\[|\]$/g, '');
  return { host, port: Number(address.slice(idx + 1)) };
}

export function redisHostPort(redisUrl: string): { host: string; port: number } {
  const url = new URL(redisUrl);
  return { host: url.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1', port: url.port ? Number(url.port) : 6379 };
}
