/**
 * The notification consumer: a Kafka consumer group member that hands each
 * batch to the {@link BatchProcessor} and commits offsets only after every
 * delivery of the batch is settled (at-least-once in, once per channel out).
 */
import type { Consumer, Kafka } from 'kafkajs';
import type { Logger } from '../log/logger.js';
import type { Telemetry } from '../telemetry/telemetry.js';
import { crashPoint } from './crash-point.js';
import { BatchProcessor, StoppedError, type ProcessorOptions } from './processor.js';

export interface ConsumerOptions extends ProcessorOptions {
  kafka: Kafka;
  topic: string;
  group: string;
  fromBeginning: boolean;
  logger: Logger;
  telemetry: Telemetry;
  /** Messages handed to the processor at once (one Redis round trip each). */
  chunkSize?: number;
  partitionsConsumedConcurrently?: number;
}

export class NotificationConsumer {
  private readonly consumer: Consumer;
  private readonly processor: BatchProcessor;
  private running = false;
  private stopping = false;
  assigned: number[] = [];

  constructor(private readonly options: ConsumerOptions) {
    this.processor = new BatchProcessor(options);
    this.consumer = options.kafka.consumer({
      groupId: options.group,
      sessionTimeout: 10_000,
      rebalanceTimeout: 20_000,
      heartbeatInterval: 1_000,
      maxWaitTimeInMs: 250,
      allowAutoTopicCreation: false,
      retry: { retries: 8, initialRetryTime: 300, maxRetryTime: 5_000, restartOnFailure: async () => !this.stopping },
    });
    const { telemetry } = options;
    const at = (): number => Date.now();
    const c = this.consumer;
    c.on(c.events.CONNECT, () =>
      telemetry.publish({
        kind: 'connection',
        service: 'kafka',
        state: 'connected',
        detail: 'consumer connected',
        at: at(),
      }),
    );
    c.on(c.events.DISCONNECT, () =>
      telemetry.publish({
        kind: 'connection',
        service: 'kafka',
        state: 'disconnected',
        detail: 'consumer disconnected',
        at: at(),
      }),
    );
    c.on(c.events.GROUP_JOIN, (e) => {
      this.assigned = (e.payload.memberAssignment[options.topic] ?? []).slice().sort((a, b) => a - b);
      telemetry.publish({ kind: 'assignment', partitions: this.assigned, at: at() });
    });
    c.on(c.events.CRASH, (e) => {
      const error = e.payload.error;
      telemetry.publish({
        kind: 'error',
        source: 'consumer',
        message: `consumer crashed: ${error.message}${e.payload.restart ? ' (restarting)' : ''}`,
        at: at(),
      });
      telemetry.publish({ kind: 'connection', service: 'kafka', state: 'error', detail: error.message, at: at() });
    });
    c.on(c.events.REQUEST_TIMEOUT, () => undefined);
  }

  async start(): Promise<void> {
    const { topic, fromBeginning, logger } = this.options;
    this.options.telemetry.publish({
      kind: 'connection',
      service: 'kafka',
      state: 'connecting',
      detail: 'consumer joining group',
      at: Date.now(),
    });
    await this.consumer.connect();
    await this.consumer.subscribe({ topic, fromBeginning });
    this.running = true;
    const chunkSize = this.options.chunkSize ?? 500;
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.options.partitionsConsumedConcurrently ?? 1,
      eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
        const keepGoing = (): boolean => isRunning() && !isStale() && !this.stopping;
        for (let i = 0; i < batch.messages.length; i += chunkSize) {
          if (!keepGoing()) return;
          const chunk = batch.messages.slice(i, i + chunkSize).map((m) => ({ ...m, headers: m.headers ?? {} }));
          try {
            await this.processor.process(batch.topic, batch.partition, chunk, keepGoing, heartbeat);
          } catch (error) {
            if (error instanceof StoppedError) {
              logger.info({ partition: batch.partition }, error.message);
              return;
            }
            throw error;
          }
          const last = chunk[chunk.length - 1]!.offset;
          crashPoint('before-commit');
          resolveOffset(last);
          await this.consumer.commitOffsets([
            { topic: batch.topic, partition: batch.partition, offset: (BigInt(last) + 1n).toString() },
          ]);
          await heartbeat();
        }
      },
    });
  }

  /** Stops fetching, lets the batch in flight settle and commit, then leaves the group. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    if (this.running) await this.consumer.stop().catch(() => undefined);
    await this.consumer.disconnect().catch(() => undefined);
    this.running = false;
  }
}
