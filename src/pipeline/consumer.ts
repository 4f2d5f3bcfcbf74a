/**
 * The notification consumer: a consumer-group member that hands each batch to
 * the {@link BatchProcessor} and commits offsets only after every delivery of
 * the batch is settled (at-least-once in, once per channel out).
 */
import type { Logger } from '../log/logger.js';
import type { Telemetry } from '../telemetry/telemetry.js';
import { crashPoint } from './crash-point.js';
import type { EventLog, GroupConsumer } from './event-log.js';
import { BatchProcessor, StoppedError, type ProcessorOptions } from './processor.js';

export interface ConsumerOptions extends ProcessorOptions {
  log: EventLog;
  topic: string;
  group: string;
  fromBeginning: boolean;
  logger: Logger;
  telemetry: Telemetry;
  /** Messages handed to the processor at once (one Redis round trip each). */
  chunkSize?: number;
}

/** What a broker answers while a new topic's leaders or the group's coordinator are still being chosen. */
const TRANSIENT_KAFKA_ERROR =
  /does not host this topic-partition|no leader for this topic-partition|not the leader for that topic-partition|coordinator is not available|not the correct coordinator|coordinator is loading/i;

export class NotificationConsumer {
  private readonly consumer: GroupConsumer;
  private readonly processor: BatchProcessor;
  assigned: number[] = [];

  constructor(private readonly options: ConsumerOptions) {
    this.processor = new BatchProcessor(options);
    const { telemetry } = options;
    const at = (): number => Date.now();
    this.consumer = options.log.consumer({
      group: options.group,
      topic: options.topic,
      fromBeginning: options.fromBeginning,
      events: {
        connected: () =>
          telemetry.publish({
            kind: 'connection',
            service: 'kafka',
            state: 'connected',
            detail: 'consumer connected',
            at: at(),
          }),
        disconnected: () =>
          telemetry.publish({
            kind: 'connection',
            service: 'kafka',
            state: 'disconnected',
            detail: 'consumer disconnected',
            at: at(),
          }),
        assigned: (partitions) => {
          this.assigned = partitions;
          telemetry.publish({ kind: 'assignment', partitions, at: at() });
        },
        crashed: (message, restarting) => {
          if (restarting && TRANSIENT_KAFKA_ERROR.test(message)) {
            // A topic just created, a leader or a coordinator being elected: kafkajs restarts the
            // consumer and it joins in seconds. Shown as joining, not as a red error.
            options.logger.info({ err: message }, 'consumer restarting: the broker is not ready for it yet');
            telemetry.publish({
              kind: 'connection',
              service: 'kafka',
              state: 'connecting',
              detail: `waiting for the broker (${message})`,
              at: at(),
            });
            return;
          }
          telemetry.publish({
            kind: 'error',
            source: 'consumer',
            message: `consumer crashed: ${message}${restarting ? ' (restarting)' : ''}`,
            at: at(),
          });
          telemetry.publish({ kind: 'connection', service: 'kafka', state: 'error', detail: message, at: at() });
        },
      },
    });
  }

  async start(): Promise<void> {
    const { logger } = this.options;
    this.options.telemetry.publish({
      kind: 'connection',
      service: 'kafka',
      state: 'connecting',
      detail: 'consumer joining group',
      at: Date.now(),
    });
    const chunkSize = this.options.chunkSize ?? 1000;
    await this.consumer.run(async (batch, control) => {
      for (let i = 0; i < batch.messages.length; i += chunkSize) {
        if (!control.keepGoing()) return;
        const chunk = batch.messages.slice(i, i + chunkSize);
        try {
          await this.processor.process(batch.topic, batch.partition, chunk, control.keepGoing, control.heartbeat);
        } catch (error) {
          if (error instanceof StoppedError) {
            logger.info({ partition: batch.partition }, error.message);
            return;
          }
          throw error;
        }
        crashPoint('before-commit');
        await control.commit((BigInt(chunk[chunk.length - 1]!.offset) + 1n).toString());
        await control.heartbeat();
      }
    });
  }

  /** Stops fetching, lets the batch in flight settle and commit, then leaves the group. */
  async stop(): Promise<void> {
    await this.consumer.stop();
  }
}
