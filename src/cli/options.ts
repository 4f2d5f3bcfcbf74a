/** Shared option parsing for every subcommand: bad values are usage errors (exit 2). */
import { InvalidArgumentError, Option } from 'commander';
import { ConfigError, parseBrokers, parseDedupeWindow, parseRedisUrl } from '../config/config.js';

function asArgumentError<T>(parse: (v: string) => T): (v: string) => string {
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

export const redisOption = (): Option =>
  new Option(
    '--redis <url>',
    'Redis URL, redis:// or rediss:// (env REDIS_URL; default redis://127.0.0.1:6379)',
  ).argParser(asArgumentError(parseRedisUrl));

export const dedupeWindowOption = (): Option =>
  new Option(
    '--dedupe-window <duration>',
    'how long deliveries are remembered against redelivery, 1m..30d (env DEDUPE_WINDOW; default 24h); every consumer of a group must use the same',
  ).argParser(asArgumentError(parseDedupeWindow));
