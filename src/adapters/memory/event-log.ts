/**
 * The embedded mode's partitioned log: in-process, with partitions, offsets
 * and a consumer group of one. It behaves like the Kafka log for the pipeline
 * (keys pick partitions, offsets are committed after delivery, a new group
 * starts from the earliest retained offset) but keeps a bounded window of
 * messages per partition and nothing survives the process.
 */
import { EventEmitter } from 'node:events';
import type {
  EventLog,
  GroupConsumer,
  GroupConsumerOptions,
  LogProducer,
  LogBatch,
  OutboundMessage,
  PartitionOffsets,
  LogNode,
  PartitionRange,
  TopicLayout,
} from '../../pipeline/event-log.js';
import type { RawMessage } from '../../pipeline/ports.js';

interface Partition {
  /** Offset of messages[0]. */
  base: bigint;
  messages: RawMessage[];
  /** Where its copies are, in the stand-in cluster (see {@link MemoryEventLog.simulateCluster}). */
  leader: number;
  replicas: number[];
  isr: number[];
}

/** Kafka's LEADER_NOT_AVAILABLE: what a metadata answer says of a partition with no leader. */
const LEADER_NOT_AVAILABLE = 5;

const BATCH = 500;

function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

function toBuffer(value: Buffer | string | null): Buffer | null {
  if (value === null) return null;
  return Buffer.isBuffer(value) ? value : Buffer.from(value);
}

export class MemoryEventLog implements EventLog {
  private readonly topics = new Map<string, Partition[]>();
  private readonly committed = new Map<string, Map<number, string>>();
  /** Groups with a consumer running, per topic: the embedded group has one member, this process. */
  private readonly running = new Set<string>();
  private readonly appended = new EventEmitter();
  private roundRobin = 0;
  /**
   * The stand-in cluster the layout reports: one node (this process) holding every partition, unless a
   * test simulates more. Only what {@link topicLayout} says follows it: appends and reads go on.
   */
  private nodes: (LogNode & { up: boolean })[] = [{ nodeId: 1, host: 'in-process', port: 0, up: true }];
  private replicationFactor = 1;

  /** `retain`: messages kept per partition; older ones are dropped, as Kafka's retention would. */
  constructor(private readonly retain = 200_000) {
    this.appended.setMaxListeners(0);
  }

  async ensureTopics(topics: string[], partitions: number): Promise<string[]> {
    const created: string[] = [];
    for (const topic of topics) {
      if (this.topics.has(topic)) continue;
      this.topics.set(
        topic,
        Array.from({ length: partitions }, (_, i) => ({ base: 0n, messages: [], ...this.placement(i) })),
      );
      created.push(topic);
    }
    return created;
  }

  /** Partition `index`'s replicas, spread over the nodes as Kafka spreads them (round robin). */
  private placement(index: number): Pick<Partition, 'leader' | 'replicas' | 'isr'> {
    const n = this.nodes.length;
    const replicas = Array.from(
      { length: Math.min(this.replicationFactor, n) },
      (_, r) => this.nodes[(index + r) % n]!.nodeId,
    );
    const isr = replicas.filter((id) => this.nodes.find((node) => node.nodeId === id)?.up);
    return { leader: isr[0] ?? -1, replicas, isr };
  }

  /**
   * For tests: the layout as a cluster of `nodes` would report it, each partition on
   * `replicationFactor` of them (every topic placed again, all nodes up).
   */
  simulateCluster(nodes: LogNode[], replicationFactor: number): void {
    this.nodes = nodes.map((node) => ({ ...node, up: true }));
    this.replicationFactor = replicationFactor;
    for (const partitions of this.topics.values()) {
      partitions.forEach((p, i) => Object.assign(p, this.placement(i)));
    }
  }

  /**
   * For tests: a node goes down (out of every ISR; the partitions it led move to an in-sync replica, or
   * have none) or comes back (in sync again at once; it leads the partitions that had no leader).
   */
  setNodeUp(nodeId: number, up: boolean): void {
    const node = this.nodes.find((n) => n.nodeId === nodeId);
    if (!node) throw new Error(`no node ${nodeId} in the simulated cluster`);
    node.up = up;
    for (const partitions of this.topics.values()) {
      for (const p of partitions) {
        if (!p.replicas.includes(nodeId)) continue;
        if (up) {
          p.isr = p.replicas.filter((id) => id === nodeId || p.isr.includes(id));
          if (p.leader === -1) p.leader = nodeId;
        } else {
          p.isr = p.isr.filter((id) => id !== nodeId);
          if (p.leader === nodeId) p.leader = p.isr[0] ?? -1;
        }
      }
    }
  }

  private partitionsOf(topic: string): Partition[] {
    const partitions = this.topics.get(topic);
    if (!partitions) throw new Error(`This server does not host this topic-partition: ${topic} (create it first)`);
    return partitions;
  }

