/** The real services the pipeline stands on: an Apache Kafka broker and a Redis. */
import { randomUUID } from 'node:crypto';
import { Partitioners } from 'kafkajs';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { createKafka } from '../../src/adapters/kafka/client.js';
import { hostPort } from '../../src/config/config.js';
import { createLogger } from '../../src/log/logger.js';
import { probeKafka } from '../../src/adapters/kafka/probe.js';
import { runCli, waitFor } from '../support/cli.js';

const brokers = inject('brokers').split(',');
const redisUrl = inject('redisUrl');
const kafka = createKafka({ brokers, logger: createLogger({ kind: 'silent' }), clientId: 'services-test' });

describe('Kafka', () => {
  const admin = kafka.admin();
  afterAll(async () => {
    await admin.disconnect();
  });

  it('is an Apache Kafka broker: answers ApiVersions and describes a one-broker KRaft cluster', async () => {
    const { host, port } = hostPort(brokers[0]!);
    const probe = await probeKafka(host, port);
    expect(probe.state).toBe('answers');
    expect(probe.detail).toMatch(/Kafka protocol, \d+ APIs/);
    await admin.connect();
    const cluster = await admin.describeCluster();
    expect(cluster.brokers.length).toBeGreaterThanOrEqual(1);
    expect(cluster.clusterId).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(cluster.controller).not.toBeNull();
  });

  it('creates a topic with the admin client and round-trips a message with key, value and headers', async () => {
    const topic = `roundtrip-${randomUUID()}`;
    await admin.connect();
    expect(await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true })).toBe(true);
    const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
    expect(metadata.topics[0]?.partitions).toHaveLength(3);

    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    const value = JSON.stringify({ hello: 'world', at: Date.now() });
    await producer.send({ topic, messages: [{ key: 'user-1', value, headers: { 'event-type': 'test' } }] });
    await producer.disconnect();

    const consumer = kafka.consumer({
      groupId: `roundtrip-${randomUUID()}`,
      sessionTimeout: 10_000,
      heartbeatInterval: 1_000,
    });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const received: { key?: string; value?: string; header?: string }[] = [];
    await consumer.run({
      eachMessage: async ({ message }) => {
        received.push({
          key: message.key?.toString(),
          value: message.value?.toString(),
          header: message.headers?.['event-type']?.toString(),
        });
      },
    });
    try {
      await waitFor('the message to come back', () => received.length > 0, 30_000);
    } finally {
      await consumer.disconnect();
    }
    expect(received).toEqual([{ key: 'user-1', value, header: 'test' }]);
    await admin.deleteTopics({ topics: [topic] });
  });
});

describe('Redis', () => {
  it('round-trips a hash', async () => {
    const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
    const key = `etui:test:${randomUUID()}`;
    try {
      await redis.hset(key, { email: 'on', sms: 'off' });
      expect(await redis.hgetall(key)).toEqual({ email: 'on', sms: 'off' });
    } finally {
      await redis.del(key);
      redis.disconnect();
    }
  });
});

describe('stack status', () => {
  it('shows both services reachable with their versions and exits 0', async () => {
    const result = await runCli(['stack', 'status', '--brokers', brokers.join(','), '--redis', redisUrl]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(
      /^Kafka {2}\S+\n {2}reachable {2}yes\n {2}version {4}.*cluster [A-Za-z0-9_-]{22}, 1 broker/m,
    );
    expect(result.stdout).toMatch(/^Redis {2}\S+\n {2}reachable {2}yes\n {2}version {4}Redis \d+\.\d+/m);
  });

  it('status --json is machine-readable', async () => {
    const result = await runCli(['stack', 'status', '--json', '--brokers', brokers.join(','), '--redis', redisUrl]);
    const rows = JSON.parse(result.stdout) as { service: string; reachable: boolean }[];
    expect(rows.map((r) => [r.service, r.reachable])).toEqual([
      ['kafka', true],
      ['redis', true],
    ]);
  });
});
