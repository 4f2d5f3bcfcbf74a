import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  DEFAULTS,
  explicitServices,
  parseBrokers,
  parseDedupeWindow,
  parseGroup,
  parseTopic,
  redactUrl,
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

  it('takes a topic Kafka accepts whose <topic>.dlq it accepts too, and refuses any other, naming the setting', () => {
    for (const good of ['user_events', 'a', 'A.b-c_9', '...', 'x'.repeat(245)])
      expect(parseTopic(good), good).toBe(good);
    expect(resolveConfig({ topic: 'orders.v2' }, {}).topic).toBe('orders.v2');
    for (const bad of ['a b', '', '.', '..', 'a/b', 'café', 'x'.repeat(246), 'x'.repeat(249), 'x'.repeat(300)]) {
      expect(() => resolveConfig({ topic: bad }, {}), bad).toThrow(ConfigError);
      expect(() => resolveConfig({ topic: bad }, {}), bad).toThrow(/^--topic "/);
    }
    expect(() => parseTopic('x'.repeat(246))).toThrow(/246 characters long: at most 245, so that .*<topic>\.dlq/);
    // an escape sequence in the value does not reach the terminal: it is shown escaped
    expect(() => parseTopic('a\u001b[31mb')).toThrow(/^--topic "a\\u001b\[31mb" is not a Kafka topic name/);
    // the environment's value, under its variable's name; the flag wins over it
    expect(() => resolveConfig({}, { EVENTS_TOPIC: 'bad topic' })).toThrow(/^EVENTS_TOPIC "bad topic" is not a Kafka/);
    expect(resolveConfig({ topic: 'good' }, { EVENTS_TOPIC: 'bad topic' }).topic).toBe('good');
    expect(resolveConfig({}, { EVENTS_TOPIC: '' }).topic).toBe(DEFAULTS.topic);
  });

  it('takes a group id that is not blank and at most 255 characters', () => {
    expect(parseGroup('notification-service')).toBe('notification-service');
    expect(parseGroup('g'.repeat(255))).toBe('g'.repeat(255));
    expect(() => resolveConfig({ group: '' }, {})).toThrow(/^--group "" is empty/);
    expect(() => resolveConfig({ group: '  ' }, {})).toThrow(ConfigError);
    expect(() => resolveConfig({ group: 'g'.repeat(256) }, {})).toThrow(
      /^--group "g+\.\.\." is 256 characters long: at most 255/,
    );
    expect(() => resolveConfig({}, { CONSUMER_GROUP: 'g'.repeat(256) })).toThrow(/^CONSUMER_GROUP /);
  });

  it('rejects a Redis URL of another scheme', () => {
    expect(() => resolveConfig({ redis: 'http://x:1' }, {})).toThrow(/redis:\/\/, rediss:\/\/ or redis\+sentinel:\/\//);
    expect(() => resolveConfig({ redis: 'not a url' }, {})).toThrow(/not a URL/);
  });
});

describe('secrets never shown', () => {
  it.each([
    ['a URL password', 'redis://alice:s3cret@r:6379', 'redis://alice:***@r:6379'],
    ['a ?password= query', 'redis://r:6379/0?password=s3cret&db=1', 'redis://r:6379/0?password=***&db=1'],
    ['any query named like a secret', 'rediss://r?authToken=s3cret', 'rediss://r?authToken=***'],
    ['a value that is not a URL', 'rediss//user:s3cret@host', 'rediss//user:***@host'],
    ['a bad port, with @ in the password', 'redis://u:s3c@ret@h:99999', 'redis://u:***@h:99999'],
    ['no scheme at all', 'u:s3cret@h', 'u:***@h'],
    ['a broken query', 'redis//h?password=s3cret', 'redis//h?password=***'],
  ])('redactUrl hides %s', (_name, url, shown) => {
    expect(redactUrl(url)).toBe(shown);
  });

  it('leaves a URL without secrets as it is', () => {
    expect(redactUrl('redis://127.0.0.1:6379')).toBe('redis://127.0.0.1:6379');
  });

  it.each([
    'rediss//user:s3cret@host',
    'http://u:s3cret@h:1',
    'redis://u:s3cret@h:99999',
    'redis://u:s3cret@ h',
    'redis:u:s3cret@h',
  ])('an invalid Redis URL is refused without its password: %s', (url) => {
    let message = '';
    try {
      resolveConfig({ redis: url }, {});
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/Redis URL/);
    expect(message).not.toContain('s3cret');
  });
});

