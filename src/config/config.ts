import { accessSync, constants, readFileSync } from 'node:fs';
import { DURATION_FORM, parseDuration } from '../domain/duration.js';
import { sanitize } from '../text/sanitize.js';
import { CRASH_POINT_NAMES, ENV_VARS, processEnvironment, type Environment } from './environment.js';
import { DEDUPE_WINDOW_SECONDS, DEFAULT_OUTAGE_HOLD_MS, DEFAULT_OUTBOX_MAXLEN } from './retention.js';
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

/** The real transports, each opt-in per channel (`--smtp`, `--webhook-url`, `--push-mqtt`); none: the mock. */
export interface TransportSettings {
  /** Email over SMTP; `password` from SMTP_PASSWORD or --smtp-password-file, never the URL. */
  smtp?: { url: string; password?: string | undefined; ca?: string | undefined; from: string } | undefined;
  /** The webhook channel, signed with `secret` (Standard Webhooks). */
  webhook?: { url: string; secret: string } | undefined;
  /** Push over MQTT. */
  pushMqtt?: { url: string } | undefined;
}

export const DEFAULT_SMTP_FROM = 'eventstream-tui <notifications@localhost>';

export interface Config {
  brokers: string[];
  /** With the password of REDIS_PASSWORD or --redis-password-file folded in: show it only through {@link redactUrl}. */
  redisUrl: string;
  topic: string;
  group: string;
  partitions: number;
  kafkaSecurity: KafkaSecurity;
  /** A PEM file to trust for rediss:// (REDIS_CA_FILE). */
  redisCa?: string | undefined;
  /** How long the dedupe ledger and the providers' idempotency keys are remembered, at least (DEDUPE_WINDOW). */
  dedupeWindowSeconds: number;
  /** How long sends of a transport that is down are parked before they are dead-lettered, ms (OUTAGE_HOLD). */
  outageHoldMs: number;
  /** Messages each mock provider's outbox keeps (EVENTSTREAM_OUTBOX_MAXLEN). */
  outboxMaxLen: number;
  transports: TransportSettings;
  /**
   * Replicas that must acknowledge a chunk's Redis writes (`WAIT`) before its offsets are committed;
   * 0: off (REDIS_WAIT_REPLICAS, --redis-wait-replicas).
   */
  redisWaitReplicas: number;
  /** How long that `WAIT` may take, ms (REDIS_WAIT_TIMEOUT, --redis-wait-timeout). */
  redisWaitTimeoutMs: number;
}

export const DEFAULTS: Config = {
  brokers: ['localhost:9092'],
  redisUrl: 'redis://127.0.0.1:6379',
  topic: 'user_events',
  group: 'notification-service',
  partitions: 3,
  kafkaSecurity: {},
  dedupeWindowSeconds: DEDUPE_WINDOW_SECONDS,
  outageHoldMs: DEFAULT_OUTAGE_HOLD_MS,
  outboxMaxLen: DEFAULT_OUTBOX_MAXLEN,
  transports: {},
  redisWaitReplicas: 0,
  redisWaitTimeoutMs: 1000,
};

export { ENV_VARS };

export const SASL_MECHANISMS: readonly SaslMechanism[] = ['plain', 'scram-sha-256', 'scram-sha-512'];

