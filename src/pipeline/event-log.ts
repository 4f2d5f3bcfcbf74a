/**
 * The port between the pipeline and a partitioned log. Kafka implements it for
 * real (src/adapters/kafka), an in-process log for the embedded mode
 * (src/adapters/memory). The pipeline knows only this.
 */
import type { RawMessage } from './ports.js';

export interface OutboundMessage {
  key: string | Buffer | null;
  value: Buffer | string | null;
  headers?: Record<string, string | Buffer | (string | Buffer)[]>;
}

export interface LogProducer {
  /** Appends the messages (partitioned by key) and resolves once the log has them. */
  send(topic: string, messages: OutboundMessage[]): Promise<void>;
  disconnect(): Promise<void>;
}

export interface BatchControl {
  /** False once the consumer is stopping or lost the partition: finish nothing new. */
  keepGoing(): boolean;
  heartbeat(): Promise<void>;
  /** Commits `nextOffset` (the offset after the last settled message) for this partition. */
  commit(nextOffset: string): Promise<void>;
}

export interface LogBatch {
  topic: string;
  partition: number;
  messages: RawMessage[];
  /**
   * The offset after the last record the fetch covered, control records (transaction markers)
   * included; absent when it is the one after the last message.
   */
  nextOffset?: string;
}

export interface GroupConsumerEvents {
  connected(): void;
  disconnected(): void;
  assigned(partitions: number[]): void;
  crashed(message: string, restarting: boolean): void;
}

export interface GroupConsumerOptions {
  group: string;
  topic: string;
  /** Where a group with no committed offset starts: the earliest retained offset, or the end. */
  fromBeginning: boolean;
  events: GroupConsumerEvents;
}

export interface GroupConsumer {
  run(eachBatch: (batch: LogBatch, control: BatchControl) => Promise<void>): Promise<void>;
  /** Stops fetching, lets the batch in flight settle, leaves the group. */
  stop(): Promise<void>;
}

export interface PartitionOffsets {
  partition: number;
  low: string;
  high: string;
}

/** Offsets `from` (inclusive) to `to` (exclusive) of one partition. */
export interface PartitionRange {
  partition: number;
  from: string;
  to: string;
}

/** A broker the cluster lists as alive now. */
export interface LogNode {
  nodeId: number;
  host: string;
  port: number;
}

/** Where one partition's replicas are, as the cluster said when asked. */
export interface PartitionReplicas {
  partition: number;
  /** The leader's node id; -1 when the partition has none (offline). */
  leader: number;
  /** The nodes meant to hold a copy, the preferred leader first. */
  replicas: number[];
  /** The in-sync replicas: fewer than `replicas` is under-replicated. */
  isr: number[];
  /** Replicas on nodes the cluster knows are down (empty from brokers before 1.0). */
  offline: number[];
  /** Kafka's error code for the partition: 0 none, 5 no leader available, ... */
  errorCode: number;
}

/** The cluster and one topic's replicas, read from the cluster on the call (never a cache). */
export interface TopicLayout {
  /** The brokers alive now: a broker that is down is not listed. */
  nodes: LogNode[];
  /** The controller's node id; null when the cluster names none. */
  controller: number | null;
  partitions: PartitionReplicas[];
}

export interface EventLog {
  ensureTopics(topics: string[], partitions: number): Promise<string[]>;
  producer(): Promise<LogProducer>;
  consumer(options: GroupConsumerOptions): GroupConsumer;
  topicOffsets(topic: string): Promise<PartitionOffsets[]>;
  /** The topics that exist. */
  listTopics(): Promise<string[]>;
  /**
   * Reads each range once, in offset order per partition, and resolves when every range is read. It
   * joins no consumer group of the caller's and commits nothing: a look at the log, not a consumer.
   */
  readRanges(topic: string, ranges: PartitionRange[], each: (batch: LogBatch) => void | Promise<void>): Promise<void>;
  /** Committed offset per partition for a group; absent = nothing committed. */
  committedOffsets(group: string, topic: string): Promise<Map<number, string>>;
  /** The member of `group` that owns each partition of `topic` it was assigned (`clientId@host`); absent = none. */
  partitionOwners(group: string, topic: string): Promise<Map<number, string>>;
  /**
   * The brokers alive and each partition's leader, replicas and in-sync replicas, asked of the cluster
   * on every call. The caller bounds how long it waits (a broker that is down may not answer at all).
   */
  topicLayout(topic: string): Promise<TopicLayout>;
  close(): Promise<void>;
}
