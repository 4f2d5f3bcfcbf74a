/**
 * The environment: the one module that reads `process.env` (an eslint rule keeps it so). Every
 * variable the program reads is named here, once; the rest of the program takes their values from the
 * functions below, or the whole environment (to hand it to a child process) from
 * {@link processEnvironment}. README, "Configuration", has a row for each.
 */
import path from 'node:path';

/** An environment: the process's own, or one a test or a child process is given. */
export type Environment = NodeJS.ProcessEnv;

/** The process's environment, whole: the default of every function here, and what child processes inherit. */
export function processEnvironment(): Environment {
  return process.env;
}

/** Every variable the program reads. */
export const ENV_VARS = {
  /** Kafka bootstrap servers, comma separated (`--brokers`). */
  brokers: 'KAFKA_BROKERS',
  /** Redis URL, `redis://`, `rediss://` or `redis+sentinel://` (`--redis`). */
  redisUrl: 'REDIS_URL',
  /** The Redis password, kept out of argv (`--redis-password-file`). */
  redisPassword: 'REDIS_PASSWORD',
  /** Replicas that must acknowledge a chunk's Redis writes before its commit, 0 = off (`--redis-wait-replicas`). */
  redisWaitReplicas: 'REDIS_WAIT_REPLICAS',
  /** How long that WAIT may take (`--redis-wait-timeout`). */
  redisWaitTimeout: 'REDIS_WAIT_TIMEOUT',
  /** The events topic (`--topic`). */
  topic: 'EVENTS_TOPIC',
  /** The consumer group (`--group`). */
  group: 'CONSUMER_GROUP',
  /** Kafka SASL mechanism: plain, scram-sha-256 or scram-sha-512 (`--kafka-sasl`). */
  saslMechanism: 'KAFKA_SASL_MECHANISM',
  /** Kafka SASL user (`--kafka-username`). */
  kafkaUsername: 'KAFKA_USERNAME',
  /** Kafka SASL password (`--kafka-password-file`). */
  kafkaPassword: 'KAFKA_PASSWORD',
  /** TLS to the brokers: 1, true, yes, on (`--kafka-tls`). */
  kafkaTls: 'KAFKA_TLS',
  /** A PEM file of the CA to trust for Kafka TLS (`--kafka-ca`). */
  kafkaCa: 'KAFKA_CA_FILE',
  /** A PEM file of the CA to trust for `rediss://`. */
  redisCa: 'REDIS_CA_FILE',
  /** How long deliveries are remembered against redelivery (`--dedupe-window`). */
  dedupeWindow: 'DEDUPE_WINDOW',
  /** How long sends of a transport that is down are held before they are dead-lettered (`--outage-hold`). */
  outageHold: 'OUTAGE_HOLD',
  /** Email over SMTP: `smtp://[user@]host:port` or `smtps://` (`--smtp`); without it email goes to the mock. */
  smtpUrl: 'SMTP_URL',
  /** The SMTP password, kept out of argv (`--smtp-password-file`). */
  smtpPassword: 'SMTP_PASSWORD',
  /** A PEM file of the CA to trust for SMTP TLS (`--smtp-ca`). */
  smtpCa: 'SMTP_CA_FILE',
  /** The emails' From (`--smtp-from`). */
  smtpFrom: 'SMTP_FROM',
  /** The webhook channel's endpoint (`--webhook-url`); without it webhooks go to the mock. */
  webhookUrl: 'WEBHOOK_URL',
  /** The webhooks' signing secret, `whsec_<base64>` (`--webhook-secret-file`). */
  webhookSecret: 'WEBHOOK_SECRET',
  /** Push over MQTT: `mqtt://host:port` or `mqtts://` (`--push-mqtt`); without it push goes to the mock. */
  pushMqttUrl: 'PUSH_MQTT_URL',
  /** Messages each mock provider's outbox keeps. */
  outboxMaxLen: 'EVENTSTREAM_OUTBOX_MAXLEN',
  /** Test hook of the fault suite: the step at which the consumer kills itself (src/pipeline/crash-point.ts). */
  crashAt: 'EVENTSTREAM_CRASH_AT',
  /** Test hook of the rules tests: milliseconds added to the pipeline's clock (src/pipeline/clock.ts). */
  clockOffset: 'EVENTSTREAM_CLOCK_OFFSET_MS',
  /** The port of the metrics and health endpoints (`--metrics-port`); unset: none. */
  metricsPort: 'METRICS_PORT',
  /** The address they listen on (`--metrics-host`; default 127.0.0.1). */
  metricsHost: 'METRICS_HOST',
  /** pino log level of the log file and of headless stderr. */
  logLevel: 'LOG_LEVEL',
  /** Set and not empty: no colour in the dashboard (https://no-color.org). */
  noColor: 'NO_COLOR',
  /** Where the local stack keeps its jars, data, logs and state. */
  home: 'EVENTSTREAM_HOME',
  /** The cache folder the stack's home defaults under (`$XDG_CACHE_HOME/eventstream-tui`). */
  cacheHome: 'XDG_CACHE_HOME',
  /** Where the stack looks for java, mvn and redis-server. */
  path: 'PATH',
  /** The Java to run the local Kafka with (`$JAVA_HOME/bin/java`), before java on PATH. */
  javaHome: 'JAVA_HOME',
  /** Set (CI logs): the stack's progress is plain lines, never a live spinner. */
  ci: 'CI',
  /** node's own options: a V8 heap flag named here wins over the executable's (src/cli/exec.ts). */
  nodeOptions: 'NODE_OPTIONS',
  /** Test hook: set, the process that runs a command says on stderr how node started it (`exec: {…}`). */
  debugExec: 'EVENTSTREAM_DEBUG_EXEC',
  /** Set by the executable for the node it re-runs with V8 flags: the parent's pid (src/cli/exec.ts). */
  execParent: 'EVENTSTREAM_EXEC_PARENT',
} as const;