export interface ConfigFlags {
  brokers?: string;
  redis?: string;
  redisPasswordFile?: string;
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
  /** A duration, see {@link parseOutageHold}. */
  outageHold?: string;
  smtp?: string;
  smtpCa?: string;
  smtpPasswordFile?: string;
  smtpFrom?: string;
  webhookUrl?: string;
  webhookSecretFile?: string;
  pushMqtt?: string;
  /** A whole number 0..5, see {@link parseWaitReplicas}. */
  redisWaitReplicas?: string;
  /** A duration, see {@link parseWaitTimeout}. */
  redisWaitTimeout?: string;
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

/** The schemes of a Redis Sentinel set (`redis+sentinel://`; `rediss+sentinel://` for TLS to the nodes). */
const SENTINEL_SCHEMES = ['redis+sentinel:', 'rediss+sentinel:'];

/** The Redis behind a set of Sentinels, as `--redis redis+sentinel://[user[:password]@]host:port[,host:port…]/<name>`. */
export interface SentinelUrl {
  sentinels: { host: string; port: number }[];
  /** The monitored primary's name (Sentinel's `master-name`). */
  name: string;
  /** TLS to the primary and replicas (`rediss+sentinel://`). */
  tls: boolean;
  /** For the primary and its replicas, as in a plain URL. */
  username?: string;
  password?: string;
  /** `?sentinelPassword=`: the Sentinels' own password, when they ask for one. */
  sentinelPassword?: string;
}

export const SENTINEL_EXAMPLE = 'redis+sentinel://127.0.0.1:26379,127.0.0.1:26380/mymaster';

export function isSentinelUrl(value: string): boolean {
  const lower = value.trim().toLowerCase();
  return SENTINEL_SCHEMES.some((scheme) => lower.startsWith(`${scheme}//`));
}

/**
 * `redis+sentinel://[user[:password]@]host:port[,host:port…]/<master-name>[?sentinelPassword=…]`: the
 * Sentinels to ask (a port left out is 26379) and the name of the primary they watch. Undefined for
 * any other URL; a ConfigError (its message without the password) for a Sentinel URL that is not one.
 */
export function parseSentinelUrl(value: string): SentinelUrl | undefined {
  if (!isSentinelUrl(value)) return undefined;
  const bad = (why: string): ConfigError =>
    new ConfigError(`Redis Sentinel URL "${redactUrl(value)}" ${why} (for example ${SENTINEL_EXAMPLE})`);
  const match = /^(rediss?)\+sentinel:\/\/(?:([^@/?#]*)@)?([^/?#]*)(?:\/([^/?#]*))?(?:\?([^#]*))?$/i.exec(value.trim());
  if (!match) throw bad('is not redis+sentinel://host:port[,host:port…]/<name>');
  const [, scheme, userinfo, hostList, name, query] = match;
  const sentinels: { host: string; port: number }[] = [];
  for (const entry of hostList!.split(',')) {
    const address = entry.trim();
    if (address === '') throw bad('names an empty Sentinel address');
    const hp = /^(\[[^\]]+\]|[^:[\]]+)(?::(\d{1,5}))?$/.exec(address);
    const port = hp?.[2] !== undefined ? Number(hp[2]) : 26379;
    if (!hp || port < 1 || port > 65535) throw bad(`has a Sentinel address "${address}" that is not host:port`);
    sentinels.push({ host: hp[1]!.replace(/^\[|\]$/g, ''), port });
  }
  const decodedName = name ? decodeURIComponent(name) : '';
  if (decodedName === '') throw bad('names no primary: end it with /<name>, the name the Sentinels monitor');
  const parsed: SentinelUrl = { sentinels, name: decodedName, tls: scheme!.toLowerCase() === 'rediss' };
  if (userinfo) {
    const colon = userinfo.indexOf(':');
    const user = decodeURIComponent(colon >= 0 ? userinfo.slice(0, colon) : userinfo);
    if (user) parsed.username = user;
    if (colon >= 0 && colon < userinfo.length - 1) parsed.password = decodeURIComponent(userinfo.slice(colon + 1));
  }
  for (const [key, val] of new URLSearchParams(query ?? '')) {
    if (key === 'sentinelPassword') parsed.sentinelPassword = val;
    else throw bad(`has an unknown parameter "${key}" (only sentinelPassword)`);
  }
  return parsed;
}

/** A Sentinel URL with the password of the primary set (encoded), the rest as it was. */
function sentinelUrlWithPassword(value: string, password: string): string {
  const match = /^([a-z+]+:\/\/)(?:([^@/?#]*)@)?(.*)$/is.exec(value.trim())!;
  const user = match[2] ?? '';
  return `${match[1]}${user}:${encodeURIComponent(password)}@${match[3]}`;
}

export function parseRedisUrl(value: string): string {
  if (isSentinelUrl(value)) {
    parseSentinelUrl(value);
    return value;
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(`Redis URL "${redactUrl(value)}" is not a URL (for example redis://127.0.0.1:6379)`);
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw new ConfigError(
      `Redis URL "${redactUrl(value)}" must start with redis://, rediss:// or redis+sentinel:// (for example redis://127.0.0.1:6379 or ${SENTINEL_EXAMPLE})`,
    );
  }
  if (!url.hostname) {
    throw new ConfigError(`Redis URL "${redactUrl(value)}" names no host (for example redis://127.0.0.1:6379)`);
  }
  return value;
}

export const WAIT_REPLICAS_MAX = 5;

/** `--redis-wait-replicas`: how many replicas must acknowledge a chunk's writes, 0 (off) to 5. */
export function parseWaitReplicas(value: string, name = '--redis-wait-replicas'): number {
  const n = /^\d+$/.test(value.trim()) ? Number(value.trim()) : NaN;
  if (!(n >= 0 && n <= WAIT_REPLICAS_MAX))
    throw new ConfigError(
      `${name} "${value}" is not a whole number from 0 (off) to ${WAIT_REPLICAS_MAX}: the replicas that must acknowledge a chunk's Redis writes before its offsets are committed`,
    );
  return n;
}

/** `--redis-wait-timeout`: how long one `WAIT` may take: `<n>ms` or a duration (`2s`), 1 ms to 60 s. */
export function parseWaitTimeout(value: string, name = '--redis-wait-timeout'): number {
  const trimmed = value.trim();
  const ms = /^\d+ms$/i.test(trimmed) ? Number(trimmed.slice(0, -2)) : parseDuration(trimmed);
  if (ms === undefined || !Number.isSafeInteger(ms) || ms < 1 || ms > 60_000)
    throw new ConfigError(`${name} "${value}" is not a duration from 1ms to 60s (for example 500ms or 2s)`);
  return ms;
}

/** `url` parsed, its scheme one of `schemes`, with a host; the message shows it without its password. */
function serviceUrl(value: string, name: string, schemes: readonly string[], example: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(`${name} "${redactUrl(value)}" is not a URL (for example ${example})`);
  }
  if (!schemes.includes(url.protocol.slice(0, -1)))
    throw new ConfigError(
      `${name} "${redactUrl(value)}" must start with ${schemes.map((s) => `${s}://`).join(' or ')} (for example ${example})`,
    );
  if (!url.hostname) throw new ConfigError(`${name} "${redactUrl(value)}" names no host (for example ${example})`);
  return url;
}

/** `--smtp`: `smtp://[user@]host[:port]` or `smtps://`; a password in it is refused (SMTP_PASSWORD, --smtp-password-file). */
export function parseSmtpUrl(value: string, name = '--smtp'): string {
  const url = serviceUrl(value, name, ['smtp', 'smtps'], 'smtp://mail.example.com:587');
  if (url.password)
    throw new ConfigError(
      `${name} "${redactUrl(value)}" carries a password: give it in SMTP_PASSWORD or --smtp-password-file instead`,
    );
  return value;
}

/** `--webhook-url`: `http://` or `https://`. */
export function parseWebhookUrl(value: string, name = '--webhook-url'): string {
  serviceUrl(value, name, ['http', 'https'], 'https://hooks.example.com/eventstream');
  return value;
}

/** `--push-mqtt`: `mqtt://`, `mqtts://`, `ws://` or `wss://`. */
export function parsePushMqttUrl(value: string, name = '--push-mqtt'): string {
  serviceUrl(value, name, ['mqtt', 'mqtts', 'ws', 'wss'], 'mqtt://127.0.0.1:1883');
  return value;
}

/** `--smtp-from`: an address, `Name <user@host>` or `user@host`, on one line. */
export function parseSmtpFrom(value: string, name = '--smtp-from'): string {
  if (/[\r\n]/.test(value) || !/^[^@<>]*<[^<>@\s]+@[^<>@\s]+>$|^[^<>@\s]+@[^<>@\s]+$/.test(value.trim()))
    throw new ConfigError(
      `${name} ${quoted(value)} is not an address: use user@host or "Name <user@host>" (default ${DEFAULT_SMTP_FROM})`,
    );
  return value.trim();
}

/**
 * A webhook secret: `whsec_` and base64 (the Standard Webhooks form: the key is the decoded bytes), or
 * any other string of 16 characters or more (its UTF-8 bytes). The message never shows it.
 */
export function parseWebhookSecret(value: string, name: string): string {
  if (value.startsWith('whsec_')) {
    const body = value.slice('whsec_'.length);
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(body) || Buffer.from(body, 'base64').length < 16)
      throw new ConfigError(`${name}: a whsec_ secret must be base64 of at least 16 bytes after "whsec_"`);
    return value;
  }
  if (value.length < 16) throw new ConfigError(`${name}: the secret is shorter than 16 characters`);
  return value;
}

function resolveTransports(flags: ConfigFlags, env: Environment): TransportSettings {
  const pick = (flag: string | undefined, envName: string): { value: string; name: string } | undefined => {
    if (flag !== undefined) return { value: flag, name: '' };
    const fromEnv = env[envName];
    return fromEnv !== undefined && fromEnv !== '' ? { value: fromEnv, name: envName } : undefined;
  };
  const transports: TransportSettings = {};
  const smtp = pick(flags.smtp, ENV_VARS.smtpUrl);
  if (smtp) {
    const url = parseSmtpUrl(smtp.value, smtp.name || '--smtp');
    const password =
      flags.smtpPasswordFile !== undefined
        ? readSecretFile(flags.smtpPasswordFile, '--smtp-password-file')
        : env[ENV_VARS.smtpPassword] || undefined;
    const ca =
      flags.smtpCa !== undefined
        ? readableFile(flags.smtpCa, '--smtp-ca')
        : env[ENV_VARS.smtpCa]
          ? readableFile(env[ENV_VARS.smtpCa]!, ENV_VARS.smtpCa)
          : undefined;
    const from = pick(flags.smtpFrom, ENV_VARS.smtpFrom);
    transports.smtp = {
      url,
      password,
      ca,
      from: from ? parseSmtpFrom(from.value, from.name || '--smtp-from') : DEFAULT_SMTP_FROM,
    };
  }
  const webhook = pick(flags.webhookUrl, ENV_VARS.webhookUrl);
  if (webhook) {
    const url = parseWebhookUrl(webhook.value, webhook.name || '--webhook-url');
    const secret =
      flags.webhookSecretFile !== undefined
        ? parseWebhookSecret(readSecretFile(flags.webhookSecretFile, '--webhook-secret-file'), '--webhook-secret-file')
        : env[ENV_VARS.webhookSecret]
          ? parseWebhookSecret(env[ENV_VARS.webhookSecret]!, ENV_VARS.webhookSecret)
          : undefined;
    if (secret === undefined)
      throw new ConfigError(
        `${webhook.name || '--webhook-url'} needs a signing secret: WEBHOOK_SECRET or --webhook-secret-file (whsec_<base64>)`,
      );
    transports.webhook = { url, secret };
  }
  const push = pick(flags.pushMqtt, ENV_VARS.pushMqttUrl);
  if (push) transports.pushMqtt = { url: parsePushMqttUrl(push.value, push.name || '--push-mqtt') };
  return transports;
}

/** A secret from a file: its content, one trailing newline dropped. The message never holds the content. */
function readSecretFile(file: string, flag: string): string {
  try {
    return readFileSync(file, 'utf8').replace(/\r?\n$/, '');
  } catch (error) {
    throw new ConfigError(
      `cannot read ${flag} ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    );
  }
}

/** A file the program will read later (a CA): refused now, with its name, rather than at the first connection. */
function readableFile(file: string, name: string): string {
  try {
    accessSync(file, constants.R_OK);
  } catch (error) {
    throw new ConfigError(
      `cannot read ${name} ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    );
  }
  return file;
}

const FLAG_WORDS: Record<string, boolean> = {
  '1': true,
  true: true,
  yes: true,
  on: true,
  '0': false,
  false: false,
  no: false,
  off: false,
};

function parseSwitch(value: string | undefined, name: string): boolean | undefined {
  if (value === undefined || value === '') return undefined;
  const on = FLAG_WORDS[value.trim().toLowerCase()];
  if (on === undefined) throw new ConfigError(`${name} "${value}" is not one of 1, 0, true, false, yes, no, on, off`);
  return on;
}

function resolveKafkaSecurity(flags: ConfigFlags, env: Environment): KafkaSecurity {
  const pick = (flag: string | undefined, name: string): string | undefined =>
    flag ?? (env[name] !== undefined && env[name] !== '' ? env[name] : undefined);
  const security: KafkaSecurity = {};
  const ca =
    flags.kafkaCa !== undefined
      ? readableFile(flags.kafkaCa, '--kafka-ca')
      : env[ENV_VARS.kafkaCa]
        ? readableFile(env[ENV_VARS.kafkaCa]!, ENV_VARS.kafkaCa)
        : undefined;
  const tlsEnv = parseSwitch(env[ENV_VARS.kafkaTls], ENV_VARS.kafkaTls);
  if (flags.kafkaTls || ca !== undefined || tlsEnv) security.tls = ca ? { ca } : {};
  const mechanism = pick(flags.kafkaSasl, ENV_VARS.saslMechanism)?.toLowerCase();
  if (mechanism !== undefined) {
    if (!SASL_MECHANISMS.includes(mechanism as SaslMechanism)) {
      throw new ConfigError(`SASL mechanism "${mechanism}" is not one of ${SASL_MECHANISMS.join(', ')}`);
    }
    const username = pick(flags.kafkaUsername, ENV_VARS.kafkaUsername);
    let password = env[ENV_VARS.kafkaPassword];
    if (flags.kafkaPasswordFile) password = readSecretFile(flags.kafkaPasswordFile, '--kafka-password-file');
    if (!username || !password) {
      throw new ConfigError(
        `SASL ${mechanism} needs a user name (--kafka-username or KAFKA_USERNAME) and a password (KAFKA_PASSWORD or --kafka-password-file)`,
      );
    }
    security.sasl = { mechanism: mechanism as SaslMechanism, username, password };
  }
  return security;
}

// A query parameter of a Redis URL that holds a secret (ioredis takes `?password=`).
const SECRET_PARAM = /pass|pwd|secret|token|auth/i;

/**
 * The Redis URL with the password of --redis-password-file or REDIS_PASSWORD (in that order) folded
 * in, so that every client and `stack up` use it. A URL that carries a password of its own as well is
 * refused: two passwords, and no telling which one the user meant.
 */
function redisUrlWithPassword(url: string, flags: ConfigFlags, env: Environment): string {
  const password =
    flags.redisPasswordFile !== undefined
      ? readSecretFile(flags.redisPasswordFile, '--redis-password-file')
      : env[ENV_VARS.redisPassword] || undefined;
  if (password === undefined) return url;
  const source = flags.redisPasswordFile !== undefined ? '--redis-password-file' : ENV_VARS.redisPassword;
  const sentinel = parseSentinelUrl(url);
  if (sentinel) {
    if (sentinel.password !== undefined)
      throw new ConfigError(
        `the Redis URL "${redactUrl(url)}" carries a password and ${source} gives one too: keep one of them`,
      );
    return sentinelUrlWithPassword(url, password);
  }
  const u = new URL(url);
  if (u.password || [...u.searchParams.keys()].some((k) => SECRET_PARAM.test(k))) {
    throw new ConfigError(
      `the Redis URL "${redactUrl(url)}" carries a password and ${source} gives one too: keep one of them`,
    );
  }
  u.password = encodeURIComponent(password);
  return u.toString();
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
export const OUTBOX_MAXLEN_LIMIT = 10_000_000;

/** The settings read from the environment alone, checked before anything starts. */
function checkEnvironment(env: Environment): { outboxMaxLen: number } {
  const level = env[ENV_VARS.logLevel];
  if (level && !LOG_LEVELS.includes(level)) {
    throw new ConfigError(`${ENV_VARS.logLevel} "${level}" is not one of ${LOG_LEVELS.join(', ')}`);
  }
  const crashAt = env[ENV_VARS.crashAt];
  if (crashAt && !CRASH_POINT_NAMES.includes(crashAt)) {
    throw new ConfigError(
      `${ENV_VARS.crashAt} "${crashAt}" is not one of ${CRASH_POINT_NAMES.join(', ')} (a test hook)`,
    );
  }
  const offset = env[ENV_VARS.clockOffset];
  if (offset && !/^-?\d+$/.test(offset.trim()))
    throw new ConfigError(`${ENV_VARS.clockOffset} "${offset}" is not a whole number of milliseconds (a test hook)`);
  const maxLen = env[ENV_VARS.outboxMaxLen];
  let outboxMaxLen = DEFAULTS.outboxMaxLen;
  if (maxLen) {
    outboxMaxLen = /^\d+$/.test(maxLen.trim()) ? Number(maxLen) : NaN;
    if (!(outboxMaxLen >= 1 && outboxMaxLen <= OUTBOX_MAXLEN_LIMIT)) {
      throw new ConfigError(
        `${ENV_VARS.outboxMaxLen} "${maxLen}" is not a whole number from 1 to ${OUTBOX_MAXLEN_LIMIT.toLocaleString('en-US')}`,
      );
    }
  }
  return { outboxMaxLen };
}

/** Every setting, checked: a bad one is a ConfigError (a usage error, exit 2) before anything starts. */
export function resolveConfig(flags: ConfigFlags, env: Environment = processEnvironment()): Config {
  const pick = (flag: string | undefined, name: string): string | undefined => {
    if (flag !== undefined) return flag;
    const fromEnv = env[name];
    return fromEnv !== undefined && fromEnv !== '' ? fromEnv : undefined;
  };
  /** A flag's value, else the environment's (an empty variable is unset), checked under the name it came by. */
  const checked = (
    flag: string | undefined,
    name: string,
    flagName: string,
    parse: (value: string, name: string) => string,
  ): string | undefined => {
    const value = pick(flag, name);
    return value === undefined ? undefined : parse(value, flag !== undefined ? flagName : name);
  };
  const brokers = pick(flags.brokers, ENV_VARS.brokers);
  const redis = pick(flags.redis, ENV_VARS.redisUrl);
  const { outboxMaxLen } = checkEnvironment(env);
  return {
    brokers: brokers !== undefined ? parseBrokers(brokers) : DEFAULTS.brokers,
    redisUrl: redisUrlWithPassword(redis !== undefined ? parseRedisUrl(redis) : DEFAULTS.redisUrl, flags, env),
    topic: checked(flags.topic, ENV_VARS.topic, '--topic', parseTopic) ?? DEFAULTS.topic,
    group: checked(flags.group, ENV_VARS.group, '--group', parseGroup) ?? DEFAULTS.group,
    partitions: flags.partitions ?? DEFAULTS.partitions,
    kafkaSecurity: resolveKafkaSecurity(flags, env),
    redisCa: env[ENV_VARS.redisCa] ? readableFile(env[ENV_VARS.redisCa]!, ENV_VARS.redisCa) : undefined,
    outboxMaxLen,
    transports: resolveTransports(flags, env),
    dedupeWindowSeconds:
      flags.dedupeWindow !== undefined
        ? parseDedupeWindow(flags.dedupeWindow)
        : env[ENV_VARS.dedupeWindow]
          ? parseDedupeWindow(env[ENV_VARS.dedupeWindow]!, ENV_VARS.dedupeWindow)
          : DEFAULTS.dedupeWindowSeconds,
    outageHoldMs:
      flags.outageHold !== undefined
        ? parseOutageHold(flags.outageHold)
        : env[ENV_VARS.outageHold]
          ? parseOutageHold(env[ENV_VARS.outageHold]!, ENV_VARS.outageHold)
          : DEFAULTS.outageHoldMs,
    redisWaitReplicas:
      flags.redisWaitReplicas !== undefined
        ? parseWaitReplicas(flags.redisWaitReplicas)
        : env[ENV_VARS.redisWaitReplicas]
          ? parseWaitReplicas(env[ENV_VARS.redisWaitReplicas]!, ENV_VARS.redisWaitReplicas)
          : DEFAULTS.redisWaitReplicas,
    redisWaitTimeoutMs:
      flags.redisWaitTimeout !== undefined
        ? parseWaitTimeout(flags.redisWaitTimeout)
        : env[ENV_VARS.redisWaitTimeout]
          ? parseWaitTimeout(env[ENV_VARS.redisWaitTimeout]!, ENV_VARS.redisWaitTimeout)
          : DEFAULTS.redisWaitTimeoutMs,
  };
}

/** Kafka's longest topic name. */
const KAFKA_TOPIC_MAX = 249;
const DLQ_SUFFIX = '.dlq';
/** The longest events topic: its dead-letter topic `<topic>.dlq` must be a legal name too. */
export const TOPIC_MAX_LENGTH = KAFKA_TOPIC_MAX - DLQ_SUFFIX.length;

/** A value fit to quote in a message: terminal-safe, and not a screenful. */
function quoted(value: string): string {
  const safe = sanitize(value);
  return `"${safe.length > 60 ? `${safe.slice(0, 60)}...` : safe}"`;
}

/**
 * An events topic Kafka accepts, and its dead-letter topic `<topic>.dlq` too: letters, digits, `.`,
 * `_` and `-`, not `.` or `..`, at most {@link TOPIC_MAX_LENGTH} characters. Refused at start, before
 * anything connects (else the broker refuses it, or the topic is created and its `.dlq` is not).
 */
export function parseTopic(value: string, name = '--topic'): string {
  if (!/^[a-zA-Z0-9._-]+$/.test(value) || value === '.' || value === '..') {
    throw new ConfigError(
      `${name} ${quoted(value)} is not a Kafka topic name: letters, digits, '.', '_' and '-' only (not "." or "..")`,
    );
  }
  if (value.length > TOPIC_MAX_LENGTH) {
    throw new ConfigError(
      `${name} ${quoted(value)} is ${value.length} characters long: at most ${TOPIC_MAX_LENGTH}, so that its dead-letter topic <topic>${DLQ_SUFFIX} stays within Kafka's ${KAFKA_TOPIC_MAX}`,
    );
  }
  return value;
}

export const GROUP_MAX_LENGTH = 255;

/** A consumer group id: not empty or blank, at most {@link GROUP_MAX_LENGTH} characters. */
export function parseGroup(value: string, name = '--group'): string {
  if (value.trim() === '') throw new ConfigError(`${name} ${quoted(value)} is empty: name a consumer group`);
  if (value.length > GROUP_MAX_LENGTH) {
    throw new ConfigError(`${name} ${quoted(value)} is ${value.length} characters long: at most ${GROUP_MAX_LENGTH}`);
  }
  return value;
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

/** An outage hold: `<n><unit>` with s, m, h or d (`30s`, `10m`, `1h`), from 1 s to 30 days. */
export function parseOutageHold(value: string, name = '--outage-hold'): number {
  const ms = parseDuration(value);
  if (ms === undefined) throw new ConfigError(`${name} "${value}" is not a duration: use ${DURATION_FORM}, 1s to 30d`);
  return ms;
}

/**
 * A Redis URL fit to show: the password, and any query parameter named like a secret (`?password=`),
 * replaced by ***. A value that is not a URL with a host (`rediss//user:pw@host`) is treated alike:
 * whatever follows the user name up to the last @ is hidden.
 */
export function redactUrl(url: string): string {
  let u: URL | undefined;
  try {
    u = new URL(url);
  } catch {
    u = undefined;
  }
  // `user:pw@host` parses as a URL of scheme `user:` with no host: not one to trust either.
  if (u?.host) {
    let hidden = false;
    if (u.password) {
      u.password = '***';
      hidden = true;
    }
    for (const name of new Set(u.searchParams.keys())) {
      if (SECRET_PARAM.test(name)) {
        u.searchParams.set(name, '***');
        hidden = true;
      }
    }
    return hidden ? u.toString().replace(/\/$/, '') : url;
  }
  const match = /^([a-z][a-z0-9+.-]*:?\/\/)?(.*)@([^@]*)$/is.exec(url);
  const withoutUserinfoSecret = match
    ? `${match[1] ?? ''}${match[2]!.includes(':') ? `${match[2]!.slice(0, match[2]!.indexOf(':'))}:***` : match[2]}@${match[3]}`
    : url;
  return withoutUserinfoSecret.replace(/([?&][^=&#]*(?:pass|pwd|secret|token|auth)[^=&#]*=)[^&#]*/gi, '$1***');
}

/** Whether the user named the brokers or Redis explicitly (so we must never silently fall back). */
export function explicitServices(
  flags: ConfigFlags,
  env: Environment = processEnvironment(),
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

/**
 * The host and port of a Redis URL; of a Sentinel URL, its first Sentinel's (see
 * {@link redisAddresses} for all of them).
 */
export function redisHostPort(redisUrl: string): { host: string; port: number } {
  const sentinel = parseSentinelUrl(redisUrl);
  if (sentinel) return sentinel.sentinels[0]!;
  const url = new URL(redisUrl);
  return { host: url.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1', port: url.port ? Number(url.port) : 6379 };
}

/** Every address a Redis URL names: one for a plain URL, each Sentinel's for a Sentinel URL. */
export function redisAddresses(redisUrl: string): { host: string; port: number }[] {
  return parseSentinelUrl(redisUrl)?.sentinels ?? [redisHostPort(redisUrl)];
}

/** `--redis-replica <primary-port>,<replica-port>` of `stack up`: the ports of the primary and its replica. */
export function parseReplicaPorts(value: string, name = '--redis-replica'): { primary: number; replica: number } {
  const match = /^\s*(\d{1,5})\s*,\s*(\d{1,5})\s*$/.exec(value);
  const [primary, replica] = match ? [Number(match[1]), Number(match[2])] : [NaN, NaN];
  if (!(primary >= 1 && primary <= 65535 && replica >= 1 && replica <= 65535) || primary === replica)
    throw new ConfigError(
      `${name} "${value}" is not <primary-port>,<replica-port>: two different ports, for example 6390,6391 (with --redis ${SENTINEL_EXAMPLE})`,
    );
  return { primary, replica };
}
