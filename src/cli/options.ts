/** Shared option parsing for every subcommand: bad values are usage errors (exit 2). */
import { InvalidArgumentError, Option, type Command } from 'commander';
import {
  ConfigError,
  DEFAULT_SMTP_FROM,
  parseBrokers,
  parseDedupeWindow,
  parseOutageHold,
  parsePushMqttUrl,
  parseRedisUrl,
  parseWaitReplicas,
  parseWaitTimeout,
  parseSmtpFrom,
  parseSmtpUrl,
  parseWebhookUrl,
} from '../config/config.js';
import { parseMetricsHost, parseMetricsPort } from '../config/metrics.js';

export function asArgumentError<T>(parse: (v: string) => T): (v: string) => string {
  return (value) => {
    try {
      parse(value);
      return value;
    } catch (error) {
      if (error instanceof ConfigError) throw new InvalidArgumentError(error.message);
      throw error;
    }
  };
}

export function positiveInt(name: string, { allowZero = false } = {}): (v: string) => number {
  return (value) => {
    const n = Number(value);
    if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || (!allowZero && n === 0)) {
      throw new InvalidArgumentError(`${name} must be a whole number${allowZero ? '' : ' above 0'}, not "${value}"`);
    }
    return n;
  };
}

export function nonNegativeNumber(name: string): (v: string) => number {
  return (value) => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n < 0) {
      throw new InvalidArgumentError(`${name} must be a number of 0 or more, not "${value}"`);
    }
    return n;
  };
}

export const brokersOption = (): Option =>
  new Option(
    '--brokers <list>',
    'Kafka bootstrap servers, comma separated (env KAFKA_BROKERS; default localhost:9092)',
  ).argParser(asArgumentError(parseBrokers));

/**
 * --redis: checked as it is parsed, but refused through a ConfigError (exit 2, `error: ...`), not
 * commander's usage error, which would repeat the value whole, password and all.
 */
export const redisOption = (): Option =>
  new Option(
    '--redis <url>',
    'Redis URL, redis://, rediss://, or redis+sentinel://host:port[,host:port...]/<name> for the primary a set of Sentinels watches (env REDIS_URL; default redis://127.0.0.1:6379); the password best in REDIS_PASSWORD or --redis-password-file',
  ).argParser((value: string) => parseRedisUrl(value));

export const redisPasswordFileOption = (): Option =>
  new Option(
    '--redis-password-file <path>',
    'file holding the Redis password (or env REDIS_PASSWORD), so that it is not in the command line',
  );

/** The documented maximum of --rate: above it one tick of the schedule would build more than memory holds. */
export const MAX_RATE = 100_000;

export function rateOption(description: string, defaultRate?: number): Option {
  const option = new Option('--rate <n>', `${description}, 0..${MAX_RATE.toLocaleString('en-US')}`).argParser(
    (value) => {
      const n = nonNegativeNumber('--rate')(value);
      if (n > MAX_RATE) {
        throw new InvalidArgumentError(
          `--rate must be at most ${MAX_RATE.toLocaleString('en-US')} events per second, not "${value}"`,
        );
      }
      return n;
    },
  );
  return defaultRate === undefined ? option : option.default(defaultRate);
}

export const dedupeWindowOption = (): Option =>
  new Option(
    '--dedupe-window <duration>',
    'how long deliveries are remembered against redelivery, 1m..30d (env DEDUPE_WINDOW; default 24h); every consumer of a group must use the same',
  ).argParser(asArgumentError(parseDedupeWindow));

export const outageHoldOption = (): Option =>
  new Option(
    '--outage-hold <duration>',
    'how long sends of a transport that does not answer are held before they are dead-lettered (transport-down), as <n><unit> with s, m, h or d (env OUTAGE_HOLD; default 10m)',
  ).argParser(asArgumentError(parseOutageHold));

/** The connection flags; `redis: false` for a command that reads only Kafka. */
export function withConnectionOptions(cmd: Command, { redis = true } = {}): Command {
  cmd.addOption(brokersOption());
  if (redis) cmd.addOption(redisOption()).addOption(redisPasswordFileOption());
  return cmd
    .addOption(new Option('--topic <name>', 'events topic (env EVENTS_TOPIC; default user_events)'))
    .addOption(
      new Option('--kafka-sasl <mechanism>', 'Kafka SASL mechanism (env KAFKA_SASL_MECHANISM)').choices([
        'plain',
        'scram-sha-256',
        'scram-sha-512',
      ]),
    )
    .addOption(new Option('--kafka-username <name>', 'Kafka SASL user (env KAFKA_USERNAME)'))
    .addOption(
      new Option(
        '--kafka-password-file <path>',
        'file holding the Kafka SASL password (or env KAFKA_PASSWORD; never a flag value)',
      ),
    )
    .addOption(new Option('--kafka-tls', 'TLS to the brokers (env KAFKA_TLS=1)'))
    .addOption(new Option('--kafka-ca <file>', 'PEM file of the CA to trust for Kafka TLS (env KAFKA_CA_FILE)'));
}

/**
 * The consumer's flags, each declared once: `consume` and `run` take them all; the dashboard
 * (`{ dashboard: true }`) those that mean something there.
 */