describe('the Redis password outside argv', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'etui-config-'));

  it('REDIS_PASSWORD is folded into the URL every client uses (encoded, any character)', () => {
    const config = resolveConfig({ redis: 'redis://alice@r:6380/2' }, { REDIS_PASSWORD: 'p@ss w:rd%/"' });
    const url = new URL(config.redisUrl);
    expect(decodeURIComponent(url.username)).toBe('alice');
    expect(decodeURIComponent(url.password)).toBe('p@ss w:rd%/"');
    expect(url.pathname).toBe('/2');
    expect(redactUrl(config.redisUrl)).toBe('redis://alice:***@r:6380/2');
  });

  it('--redis-password-file wins over REDIS_PASSWORD; one trailing newline is dropped', () => {
    const file = path.join(dir, 'redis-password');
    writeFileSync(file, 'from-file\n');
    const config = resolveConfig({ redisPasswordFile: file }, { REDIS_PASSWORD: 'from-env' });
    expect(decodeURIComponent(new URL(config.redisUrl).password)).toBe('from-file');
  });

  it('an unreadable file, or a URL with a password of its own as well, is a usage error without the secret', () => {
    expect(() => resolveConfig({ redisPasswordFile: path.join(dir, 'nope') }, {})).toThrow(
      /cannot read --redis-password-file .*nope: ENOENT/,
    );
    for (const redis of ['redis://:in-url@r:1', 'redis://r:1?password=in-url']) {
      expect(() => resolveConfig({ redis }, { REDIS_PASSWORD: 'from-env' })).toThrow(ConfigError);
      expect(() => resolveConfig({ redis }, { REDIS_PASSWORD: 'from-env' })).toThrow(
        /carries a password and REDIS_PASSWORD gives one too/,
      );
      try {
        resolveConfig({ redis }, { REDIS_PASSWORD: 'from-env' });
      } catch (error) {
        expect((error as Error).message).not.toMatch(/in-url|from-env/);
      }
    }
  });
});

describe('settings from the environment, checked at start', () => {
  it('EVENTSTREAM_OUTBOX_MAXLEN: a whole number from 1 to 10,000,000', () => {
    expect(resolveConfig({}, { EVENTSTREAM_OUTBOX_MAXLEN: '2000000' }).outboxMaxLen).toBe(2_000_000);
    expect(resolveConfig({}, {}).outboxMaxLen).toBe(10_000);
    for (const bad of ['1.5', '-5', '0', 'lots', '1e3', '10000001', ' ']) {
      if (bad.trim() === '') continue; // empty counts as unset
      expect(() => resolveConfig({}, { EVENTSTREAM_OUTBOX_MAXLEN: bad }), bad).toThrow(
        /EVENTSTREAM_OUTBOX_MAXLEN ".*" is not a whole number from 1 to 10,000,000/,
      );
    }
  });

  it.each([
    ['LOG_LEVEL', 'loud', /LOG_LEVEL "loud" is not one of fatal, error, warn, info, debug, trace, silent/],
    ['EVENTSTREAM_CRASH_AT', 'sometimes', /EVENTSTREAM_CRASH_AT "sometimes" is not one of before-commit, before-mark/],
    ['KAFKA_TLS', 'yes please', /KAFKA_TLS "yes please" is not one of 1, 0, true, false/],
    ['KAFKA_CA_FILE', '/nonexistent/ca.pem', /cannot read KAFKA_CA_FILE \/nonexistent\/ca.pem: ENOENT/],
    ['REDIS_CA_FILE', '/nonexistent/ca.pem', /cannot read REDIS_CA_FILE \/nonexistent\/ca.pem: ENOENT/],
    ['DEDUPE_WINDOW', '1.5h', /DEDUPE_WINDOW "1.5h" is not a duration/],
  ])('%s=%s is a usage error naming it', (name, value, message) => {
    expect(() => resolveConfig({}, { [name]: value })).toThrow(ConfigError);
    expect(() => resolveConfig({}, { [name]: value })).toThrow(message);
  });

  it('KAFKA_TLS takes the usual words for on and off', () => {
    expect(resolveConfig({}, { KAFKA_TLS: 'true' }).kafkaSecurity.tls).toEqual({});
    expect(resolveConfig({}, { KAFKA_TLS: 'off' }).kafkaSecurity.tls).toBeUndefined();
  });
});
