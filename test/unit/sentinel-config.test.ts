/** `--redis redis+sentinel://…`, `--redis-wait-replicas`, `--redis-wait-timeout`, `--redis-replica`. */
import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  parseRedisUrl,
  parseReplicaPorts,
  parseSentinelUrl,
  parseWaitReplicas,
  parseWaitTimeout,
  redactUrl,
  redisAddresses,
  redisHostPort,
  resolveConfig,
} from '../../src/config/config.js';
import { sentinelConfig } from '../../src/stack/stack.js';
import { configuredAddresses } from '../../src/stack/stack.js';
import { recordStarted, readState, writeState } from '../../src/stack/state.js';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

describe('redis+sentinel:// URLs', () => {
  it('names the Sentinels (default port 26379) and the primary set', () => {
    expect(parseSentinelUrl('redis+sentinel://127.0.0.1:26379,10.0.0.2,[::1]:26380/mymaster')).toEqual({
      sentinels: [
        { host: '127.0.0.1', port: 26379 },
        { host: '10.0.0.2', port: 26379 },
        { host: '::1', port: 26380 },
      ],
      name: 'mymaster',
      tls: false,
    });
    expect(parseSentinelUrl('rediss+sentinel://app:s%40cret@h:1/set?sentinelPassword=sp')).toEqual({
      sentinels: [{ host: 'h', port: 1 }],
      name: 'set',
      tls: true,
      username: 'app',
      password: 's@cret',
      sentinelPassword: 'sp',
    });
    expect(parseSentinelUrl('redis://127.0.0.1:6379')).toBeUndefined();
    expect(parseRedisUrl('redis+sentinel://a:1,b:2/m')).toBe('redis+sentinel://a:1,b:2/m');
  });

  it.each([
    ['redis+sentinel://a:1,b:2', /names no primary/],
    ['redis+sentinel://a:1,b:2/', /names no primary/],
    ['redis+sentinel://a:1,,b:2/m', /empty Sentinel address/],
    ['redis+sentinel://a:99999/m', /"a:99999" that is not host:port/],
    ['redis+sentinel://a:1/m?db=2', /unknown parameter "db"/],
    ['redis+sentinel://a:1/m/x', /is not redis\+sentinel/],
  ])('refuses %s', (url, message) => {
    expect(() => parseRedisUrl(url)).toThrow(ConfigError);
    expect(() => parseRedisUrl(url)).toThrow(message);
  });

  it('never shows a password, in the URL or in a message about it', () => {
    expect(redactUrl('redis+sentinel://u:hunter2@a:1,b:2/m')).toBe('redis+sentinel://u:***@a:1,b:2/m');
    expect(redactUrl('redis+sentinel://u:hunter2@a:1/m')).not.toContain('hunter2');
    expect(redactUrl('redis+sentinel://a:1,b:2/m?sentinelPassword=hunter2')).toBe(
      'redis+sentinel://a:1,b:2/m?sentinelPassword=***',
    );
    try {
      parseRedisUrl('redis+sentinel://u:hunter2@a:1,b:2');
      expect.unreachable();
    } catch (error) {
      expect((error as Error).message).not.toContain('hunter2');
      expect((error as Error).message).toContain('u:***@');
    }
  });

  it('takes the password of REDIS_PASSWORD, and refuses two passwords', () => {
    const config = resolveConfig({ redis: 'redis+sentinel://app@a:1,b:2/m' }, { REDIS_PASSWORD: 'p w@d' });
    expect(parseSentinelUrl(config.redisUrl)).toMatchObject({ username: 'app', password: 'p w@d', name: 'm' });
    expect(() => resolveConfig({ redis: 'redis+sentinel://:one@a:1/m' }, { REDIS_PASSWORD: 'two' })).toThrow(
      /carries a password and REDIS_PASSWORD gives one too/,
    );
  });

  it('gives the probes and the stack every Sentinel address', () => {
    const url = 'redis+sentinel://127.0.0.1:26390,127.0.0.1:26391/m';
    expect(redisHostPort(url)).toEqual({ host: '127.0.0.1', port: 26390 });
    expect(redisAddresses(url)).toHaveLength(2);
    expect(redisAddresses('redis://h:7')).toEqual([{ host: 'h', port: 7 }]);
    expect(configuredAddresses({ brokers: [], redisUrl: url }, 'redis')).toEqual([
      '127.0.0.1:26390',
      '127.0.0.1:26391',
    ]);
  });
});

