import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { createRequire } from 'node:module';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { repoRoot } from '../support/cli.js';

// patch-package names a patch `<package>+<version>.patch` (a scope's slash as `+`) and fails the whole
// `postinstall`, so the install, when the installed version is another: a patched dependency is pinned
// to that exact version in package.json (no range a registry install could move past it).
const json = (file: string) => JSON.parse(readFileSync(path.join(repoRoot, file), 'utf8')) as Record<string, unknown>;
const manifest = json('package.json') as { dependencies: Record<string, string> };
const lock = json('package-lock.json') as { packages: Record<string, { version?: string }> };
const patches = readdirSync(path.join(repoRoot, 'patches')).filter((f) => f.endsWith('.patch'));

function parsePatchName(file: string): { name: string; version: string } {
  const parts = file.slice(0, -'.patch'.length).split('+');
  const version = parts.pop()!;
  return { name: parts.join('/'), version };
}

describe('patched dependencies', () => {
  it('there are patches (ink, kafkajs)', () => {
    expect(patches.map((f) => parsePatchName(f).name).sort()).toEqual(['ink', 'kafkajs']);
  });

  for (const file of patches) {
    const { name, version } = parsePatchName(file);
    it(`${name} is pinned to ${version}, the version patches/${file} applies to`, () => {
      expect(manifest.dependencies[name], `package.json "${name}" must be exactly "${version}"`).toBe(version);
      expect(lock.packages[`node_modules/${name}`]?.version, `package-lock.json's ${name}`).toBe(version);
      const installed = json(`node_modules/${name}/package.json`) as { version: string };
      expect(installed.version, `the installed ${name}`).toBe(version);
    });
  }
});