/** A variable's value; unset and empty are alike (undefined). */
function read(env: Environment, name: string): string | undefined {
  const value = env[name];
  return value !== undefined && value !== '' ? value : undefined;
}

/** LOG_LEVEL as given (checked by resolveConfig), else `fallback`. */
export function logLevel(fallback: string, env: Environment = processEnvironment()): string {
  return env[ENV_VARS.logLevel] ?? fallback;
}

/** Colour unless NO_COLOR is set to something (https://no-color.org: an empty value does not count). */
export function colorWanted(env: Environment = processEnvironment()): boolean {
  return read(env, ENV_VARS.noColor) === undefined;
}

/**
 * The crash points of src/pipeline/crash-point.ts, by name (the pipeline is above this layer, so the
 * list is its own here; src/cli/main.ts, which hands one to the pipeline, fails to compile when the two
 * differ).
 */
const CRASH_POINTS = ['before-commit', 'before-mark', 'due-before-done', 'transport-before-record'] as const;
export type CrashPointName = (typeof CRASH_POINTS)[number];

/** EVENTSTREAM_CRASH_AT when it names a crash point (resolveConfig refuses any other value). */
export function crashAt(env: Environment = processEnvironment()): CrashPointName | undefined {
  const value = env[ENV_VARS.crashAt];
  return CRASH_POINTS.find((p) => p === value);
}

/** EVENTSTREAM_CLOCK_OFFSET_MS as a number of milliseconds (0 when unset; resolveConfig refuses a non-number). */
export function clockOffsetMs(env: Environment = processEnvironment()): number {
  const value = read(env, ENV_VARS.clockOffset);
  return value !== undefined && /^-?\d+$/.test(value.trim()) ? Number(value) : 0;
}

/** The crash points EVENTSTREAM_CRASH_AT may name. */
export const CRASH_POINT_NAMES: readonly string[] = CRASH_POINTS;

/** The folders on PATH, in order. */
export function searchPath(env: Environment = processEnvironment()): string[] {
  return (env[ENV_VARS.path] ?? '').split(path.delimiter).filter((dir) => dir.length > 0);
}

/** JAVA_HOME when set. */
export function javaHome(env: Environment = processEnvironment()): string | undefined {
  return read(env, ENV_VARS.javaHome);
}

/** EVENTSTREAM_HOME and XDG_CACHE_HOME, each when set: where the stack's home is (src/stack/paths.ts). */
export function stackHomeSettings(env: Environment = processEnvironment()): {
  home: string | undefined;
  cacheHome: string | undefined;
} {
  return { home: read(env, ENV_VARS.home), cacheHome: read(env, ENV_VARS.cacheHome) };
}

/** Whether CI is set: output read from a log, not watched on a terminal. */
export function inCI(env: Environment = processEnvironment()): boolean {
  return Boolean(env[ENV_VARS.ci]);
}

/** NODE_OPTIONS, as given ('' when unset). */
export function nodeOptions(env: Environment = processEnvironment()): string {
  return read(env, ENV_VARS.nodeOptions) ?? '';
}

/** EVENTSTREAM_DEBUG_EXEC set (a test hook). */
export function debugExec(env: Environment = processEnvironment()): boolean {
  return read(env, ENV_VARS.debugExec) !== undefined;
}

/** The pid the executable's parent process left for the node it re-ran (EVENTSTREAM_EXEC_PARENT), if any. */
export function execParentPid(env: Environment = processEnvironment()): number | undefined {
  const value = read(env, ENV_VARS.execParent);
  return value !== undefined && /^\d+$/.test(value) ? Number(value) : undefined;
}