describe('--redis-wait-replicas and --redis-wait-timeout', () => {
  it('are off by default, and read from flags over the environment', () => {
    expect(resolveConfig({}, {})).toMatchObject({ redisWaitReplicas: 0, redisWaitTimeoutMs: 1000 });
    expect(resolveConfig({}, { REDIS_WAIT_REPLICAS: '1', REDIS_WAIT_TIMEOUT: '250ms' })).toMatchObject({
      redisWaitReplicas: 1,
      redisWaitTimeoutMs: 250,
    });
    expect(
      resolveConfig({ redisWaitReplicas: '2', redisWaitTimeout: '2s' }, { REDIS_WAIT_REPLICAS: '1' }),
    ).toMatchObject({ redisWaitReplicas: 2, redisWaitTimeoutMs: 2000 });
  });

  it('refuse what is not a count or a duration, naming where it came from', () => {
    expect(parseWaitReplicas('0')).toBe(0);
    for (const bad of ['-1', '6', '1.5', 'one', '']) expect(() => parseWaitReplicas(bad)).toThrow(ConfigError);
    expect(parseWaitTimeout('1ms')).toBe(1);
    expect(parseWaitTimeout('60s')).toBe(60_000);
    for (const bad of ['0ms', '61s', '2', 'soon', '1h']) expect(() => parseWaitTimeout(bad)).toThrow(ConfigError);
    expect(() => resolveConfig({}, { REDIS_WAIT_REPLICAS: 'x' })).toThrow(/REDIS_WAIT_REPLICAS "x"/);
  });
});

describe('stack up --redis-replica', () => {
  it('takes two different ports', () => {
    expect(parseReplicaPorts('6390,6391')).toEqual({ primary: 6390, replica: 6391 });
    for (const bad of ['6390', '6390,6390', '0,1', 'a,b', '6390,6391,6392', '70000,1'])
      expect(() => parseReplicaPorts(bad)).toThrow(/is not <primary-port>,<replica-port>/);
  });

  it("writes a Sentinel's configuration with a majority quorum and short timeouts, the password quoted", () => {
    const set = parseSentinelUrl('redis+sentinel://app:p"w@127.0.0.1:1,127.0.0.1:2,127.0.0.1:3/m')!;
    const lines = sentinelConfig(set, { host: '127.0.0.1', port: 2 }, { host: '127.0.0.1', port: 6390 }, '/d');
    expect(lines).toContain('sentinel monitor "m" 127.0.0.1 6390 2');
    expect(lines).toContain('sentinel down-after-milliseconds "m" 2000');
    expect(lines).toContain('sentinel auth-pass "m" "p\\"w"');
    expect(lines).toContain('sentinel auth-user "m" "app"');
  });

  it('records each process with its role and set in stack.json', () => {
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'etui-state-')), 'stack.json');
    const state = readState(file);
    recordStarted(state, 'redis', { pid: 1, address: 'h:1', log: 'l', startedAt: 't', role: 'primary', set: 'm' });
    recordStarted(state, 'redis', { pid: 2, address: 'h:2', log: 'l', startedAt: 't', role: 'sentinel', set: 'm' });
    writeState(file, state);
    expect(readState(file).started.map((r) => [r.address, r.role, r.set])).toEqual([
      ['h:1', 'primary', 'm'],
      ['h:2', 'sentinel', 'm'],
    ]);
  });
});
