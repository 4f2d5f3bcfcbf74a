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
  type Produced = { broker: number; partitions: { partition: number; keys: string[] }[] };
  type TopicData = { topic: string; partitions: { partition: number; messages: { key: string }[] }[] }[];
  const kafkajsRequire = () => createRequire(path.join(repoRoot, 'package.json'));

  /**
   * kafkajs' own send path (`sendMessages`, its retrier) on a fake cluster: `leaders` maps partition to
   * node, `answer` is a node's produce (it may throw, as kafkajs' parse of a response does), and
   * `refreshMetadata` what a metadata refresh finds. Messages `<partition>-<letter>` go to their partition.
   */
  async function send(fake: {
    leaders: Map<number, number>;
    answer: (nodeId: number, topicData: TopicData, produced: Produced[]) => Promise<unknown>;
    refreshMetadata?: () => void;
  }) {
    const require = kafkajsRequire();
    const createSendMessages = require('kafkajs/src/producer/sendMessages.js') as (
      options: object,
    ) => (request: object) => Promise<{ partition: number }[]>;
    const createRetry = require('kafkajs/src/retry/index.js') as (options: object) => unknown;
    const noop = () => undefined;
    const logger = { debug: noop, info: noop, warn: noop, error: noop };
    const produced: Produced[] = [];
    const broker = (nodeId: number) => ({
      nodeId,
      produce: ({ topicData }: { topicData: TopicData }) => fake.answer(nodeId, topicData, produced),
    });
    const brokers = new Map<number, ReturnType<typeof broker>>();
    const cluster = {
      targetTopics: new Set<string>(),
      addMultipleTargetTopics: async () => undefined,
      refreshMetadataIfNecessary: async () => undefined,
      refreshMetadata: async () => void fake.refreshMetadata?.(),
      isConnected: () => true,
      removeBroker: noop,
      findTopicPartitionMetadata: () => [...fake.leaders].map(([partitionId, leader]) => ({ partitionId, leader })),
      findLeaderForPartitions: (_topic: string, partitions: string[]) => {
        const out: Record<string, number[]> = {};
        for (const p of partitions) (out[fake.leaders.get(Number(p))!] ??= []).push(Number(p));
        return out;
      },
      findBroker: async ({ nodeId }: { nodeId: string }) => {
        const id = Number(nodeId);
        if (!brokers.has(id)) brokers.set(id, broker(id));
        return brokers.get(id)!;
      },
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
    const written = produced.flatMap((p) =>
      p.partitions.flatMap((x) => x.keys.map((k) => `${p.broker}:${x.partition}:${k}`)),
    );
    return { responses, written: written.sort() };
  }

  /** What a broker writes and answers: every partition takes its messages but those in `refused` (error code). */
  function writes(nodeId: number, topicData: TopicData, produced: Produced[], refused = new Map<number, number>()) {
    const took = topicData[0]!.partitions.filter((p) => !refused.has(Number(p.partition)));
    produced.push({
      broker: nodeId,
      partitions: took.map((p) => ({ partition: Number(p.partition), keys: p.messages.map((m) => m.key) })),
    });
    return {
      topics: topicData.map((t) => ({
        topicName: t.topic,
        partitions: t.partitions.map((p) => ({
          partition: Number(p.partition),
          errorCode: refused.get(Number(p.partition)) ?? 0,
          baseOffset: '0',
        })),
      })),
    };
  }

  it('a broker dies mid-send and its partitions move to one that answered already: the retry sends them to their new leader, every message written once, both acknowledged', async () => {
    const { KafkaJSConnectionError } = kafkajsRequire()('kafkajs/src/errors.js') as {
      KafkaJSConnectionError: new (m: string) => Error;
    };
    const leaders = new Map([
      [0, 1],
      [1, 2],
    ]);
    // Node 2's first produce fails with a connection error; the metadata refreshed then says node 1 leads both.
    const { responses, written } = await send({
      leaders,
      refreshMetadata: () => void leaders.set(1, 1),
      answer: async (nodeId, topicData, produced) => {
        if (nodeId === 2) throw new KafkaJSConnectionError('Connection error: read ECONNRESET');
        return writes(nodeId, topicData, produced);
      },
    });
    expect(written).toEqual(['1:0:0-a', '1:0:0-c', '1:1:1-b', '1:1:1-d']);
    expect(responses.map((r) => r.partition).sort()).toEqual([0, 1]);
  });

  it('a response refusing one partition (its leader moved) acknowledges the others: only the refused one is sent again', async () => {
    // kafkajs' own parse of a produce response (v3, which v4–v7 use): it throws the first partition's error.
    const { parse } = kafkajsRequire()('kafkajs/src/protocol/requests/produce/v3/response.js') as {
      parse: (data: unknown) => Promise<unknown>;
    };
    const leaders = new Map([
      [0, 1],
      [1, 1],
    ]);
    let refusedOnce = false;
    const { responses, written } = await send({
      leaders,
      refreshMetadata: () => void leaders.set(1, 2),
      answer: async (nodeId, topicData, produced) => {
        // NOT_LEADER_OR_FOLLOWER (6) for partition 1, the first time: partition 0 took its messages.
        const refused = new Map(refusedOnce || nodeId !== 1 ? [] : [[1, 6]]);
        refusedOnce = true;
        return parse(writes(nodeId, topicData, produced, refused));
      },
    });
    expect(written).toEqual(['1:0:0-a', '1:0:0-c', '2:1:1-b', '2:1:1-d']);
    expect(responses.map((r) => r.partition).sort()).toEqual([0, 1]);
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
