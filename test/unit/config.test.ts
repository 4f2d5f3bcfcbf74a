import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  DEFAULTS,
  explicitServices,
  parseBrokers,
  parseDedupeWindow,
  resolveConfig,
} from '../../src/config/config.js';

describe('configuration: flags over env over defaults', () => {
  it('uses the defaults when nothing is set', () => {
    expect(resolveConfig({}, {})).toEqual(DEFAULTS);
  });

  it('takes the environment over the defaults', () => {
    const config = resolveConfig(
      {},
      { KAFKA_BROKERS: 'k1:9092,k2:9093', REDIS_URL: 'redis://r:6380', EVENTS_TOPIC: 't', CONSUMER_GROUP: 'g' },
    );
    expect(config.brokers).toEqual(['k1:9092', 'k2:9093']);
    expect(config.redisUrl).toBe('redis://r:6380');
    expect(config.topic).toBe('t');
    expect(config.group).toBe('g');
  });

  it('takes flags over the environment', () => {
    const config = resolveConfig(
      { brokers: 'flag:1', redis: 'rediss://flag:2' },
      { KAFKA_BROKERS: 'env:1', REDIS_URL: 'redis://env:2' },
    );
    expect(config.brokers).toEqual(['flag:1']);
    expect(config.redisUrl).toBe('rediss://flag:2');
  });

  it('reads the dedupe window as a duration, flag over env, and refuses what is not one or out of range', () => {
    expect(DEFAULTS.dedupeWindowSeconds).toBe(86400);
    expect([
      parseDedupeWindow('90s'),
      parseDedupeWindow('30m'),
      parseDedupeWindow('6H'),
      parseDedupeWindow('7d'),
      parseDedupeWindow('600'),
    ]).toEqual([90, 1800, 21600, 604800, 600]);
    expect(resolveConfig({}, { DEDUPE_WINDOW: '2h' }).dedupeWindowSeconds).toBe(7200);
    expect(resolveConfig({ dedupeWindow: '10m' }, { DEDUPE_WINDOW: '2h' }).dedupeWindowSeconds).toBe(600);
    expect(() => resolveConfig({}, { DEDUPE_WINDOW: 'a while' })).toThrow(/DEDUPE_WINDOW "a while" is not a duration/);
    for (const bad of ['59s', '31d', '1.5h', '-1m', '']) expect(() => parseDedupeWindow(bad), bad).toThrow(ConfigError);
  });

  it('knows when a service was named explicitly (so it must never fall back silently)', () => {
    expect(explicitServices({}, {})).toEqual({ kafka: false, redis: false });
    expect(explicitServices({ brokers: 'a:1' }, {})).toEqual({ kafka: true, redis: false });
    expect(explicitServices({}, { REDIS_URL: 'redis://x:1' })).toEqual({ kafka: false, redis: true });
  });

  it('rejects brokers that are not host:port with a message naming the bad one', () => {
    expect(() => parseBrokers('localhost')).toThrow(ConfigError);
    expect(() => parseBrokers('ok:1,bad:99999')).toThrow(/"bad:99999"/);
    expect(() => parseBrokers(' , ')).toThrow(/no broker/);
  });

  it('rejects a Redis URL of another scheme', () => {
    expect(() => resolveConfig({ redis: 'http://x:1' }, {})).toThrow(/redis:\/\/ or rediss:\/\//);
    expect(() => resolveConfig({ redis: 'not a url' }, {})).toThrow(/not a URL/);
  });
});
