import { KafkaJSConnectionError, KafkaJSNumberOfRetriesExceeded, KafkaJSProtocolError } from 'kafkajs';
import { ReplyError } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { isPermanent } from '../../src/pipeline/errors.js';

/** As kafkajs builds them from a broker's error code (its typings take only a message). */
const protocolError = (type: string, retriable: boolean, message: string): Error =>
  Object.assign(new KafkaJSProtocolError(message), { type, retriable });

describe('which failures can heal', () => {
  it.each([
    'WRONGTYPE Operation against a key holding the wrong kind of value',
    'WRONGTYPE Operation against a key holding the wrong kind of value script: 3f2e, on @user_script:9.',
    "ERR wrong number of arguments for 'hget' command",
    'NOPERM this user has no permissions to access one of the keys used as arguments',
  ])('Redis %s: permanent (dead-letter the event)', (reply) => {
    expect(isPermanent(new ReplyError(reply))).toBe(true);
  });

  it.each([
    'LOADING Redis is loading the dataset in memory',
    'BUSY Redis is busy running a script.',
    'TRYAGAIN Multiple keys request during rehashing of slot',
    'CLUSTERDOWN The cluster is down',
    'MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to no',
    "READONLY You can't write against a read only replica.",
    "OOM command not allowed when used memory > 'maxmemory'.",
    'NOAUTH Authentication required.',
    'ERR max number of clients reached',
  ])('Redis %s: transient (pause and retry)', (reply) => {
    expect(isPermanent(new ReplyError(reply))).toBe(false);
  });

  it('no reply at all (connection refused, closed, timed out): transient', () => {
    expect(isPermanent(new Error('Connection is closed.'))).toBe(false);
    expect(isPermanent(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6379'), { code: 'ECONNREFUSED' }))).toBe(
      false,
    );
  });

  it('Kafka: a protocol error the broker marks not retriable is permanent, however kafkajs wraps it', () => {
    const tooLarge = protocolError('MESSAGE_TOO_LARGE', false, 'too large');
    expect(isPermanent(tooLarge)).toBe(true);
    expect(isPermanent(Object.assign(new Error('wrapped'), { cause: tooLarge }))).toBe(true);
    const leader = protocolError('LEADER_NOT_AVAILABLE', true, 'no leader');
    expect(isPermanent(leader)).toBe(false);
    expect(
      isPermanent(
        new KafkaJSNumberOfRetriesExceeded(new KafkaJSConnectionError('Connection error'), {
          retryCount: 5,
          retryTime: 1000,
        }),
      ),
    ).toBe(false);
  });
});
