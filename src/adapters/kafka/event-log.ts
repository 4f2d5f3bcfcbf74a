/** The partitioned log on Apache Kafka, through kafkajs. */
import { AssignerProtocol, Partitioners, type Admin, type Kafka } from 'kafkajs';
import type {
  EventLog,
  GroupConsumer,
  GroupConsumerOptions,
  LogProducer,
  LogBatch,
  PartitionOffsets,
  PartitionRange,
  TopicLayout,
} from '../../pipeline/event-log.js';
import type { RawMessage } from '../../pipeline/ports.js';
import { readRanges } from './range-reader.js';
import { ensureTopics } from './topics.js';

/** Tries of one layout read when a broker refuses the connection (see {@link KafkaEventLog.topicLayout}). */
const LAYOUT_ATTEMPTS = 3;

/** Group errors kafkajs' consumer answers by joining the group again, when it sees them as they are. */
const REJOIN_ERRORS = new Set([
  'UNKNOWN_MEMBER_ID',
  'ILLEGAL_GENERATION',
  'REBALANCE_IN_PROGRESS',
  'NOT_COORDINATOR_FOR_GROUP',
  'FENCED_INSTANCE_ID',
]);

/**
 * A commit's error as kafkajs' consumer must see it to join the group again. `commitOffsets` retries
 * inside kafkajs, which wraps a non-retriable protocol error (`UNKNOWN_MEMBER_ID`: the member was
 * evicted while a node died) in a KafkaJSNonRetriableError without its `type`; thrown out of the batch
 * handler so, the consumer crashed for good ("will not restart") instead of re-joining. The protocol
 * error itself is thrown instead: the chunk is not committed, and read again after the re-join.
 */
export function groupErrorOf(error: unknown): unknown {
  for (let e: unknown = error; e instanceof Error; e = (e as { cause?: unknown }).cause) {
    const type = (e as { type?: unknown }).type;
    if (typeof type === 'string' && REJOIN_ERRORS.has(type)) return e;
  }
  return error;
}
/** -1: acknowledged by every in-sync replica (kafkajs' default). */
export const PRODUCE_ACKS = -1;

export class KafkaEventLog implements EventLog {
  private admin: Admin | undefined;
  private adminConnected: Promise<void> | undefined;
  private layoutAdmin: Admin | undefined;
  private layoutAdminConnected: Promise<void> | undefined;

  /**
   * `layoutKafka`: the client {@link topicLayout} asks through, best one with short connection and
   * request timeouts (a broker that is down, or hangs, must not hold a dashboard's refresh for the 30 s
   * of the pipeline's requests); by default the pipeline's own.
   */
  constructor(
    readonly kafka: Kafka,
    private readonly layoutKafka: Kafka = kafka,
  ) {}

  private async connectedAdmin(): Promise<Admin> {
    this.admin ??= this.kafka.admin();
    this.adminConnected ??= this.admin.connect().catch((error: unknown) => {
      this.adminConnected = undefined;
      throw error;
    });
    await this.adminConnected;
    return this.admin;
  }

  /** An admin client of its own, retrying nothing: a refresh that fails is said, and the next one asks again. */
  private async connectedLayoutAdmin(): Promise<Admin> {
    this.layoutAdmin ??= this.layoutKafka.admin({ retry: { retries: 0 } });
    this.layoutAdminConnected ??= this.layoutAdmin.connect().catch((error: unknown) => {
      this.layoutAdminConnected = undefined;
      throw error;
    });
    await this.layoutAdminConnected;
    return this.layoutAdmin;
  }

  async ensureTopics(topics: string[], partitions: number): Promise<string[]> {
    return ensureTopics(await this.connectedAdmin(), topics, partitions);
  }

  async producer(): Promise<LogProducer> {
    // Made for a cluster (docs/guarantees.md, "A node dies"): a send is acknowledged once every
    // in-sync replica has it (acks -1: with min.insync.replicas 2, an acknowledged event survives the
    // loss of any one node); retried for about 30 s, past a leader's election (the controller fences a
    // dead node after 9 s). Not idempotent: kafkajs' idempotent producer asks the transaction
    // coordinator for a producer id at each start ("The coordinator is loading" errors on a new broker)
    // and warns on every start that bounded retries "may invalidate EoS guarantees", both on the
    // stderr of every `produce` and `dlq replay`; a batch a retry writes twice is read twice and the
    // second copy is a `duplicate` (the dedupe ledger), so nothing is sent twice either way.
    const producer = this.kafka.producer({
      createPartitioner: Partitioners.DefaultPartitioner,
      allowAutoTopicCreation: false,
      idempotent: false,
      retry: { retries: 10, initialRetryTime: 200, maxRetryTime: 5_000 },
    });
    await producer.connect();
    return {
      send: async (topic, messages) => {
        await producer.send({ topic, messages, acks: PRODUCE_ACKS });
      },
      disconnect: () => producer.disconnect(),
    };
  }