const CONSUMER_OPTIONS: { option: () => Option; dashboard: boolean }[] = [
  {
    option: () => new Option('--group <id>', 'consumer group (env CONSUMER_GROUP; default notification-service)'),
    dashboard: true,
  },
  {
    option: () =>
      new Option('--partitions <n>', 'partitions of topics it creates (default 3)').argParser(
        positiveInt('--partitions'),
      ),
    dashboard: true,
  },
  {
    option: () =>
      new Option('--from <where>', 'where a new consumer group starts')
        .choices(['earliest', 'latest'])
        .default('earliest'),
    dashboard: true,
  },
  { option: dedupeWindowOption, dashboard: true },
  { option: outageHoldOption, dashboard: true },
  {
    option: () =>
      new Option(
        '--redis-wait-replicas <n>',
        "replicas that must acknowledge a chunk's Redis writes (WAIT) before its offsets are committed, 0 (off) to 5 (env REDIS_WAIT_REPLICAS; default 0): with a Redis replica, a failover repeats no more than the chunk in flight",
      ).argParser(asArgumentError(parseWaitReplicas)),
    dashboard: true,
  },
  {
    option: () =>
      new Option(
        '--redis-wait-timeout <duration>',
        'how long that WAIT may take, 1ms..60s, e.g. 500ms or 2s (env REDIS_WAIT_TIMEOUT; default 1s); a WAIT that times out is reported and the chunk committed',
      ).argParser(asArgumentError(parseWaitTimeout)),
    dashboard: true,
  },
  {
    option: () =>
      new Option('--max-bytes <n>', 'events larger than this go to the dead-letter topic')
        .argParser(positiveInt('--max-bytes'))
        .default(1024 * 1024),
    dashboard: false,
  },
  {
    option: () =>
      new Option('--latency <ms>', 'mock senders: latency per send in ms')
        .argParser(nonNegativeNumber('--latency'))
        .default(0),
    dashboard: true,
  },
  {
    option: () =>
      new Option('--failure-rate <r>', 'mock senders: share of sends that fail, 0..1')
        .argParser((v) => {
          const n = nonNegativeNumber('--failure-rate')(v);
          if (n > 1) throw new InvalidArgumentError('--failure-rate must be between 0 and 1');
          return n;
        })
        .default(0),
    dashboard: false,
  },
  // The real transports (README, "Transports"). A URL is checked as it is parsed but refused through a
  // ConfigError (exit 2, `error: ...`), like --redis: commander's own usage error would repeat it whole.
  {
    option: () =>
      new Option(
        '--smtp <url>',
        'email over SMTP, smtp://[user@]host:port or smtps:// (env SMTP_URL; default: the mock); the password in SMTP_PASSWORD or --smtp-password-file',
      ).argParser((value: string) => parseSmtpUrl(value)),
    dashboard: true,
  },
  {
    option: () =>
      new Option(
        '--smtp-password-file <path>',
        'file holding the SMTP password (or env SMTP_PASSWORD), so that it is not in the command line',
      ),
    dashboard: true,
  },
  {
    option: () => new Option('--smtp-ca <file>', 'PEM file of the CA to trust for SMTP TLS (env SMTP_CA_FILE)'),
    dashboard: true,
  },
  {
    option: () =>
      new Option('--smtp-from <address>', `the emails' From (env SMTP_FROM; default "${DEFAULT_SMTP_FROM}")`).argParser(
        asArgumentError(parseSmtpFrom),
      ),
    dashboard: true,
  },
  {
    option: () =>
      new Option(
        '--webhook-url <url>',
        'the webhook channel: a signed POST per message to this http(s) URL (env WEBHOOK_URL; default: the mock); the secret in WEBHOOK_SECRET or --webhook-secret-file',
      ).argParser((value: string) => parseWebhookUrl(value)),
    dashboard: true,
  },
  {
    option: () =>
      new Option(
        '--webhook-secret-file <path>',
        'file holding the webhook signing secret, whsec_<base64> (or env WEBHOOK_SECRET)',
      ),
    dashboard: true,
  },
  {
    option: () =>
      new Option(
        '--push-mqtt <url>',
        'push over MQTT, mqtt://host:port or mqtts:// (env PUSH_MQTT_URL; default: the mock)',
      ).argParser((value: string) => parsePushMqttUrl(value)),
    dashboard: true,
  },
  {
    option: () =>
      new Option('--output <mode>', 'stdout: a JSON line per outcome, a stats line per second, or nothing')
        .choices(['lines', 'stats', 'none'])
        .default('lines'),
    dashboard: false,
  },
  // Metrics and health endpoints (docs/operations.md): off unless a port is given.
  {
    option: () =>
      new Option(
        '--metrics-port <port>',
        'serve /metrics (Prometheus), /livez, /readyz and /healthz on this port (env METRICS_PORT; default: off)',
      ).argParser(asArgumentError(parseMetricsPort)),
    dashboard: true,
  },
  {
    option: () =>
      new Option(
        '--metrics-host <address>',
        'the address they listen on (env METRICS_HOST; default 127.0.0.1; 0.0.0.0: every interface)',
      ).argParser(asArgumentError(parseMetricsHost)),
    dashboard: true,
  },
];

export function withConsumerOptions(cmd: Command, { dashboard = false } = {}): Command {
  for (const { option, dashboard: shown } of CONSUMER_OPTIONS) if (shown || !dashboard) cmd.addOption(option());
  return cmd;
}
