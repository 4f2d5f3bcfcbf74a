/**
 * Reads fixed offset ranges of a topic once, like `kcat -C -o <from> -e`: a consumer of a throwaway
 * group that commits nothing, seeks each partition to its start, stops at the end given (offsets
 * captured before, so it ends while producers keep writing) and deletes its group on the way out.
 */
import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import type { LogBatch, PartitionRange } from '../../pipeline/event-log.js';
import type { RawMessage } from '../../pipeline/ports.js';

/** A read that makes no progress this long (no batch from the broker) fails instead of hanging. */
const STALL_MS = 30_000;

export async function readRanges(
  kafka: Kafka,
  topic: string,
  ranges: PartitionRange[],
  each: (batch: LogBatch) => void | Promise<void>,
): Promise<void> {
  const pending = new Map<number, { from: bigint; to: bigint }>();
  for (const r of ranges) {
    if (BigInt(r.from) < BigInt(r.to)) pending.set(r.partition, { from: BigInt(r.from), to: BigInt(r.to) });
  }
  if (pending.size === 0) return;
  const groupId = `eventstream-tui-reader-${randomUUID()}`;
  const consumer = kafka.consumer({
    groupId,
    sessionTimeout: 10_000,
    heartbeatInterval: 1_000,
    maxWaitTimeInMs: 250,
    allowAutoTopicCreation: false,
    retry: { retries: 3, initialRetryTime: 300, maxRetryTime: 3_000, restartOnFailure: async () => false },
  });
  let settle!: (error?: Error) => void;
  const finished = new Promise<void>((resolve, reject) => {
    settle = (error) => (error ? reject(error) : resolve());
  });
  let stall: NodeJS.Timeout | undefined;
  const armStall = (): void => {
    clearTimeout(stall);
    stall = setTimeout(
      () =>
        settle(
          new Error(
            `reading ${topic} stalled: nothing from partition(s) ${[...pending.keys()].join(', ')} for ${STALL_MS / 1000} s`,
          ),
        ),
      STALL_MS,
    );
  };
  consumer.on(consumer.events.CRASH, (e) => settle(e.payload.error));
  try {
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    armStall();
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        const range = pending.get(batch.partition);
        if (!range) return;
        armStall();
        const messages = (batch.messages as RawMessage[]).filter((m) => {
          const offset = BigInt(m.offset);
          return offset >= range.from && offset < range.to;
        });
        try {
          if (messages.length > 0) await each({ topic, partition: batch.partition, messages });
        } catch (error) {
          // The caller's failure ends the read (kafkajs would retry the batch and restart the consumer).
          pending.clear();
          settle(error as Error);
          return;
        }
        // lastOffset() counts what the batch skipped too (control records, compacted gaps).
        if (BigInt(batch.lastOffset()) >= range.to - 1n) {
          pending.delete(batch.partition);
          if (pending.size === 0) settle();
        }
      },
    });
    for (const [partition, range] of pending) consumer.seek({ topic, partition, offset: range.from.toString() });
    await finished;
  } finally {
    clearTimeout(stall);
    await consumer.disconnect().catch(() => undefined);
    const admin = kafka.admin();
    await admin
      .connect()
      .then(() => admin.deleteGroups([groupId]))
      .catch(() => undefined)
      .finally(() => admin.disconnect().catch(() => undefined));
  }
}