  consumer(options: GroupConsumerOptions): GroupConsumer {
    let stopping = false;
    let running = false;
    // kafkajs' stop() does not wait for the batch handler in flight: we do, so its commit lands.
    const inFlight = new Set<Promise<void>>();
    const consumer = this.kafka.consumer({
      groupId: options.group,
      sessionTimeout: 10_000,
      rebalanceTimeout: 20_000,
      heartbeatInterval: 1_000,
      maxWaitTimeInMs: 250,
      allowAutoTopicCreation: false,
      retry: { retries: 8, initialRetryTime: 300, maxRetryTime: 5_000, restartOnFailure: async () => !stopping },
    });
    const { events } = options;
    const committed = new Map<number, bigint>();
    consumer.on(consumer.events.CONNECT, () => events.connected());
    consumer.on(consumer.events.DISCONNECT, () => events.disconnected());
    consumer.on(consumer.events.GROUP_JOIN, (e) => {
      committed.clear(); // a new generation: what others committed meanwhile is not ours to second-guess
      events.assigned((e.payload.memberAssignment[options.topic] ?? []).slice().sort((a, b) => a - b));
    });
    consumer.on(consumer.events.CRASH, (e) => events.crashed(e.payload.error.message, e.payload.restart));
    // Commits go out one at a time per partition, never backwards.
    const commitChains = new Map<number, Promise<void>>();
    const commit = (topic: string, partition: number, nextOffset: string): Promise<void> => {
      const run = async (): Promise<void> => {
        if ((committed.get(partition) ?? -1n) >= BigInt(nextOffset)) return;
        await consumer.commitOffsets([{ topic, partition, offset: nextOffset }]).catch((error: unknown) => {
          throw groupErrorOf(error);
        });
        committed.set(partition, BigInt(nextOffset));
      };
      const next = (commitChains.get(partition) ?? Promise.resolve()).then(run, run);
      commitChains.set(partition, next);
      return next;
    };
    // A fetch that held only transaction markers (or aborted records) never reaches eachBatch: kafkajs
    // resolves it itself but, with autoCommit off, commits nothing. Commit past it, or the group's lag
    // stays at 1 behind every transaction and `--drain` never ends.
    consumer.on(consumer.events.START_BATCH_PROCESS, (e) => {
      if (e.payload.batchSize !== 0 || stopping) return;
      const next = (BigInt(e.payload.lastOffset) + 1n).toString();
      commit(e.payload.topic, e.payload.partition, next).catch(() => undefined);
    });
    return {
      run: async (eachBatch) => {
        await consumer.connect();
        await consumer.subscribe({ topic: options.topic, fromBeginning: options.fromBeginning });
        running = true;
        await consumer.run({
          // Partitions are processed side by side: one's Redis round trips overlap another's work.
          partitionsConsumedConcurrently: 3,
          autoCommit: false,
          eachBatchAutoResolve: false,
          eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
            const work = eachBatch(
              {
                topic: batch.topic,
                partition: batch.partition,
                // kafkajs' own message objects (a copy per message costs at tens of thousands a second).
                messages: batch.messages as RawMessage[],
                nextOffset: (BigInt(batch.lastOffset()) + 1n).toString(),
              },
              {
                keepGoing: () => isRunning() && !isStale() && !stopping,
                heartbeat,
                commit: async (nextOffset) => {
                  resolveOffset((BigInt(nextOffset) - 1n).toString());
                  await commit(batch.topic, batch.partition, nextOffset);
                },
              },
            );
            inFlight.add(work);
            try {
              await work;
            } finally {
              inFlight.delete(work);
            }
          },
        });
      },
      stop: async () => {
        if (stopping) return;
        stopping = true;
        // The handler sees keepGoing() turn false, finishes its chunk and commits it.
        await Promise.allSettled([...inFlight]);
        if (running) await consumer.stop().catch(() => undefined);
        await consumer.disconnect().catch(() => undefined);
      },
    };
  }

  async topicOffsets(topic: string): Promise<PartitionOffsets[]> {
    const offsets = await (await this.connectedAdmin()).fetchTopicOffsets(topic);
    return offsets.map((o) => ({ partition: o.partition, low: o.low, high: o.high }));
  }

  async listTopics(): Promise<string[]> {
    return (await this.connectedAdmin()).listTopics();
  }

  readRanges(topic: string, ranges: PartitionRange[], each: (batch: LogBatch) => void | Promise<void>): Promise<void> {
    return readRanges(this.kafka, topic, ranges, each);
  }

  async committedOffsets(group: string, topic: string): Promise<Map<number, string>> {
    const [entry] = await (await this.connectedAdmin()).fetchOffsets({ groupId: group, topics: [topic] });
    return new Map((entry?.partitions ?? []).filter((p) => BigInt(p.offset) >= 0n).map((p) => [p.partition, p.offset]));
  }

  async partitionOwners(group: string, topic: string): Promise<Map<number, string>> {
    const { groups } = await (await this.connectedAdmin()).describeGroups([group]);
    const owners = new Map<number, string>();
    for (const member of groups[0]?.members ?? []) {
      // A member's assignment is the consumer protocol's bytes; an empty one (rebalancing) owns nothing.
      let decoded: ReturnType<typeof AssignerProtocol.MemberAssignment.decode> = null;
      try {
        decoded =
          member.memberAssignment.length > 0 ? AssignerProtocol.MemberAssignment.decode(member.memberAssignment) : null;
      } catch {
        decoded = null;
      }
      for (const partition of decoded?.assignment[topic] ?? []) {
        owners.set(partition, `${member.clientId}@${member.clientHost.replace(/^\//, '')}`);
      }
    }
    return owners;
  }

  /**
   * Two Metadata requests, each answered by a broker alive now. kafkajs' admin client keeps no metadata
   * between calls (its metadataMaxAge is 0: every call first refreshes its broker pool from a broker it
   * can reach), so a broker that went down drops out of the answer, and of the pool, at the next call,
   * and one that came back is listed again.
   */
  async topicLayout(topic: string): Promise<TopicLayout> {
    // Until the cluster notices a broker is gone (seconds: KRaft fences it after broker.session.timeout.ms)
    // it still lists it, and kafkajs may pick it to ask: refused at once, the next try picks another.
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.readLayout(topic);
      } catch (error) {
        // By name: kafkajs' error classes are not named exports of its ES module face.
        if (attempt >= LAYOUT_ATTEMPTS || (error as Error).name !== 'KafkaJSConnectionError') throw error;
      }
    }
  }

  private async readLayout(topic: string): Promise<TopicLayout> {
    const admin = await this.connectedLayoutAdmin();
    try {
      const cluster = await admin.describeCluster();
      const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
      const partitions = topics.find((t) => t.name === topic)?.partitions ?? [];
      return {
        nodes: cluster.brokers.map((b) => ({ nodeId: b.nodeId, host: b.host, port: b.port })),
        controller: cluster.controller,
        partitions: partitions
          .map((p) => ({
            partition: p.partitionId,
            leader: p.leader,
            replicas: [...p.replicas],
            isr: [...p.isr],
            offline: [...(p.offlineReplicas ?? [])],
            errorCode: p.partitionErrorCode,
          }))
          .sort((a, b) => a.partition - b.partition),
      };
    } catch (error) {
      // kafkajs resolves a Metadata request no broker answered with null, and then reads a field of it.
      if (error instanceof TypeError) throw new Error('no broker answered the metadata request');
      // A broker that hangs (stopped, cut off): its address, not the request's key and version.
      const { name, broker } = error as { name?: string; broker?: unknown };
      if (name === 'KafkaJSRequestTimeoutError' && typeof broker === 'string') {
        throw new Error(`${broker} did not answer in time`, { cause: error });
      }
      throw error;
    }
  }

  async close(): Promise<void> {
    if (this.admin && this.adminConnected) await this.admin.disconnect().catch(() => undefined);
    if (this.layoutAdmin && this.layoutAdminConnected) await this.layoutAdmin.disconnect().catch(() => undefined);
  }
}