  append(topic: string, messages: OutboundMessage[]): void {
    const partitions = this.partitionsOf(topic);
    const now = String(Date.now());
    for (const m of messages) {
      const index =
        m.key === null
          ? this.roundRobin++ % partitions.length
          : fnv1a(Buffer.isBuffer(m.key) ? m.key.toString('latin1') : m.key) % partitions.length;
      const p = partitions[index]!;
      const headers: RawMessage['headers'] = {};
      for (const [k, v] of Object.entries(m.headers ?? {})) {
        headers[k] = Array.isArray(v) ? v.map((x) => toBuffer(x)!) : toBuffer(v)!;
      }
      p.messages.push({
        key: toBuffer(m.key),
        value: toBuffer(m.value),
        headers,
        offset: (p.base + BigInt(p.messages.length)).toString(),
        timestamp: now,
      });
      if (p.messages.length > this.retain) {
        const drop = Math.ceil(this.retain / 10);
        p.messages.splice(0, drop);
        p.base += BigInt(drop);
      }
    }
    this.appended.emit(topic);
  }

  async producer(): Promise<LogProducer> {
    return {
      send: async (topic, messages) => this.append(topic, messages),
      disconnect: async () => undefined,
    };
  }

  consumer(options: GroupConsumerOptions): GroupConsumer {
    const key = `${options.group}\u0000${options.topic}`;
    let stopping = false;
    let loop: Promise<void> | undefined;
    let wake: (() => void) | undefined;
    const onAppend = (): void => wake?.();
    return {
      run: async (eachBatch) => {
        const partitions = this.partitionsOf(options.topic);
        const offsets = this.committed.get(key) ?? new Map<number, string>();
        this.committed.set(key, offsets);
        // A new group starts at the earliest retained offset, or at the end with --from latest.
        partitions.forEach((p, i) => {
          if (!offsets.has(i))
            offsets.set(i, (options.fromBeginning ? p.base : p.base + BigInt(p.messages.length)).toString());
        });
        this.appended.on(options.topic, onAppend);
        this.running.add(key);
        options.events.connected();
        options.events.assigned(partitions.map((_, i) => i));
        loop = (async () => {
          while (!stopping) {
            let worked = false;
            for (const [index, p] of partitions.entries()) {
              if (stopping) break;
              const next = BigInt(offsets.get(index)!);
              const from = next < p.base ? p.base : next;
              const start = Number(from - p.base);
              if (start >= p.messages.length) continue;
              const messages = p.messages.slice(start, start + BATCH);
              worked = true;
              try {
                await eachBatch(
                  { topic: options.topic, partition: index, messages },
                  {
                    keepGoing: () => !stopping,
                    heartbeat: async () => undefined,
                    commit: async (nextOffset) => {
                      offsets.set(index, nextOffset);
                    },
                  },
                );
              } catch (error) {
                options.events.crashed((error as Error).message, true);
                await new Promise((r) => setTimeout(r, 500));
              }
            }
            if (!worked && !stopping) {
              await new Promise<void>((resolve) => {
                const timer = setTimeout(resolve, 250);
                wake = () => {
                  clearTimeout(timer);
                  resolve();
                };
              });
              wake = undefined;
            }
          }
        })();
      },
      stop: async () => {
        if (stopping) return;
        stopping = true;
        wake?.();
        await loop;
        this.appended.off(options.topic, onAppend);
        this.running.delete(key);
        options.events.disconnected();
      },
    };
  }

  async topicOffsets(topic: string): Promise<PartitionOffsets[]> {
    return this.partitionsOf(topic).map((p, partition) => ({
      partition,
      low: p.base.toString(),
      high: (p.base + BigInt(p.messages.length)).toString(),
    }));
  }

  async listTopics(): Promise<string[]> {
    return [...this.topics.keys()];
  }

  async readRanges(
    topic: string,
    ranges: PartitionRange[],
    each: (batch: LogBatch) => void | Promise<void>,
  ): Promise<void> {
    const partitions = this.partitionsOf(topic);
    for (const range of ranges) {
      const p = partitions[range.partition];
      if (!p) throw new Error(`${topic} has no partition ${range.partition}`);
      const from = Number((BigInt(range.from) > p.base ? BigInt(range.from) : p.base) - p.base);
      const to = Number((BigInt(range.to) > p.base ? BigInt(range.to) : p.base) - p.base);
      for (let start = from; start < Math.min(to, p.messages.length); start += BATCH) {
        const messages = p.messages.slice(start, Math.min(start + BATCH, to));
        await each({ topic, partition: range.partition, messages });
      }
    }
  }

  async committedOffsets(group: string, topic: string): Promise<Map<number, string>> {
    return new Map(this.committed.get(`${group}\u0000${topic}`) ?? []);
  }

  async partitionOwners(group: string, topic: string): Promise<Map<number, string>> {
    if (!this.running.has(`${group}\u0000${topic}`)) return new Map();
    return new Map(this.partitionsOf(topic).map((_, i) => [i, `embedded@pid ${process.pid}`]));
  }

  async topicLayout(topic: string): Promise<TopicLayout> {
    const up = this.nodes.filter((n) => n.up);
    return {
      nodes: up.map(({ nodeId, host, port }) => ({ nodeId, host, port })),
      controller: up[0]?.nodeId ?? null,
      partitions: this.partitionsOf(topic).map((p, partition) => ({
        partition,
        leader: p.leader,
        replicas: [...p.replicas],
        isr: [...p.isr],
        offline: p.replicas.filter((id) => !up.some((n) => n.nodeId === id)),
        errorCode: p.leader === -1 ? LEADER_NOT_AVAILABLE : 0,
      })),
    };
  }

  async close(): Promise<void> {
    this.appended.removeAllListeners();
  }
}