describe('the kafkajs patch', () => {
  afterEach(() => vi.restoreAllMocks());

  it('never hands setTimeout a negative delay (Node 23+ prints a TimeoutNegativeWarning on stderr for it)', () => {
    const require = createRequire(path.join(repoRoot, 'package.json'));
    const RequestQueue = require('kafkajs/src/network/requestQueue/index.js') as new (options: object) => {
      scheduleCheckPendingRequests(): void;
      throttleCheckTimeoutId: NodeJS.Timeout | null;
    };
    const noop = () => undefined;
    const logger = { debug: noop, info: noop, warn: noop, error: noop };
    const queue = new RequestQueue({
      maxInFlightRequests: 1,
      requestTimeout: 30_000,
      clientId: 't',
      broker: 'b',
      logger,
    });
    const setTimeoutSpy = vi.spyOn(globalThis, 'setTimeout');
    queue.scheduleCheckPendingRequests(); // not throttled, nothing pending: the case that warned
    expect(setTimeoutSpy).toHaveBeenCalledTimes(1);
    expect(setTimeoutSpy.mock.calls[0]![1]).toBeGreaterThanOrEqual(1);
    clearTimeout(queue.throttleCheckTimeoutId!);
  });
  describe('a broker dies mid-send and its partitions move to one that answered already', () => {
    type Produced = { broker: number; partitions: { partition: number; keys: string[] }[] };
    /**
     * kafkajs' own send path on a fake cluster of two brokers: partition 0 led by node 1, partition 1
     * by node 2 until node 2's first produce fails with a connection error; the metadata refreshed
     * then says node 1 leads both.
     */
    async function sendAcrossFailover() {
      const require = createRequire(path.join(repoRoot, 'package.json'));
      const createSendMessages = require('kafkajs/src/producer/sendMessages.js') as (
        options: object,
      ) => (request: object) => Promise<{ partition: number }[]>;
      const createRetry = require('kafkajs/src/retry/index.js') as (options: object) => unknown;
      const { KafkaJSConnectionError } = require('kafkajs/src/errors.js') as {
        KafkaJSConnectionError: new (m: string) => Error;
      };
      const noop = () => undefined;
      const logger = { debug: noop, info: noop, warn: noop, error: noop };
      const leaders = new Map([
        [0, 1],
        [1, 2],
      ]);
      const produced: Produced[] = [];
      let node2Failed = false;
      const broker = (nodeId: number) => ({
        nodeId,
        produce: async ({
          topicData,
        }: {
          topicData: {
            topicName?: string;
            topic: string;
            partitions: { partition: number; messages: { key: string }[] }[];
          }[];
        }) => {
          if (nodeId === 2 && !node2Failed) {
            node2Failed = true;
            throw new KafkaJSConnectionError('Connection error: read ECONNRESET');
          }
          if (nodeId === 2) throw new KafkaJSConnectionError('Connection error: connect ECONNREFUSED');
          produced.push({
            broker: nodeId,
            partitions: topicData[0]!.partitions.map((p) => ({
              partition: Number(p.partition),
              keys: p.messages.map((m) => m.key),
            })),
          });
          return {
            topics: topicData.map((t) => ({
              topicName: t.topic,
              partitions: t.partitions.map((p) => ({ partition: Number(p.partition), errorCode: 0, baseOffset: '0' })),
            })),
          };
        },
      });
      const brokers = new Map([
        [1, broker(1)],
        [2, broker(2)],
      ]);
      const cluster = {
        targetTopics: new Set<string>(),
        addMultipleTargetTopics: async () => undefined,
        refreshMetadataIfNecessary: async () => undefined,
        // node 2 is gone: its partition has a new leader
        refreshMetadata: async () => void leaders.set(1, 1),
        isConnected: () => true,
        removeBroker: noop,
        findTopicPartitionMetadata: () => [...leaders].map(([partitionId, leader]) => ({ partitionId, leader })),
        findLeaderForPartitions: (_topic: string, partitions: string[]) => {
          const out: Record<string, number[]> = {};
          for (const p of partitions) (out[leaders.get(Number(p))!] ??= []).push(Number(p));
          return out;
        },
        findBroker: async ({ nodeId }: { nodeId: string }) => brokers.get(Number(nodeId))!,
      };
      const eosManager = {
        acquireBrokerLock: async () => undefined,
        releaseBrokerLock: async () => undefined,
        isTransactional: () => false,
        getSequence: () => 0,
        updateSequence: noop,
        getProducerId: () => -1,
        getProducerEpoch: () => 0,
      };
      const sendMessages = createSendMessages({
        logger: { ...logger, namespace: () => logger },
        cluster,
        partitioner: ({ message }: { message: { key: string } }) => Number(message.key.split('-')[0]),
        eosManager,
        retrier: createRetry({ retries: 3, initialRetryTime: 1, maxRetryTime: 2 }),
      });
      const responses = await sendMessages({
        acks: -1,
        timeout: 30_000,
        topicMessages: [{ topic: 't', messages: ['0-a', '1-b', '0-c', '1-d'].map((key) => ({ key, value: key })) }],
      });
      return { responses, produced };
    }

    it('the retry sends the moved partition to its new leader: every message written, none twice, both acknowledged', async () => {
      const { responses, produced } = await sendAcrossFailover();
      const written = produced.flatMap((p) =>
        p.partitions.flatMap((x) => x.keys.map((k) => `${p.broker}:${x.partition}:${k}`)),
      );
      expect(written.sort()).toEqual(['1:0:0-a', '1:0:0-c', '1:1:1-b', '1:1:1-d']);
      expect(responses.map((r) => r.partition).sort()).toEqual([0, 1]);
    });
  });
  it('the product knows whether it is applied: quiet when it is, a warning naming the fix when it is not', async () => {
    const { kafkajsPatchProblem } = await import('../../src/adapters/kafka/patch-check.js');
    expect(kafkajsPatchProblem()).toBeUndefined();
    const dir = mkdtempSync(path.join(os.tmpdir(), 'etui-kafkajs-'));
    const file = path.join(dir, 'node_modules', 'kafkajs', 'src', 'producer', 'sendMessages.js');
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, 'module.exports = () => undefined // unpatched\n');
    expect(kafkajsPatchProblem(file)).toMatch(
      /kafkajs at .* is not patched .*never written\.\n {2}Fix: run `npx patch-package` in /s,
    );
    rmSync(dir, { recursive: true, force: true });
  });
});
