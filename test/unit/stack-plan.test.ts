import { describe, expect, it } from 'vitest';
import { planService, redisAuthConfig, redisConfString } from '../../src/stack/stack.js';
import { classifyMavenFailure } from '../../src/stack/kafka-runtime.js';
import { parseJavaMajor } from '../../src/stack/toolchain.js';
import { judgeKafkaAnswer, kafkaApiVersionsRequest } from '../../src/adapters/kafka/probe.js';
import { judgeRedisAnswer } from '../../src/adapters/redis/probe.js';

const record = { pid: 4242, address: 'localhost:9092', log: '/tmp/kafka.log', startedAt: '2026-01-01T00:00:00Z' };

describe('stack up decides to reuse or to start', () => {
  it('uses a Kafka that answers and was not started by us, and starts nothing', () => {
    expect(
      planService('kafka', 'localhost:9092', { state: 'answers', detail: '' }, undefined, false, true).action,
    ).toBe('use-external');
  });

  it('recognises the broker it started earlier', () => {
    const plan = planService('kafka', 'localhost:9092', { state: 'answers', detail: '' }, record, true, true);
    expect(plan).toEqual({ action: 'use-ours', record });
  });

  it('treats a stale record (our pid is gone, someone else answers) as external', () => {
    expect(planService('kafka', 'localhost:9092', { state: 'answers', detail: '' }, record, false, true).action).toBe(
      'use-external',
    );
  });

  it('waits for a service it started that does not answer yet, instead of starting a second on its port', () => {
    for (const state of ['closed', 'foreign'] as const) {
      expect(planService('kafka', 'localhost:9092', { state, detail: '' }, record, true, true)).toEqual({
        action: 'wait-ours',
        record,
      });
    }
    // Its pid gone: started anew.
    expect(planService('kafka', 'localhost:9092', { state: 'closed', detail: '' }, record, false, true).action).toBe(
      'start',
    );
  });

  it('starts a local service when nothing answers', () => {
    expect(
      planService('redis', '127.0.0.1:6379', { state: 'closed', detail: 'ECONNREFUSED' }, undefined, false, true)
        .action,
    ).toBe('start');
  });

  it('refuses to start anything for a remote address that does not answer', () => {
    const plan = planService(
      'kafka',
      'kafka.example:9092',
      { state: 'closed', detail: 'ETIMEDOUT' },
      undefined,
      false,
      false,
    );
    expect(plan.action).toBe('error');
    if (plan.action === 'error') {
      expect(plan.error.code).toBe('NOT_LOCAL');
      expect(plan.error.message).toContain('kafka.example:9092');
    }
  });

  it('names the program holding the port when it is not the expected server', () => {
    const plan = planService(
      'kafka',
      'localhost:9092',
      { state: 'foreign', detail: 'answered, but not with the Kafka protocol' },
      undefined,
      false,
      true,
      'nginx, pid 77',
    );
    expect(plan.action).toBe('error');
    if (plan.action === 'error') {
      expect(plan.error.code).toBe('PORT_FOREIGN');
      expect(plan.error.describe()).toMatch(/localhost:9092 is held by something that is not Kafka \(nginx, pid 77\)/);
      expect(plan.error.describe()).toMatch(/--brokers/);
    }
  });
});

describe('java version check', () => {
  it.each([
    ['openjdk version "17.0.15" 2025-04-15', 17],
    ['openjdk version "21" 2023-09-19', 21],
    ['java version "1.8.0_292"', 8],
    ['openjdk version "11.0.2" 2019-01-15', 11],
    ['bash: java: command not found', undefined],
  ])('reads %s as %s', (output, major) => {
    expect(parseJavaMajor(output)).toBe(major);
  });
});

describe('Maven failures become one actionable message', () => {
  it('says the repository is unreachable when the transfer failed', () => {
    const out =
      '[ERROR] Plugin org.apache.maven.plugins:maven-dependency-plugin:3.8.1 or one of its dependencies could not be resolved: Failed to read artifact descriptor for org.apache.maven.plugins:maven-dependency-plugin:jar:3.8.1: Could not transfer artifact org.apache.maven.plugins:maven-dependency-plugin:pom:3.8.1 from/to dead (http://127.0.0.1:1/maven2): Connect to 127.0.0.1:1 [/127.0.0.1] failed: Connection refused -> [Help 1]';
    const error = classifyMavenFailure(out);
    expect(error.code).toBe('MAVEN_UNREACHABLE');
    expect(error.describe()).toMatch(/could not reach its repository/);
    expect(error.describe()).toMatch(/settings.xml/);
  });

  it('reports any other failure with its first error line', () => {
    const error = classifyMavenFailure('[INFO] x\n[ERROR] Failed to execute goal: disk full\n');
    expect(error.code).toBe('MAVEN_FAILED');
    expect(error.logTail).toBe('[ERROR] Failed to execute goal: disk full');
  });
});

describe('protocol probes tell Kafka and Redis from other programs', () => {
  const apiVersionsAnswer = (correlation: number, errorCode = 0, apis = 60): Buffer => {
    const body = Buffer.alloc(4 + 2 + 4);
    body.writeInt32BE(correlation, 0);
    body.writeInt16BE(errorCode, 4);
    body.writeInt32BE(apis, 6);
    const size = Buffer.alloc(4);
    size.writeInt32BE(body.length, 0);
    return Buffer.concat([size, body]);
  };
  const correlation = kafkaApiVersionsRequest().readInt32BE(8);

  it('accepts a Kafka ApiVersions answer', () => {
    expect(judgeKafkaAnswer(apiVersionsAnswer(correlation), 'x')?.state).toBe('answers');
  });

  it('waits for more bytes on a partial answer', () => {
    expect(judgeKafkaAnswer(apiVersionsAnswer(correlation).subarray(0, 9), 'x')).toBeUndefined();
  });

  it('calls an HTTP answer foreign', () => {
    expect(judgeKafkaAnswer(Buffer.from('HTTP/1.1 400 Bad Request\r\n\r\n'), 'x')?.state).toBe('foreign');
  });

  it('calls a wrong correlation id foreign', () => {
    expect(judgeKafkaAnswer(apiVersionsAnswer(7), 'x')?.state).toBe('foreign');
  });

  it('accepts PONG and a password prompt as Redis, anything else as foreign', () => {
    expect(judgeRedisAnswer(Buffer.from('+PONG\r\n'), 'x')?.state).toBe('answers');
    expect(judgeRedisAnswer(Buffer.from('-NOAUTH Authentication required.\r\n'), 'x')?.state).toBe('answers');
    expect(judgeRedisAnswer(Buffer.from('SSH-2.0-OpenSSH_9.2\r\n'), 'x')?.state).toBe('foreign');
    expect(judgeRedisAnswer(Buffer.from('+PO'), 'x')).toBeUndefined();
  });
});

describe("stack up: redis-server's password, for its config file", () => {
  it('the default user gets requirepass; a named user an ACL user with every permission, the default off', () => {
    expect(redisAuthConfig(new URL('redis://127.0.0.1:1'))).toEqual([]);
    expect(redisAuthConfig(new URL('redis://:s3cret@127.0.0.1:1'))).toEqual(['requirepass "s3cret"']);
    expect(redisAuthConfig(new URL('redis://default:s3cret@127.0.0.1:1'))).toEqual(['requirepass "s3cret"']);
    expect(redisAuthConfig(new URL('redis://alice:p%40ss@127.0.0.1:1'))).toEqual([
      'user default off',
      'user "alice" on ">p@ss" ~* &* +@all',
    ]);
  });

  it('quotes what redis.conf would split or unescape: spaces, quotes, backslashes, control and non-ASCII bytes', () => {
    expect(redisConfString('a b"c\\d')).toBe('"a b\\"c\\\\d"');
    expect(redisConfString('x\ny\u00e9')).toBe('"x\\x0ay\\xc3\\xa9"');
  });
});
