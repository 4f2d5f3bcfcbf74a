/**
 * The notification consumer: a consumer-group member that hands each batch to
 * the {@link BatchProcessor} and commits offsets only after every delivery of
 * the batch is settled (at-least-once in, once per channel out).
 */
import type { Logger } from '../log/logger.js';
import type { Telemetry } from '../telemetry/telemetry.js';
import { crashPoint } from './crash-point.js';
import type { EventLog, GroupConsumer } from './event-log.js';
import { FatalConsumerError, StoppedError } from './errors.js';
import { BatchProcessor, type ProcessorOptions } from './processor.js';
import { DueSends } from './due-sends.js';

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

/** How often a member working on a chunk heartbeats (kafkajs sends one at most every heartbeatInterval). */
const HEARTBEAT_EVERY_MS = 2_000;

/** What a broker answers while a new topic's leaders or the group's coordinator are still being chosen. */
const TRANSIENT_KAFKA_ERROR =
  /does not host this topic-partition|no leader for this topic-partition|not the leader for that topic-partition|coordinator is not available|not the correct coordinator|coordinator is loading/i;

export class NotificationConsumer {
  private readonly consumer: GroupConsumer;
  private readonly processor: BatchProcessor;
  /** Sends the schedule's due entries (every consumer runs it; claims are atomic). */
  private readonly dueSends: DueSends | undefined;
  assigned: number[] = [];
  /** Whether it has joined its group (been given its partitions, maybe none) at least once. */
  joined = false;
  private stopping = false;
  private fatalError: FatalConsumerError | undefined;
  private reportFatal: (error: FatalConsumerError) => void = () => undefined;
  /**
   * Settles when the consumer has stopped for good without being asked to: the dead-letter topic
   * refused a letter, or kafkajs crashed and will not restart. Nothing past the failure is committed;
   * the process must exit non-zero (a consumer that consumes nothing must not look alive).
   */
  readonly fatal: Promise<FatalConsumerError>;

  constructor(private readonly options: ConsumerOptions) {
    this.fatal = new Promise((resolve) => {
      this.reportFatal = resolve;
    });
    this.processor = new BatchProcessor(options);
    if (options.schedule)
      this.dueSends = new DueSends({
        processor: this.processor,
        schedule: options.schedule,
        telemetry: options.telemetry,
        ...(options.now ? { now: options.now } : {}),
      });
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
          this.joined = true;
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
          if (!restarting && this.stopping) return; // our own stop
          telemetry.publish({ kind: 'connection', service: 'kafka', state: 'error', detail: message, at: at() });
          if (restarting) {
            telemetry.publish({
              kind: 'error',
              source: 'consumer',
              message: `consumer crashed: ${message} (restarting)`,
              at: at(),
            });
          } else {
            this.fail(new FatalConsumerError(`the Kafka consumer crashed and will not restart: ${message}`));
          }
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
    this.dueSends?.start();
    await this.consumer.run(async (batch, control) => {
      const keepGoing = (): boolean => this.fatalError === undefined && control.keepGoing();
      for (let i = 0; i < batch.messages.length; i += chunkSize) {
        if (!keepGoing()) return;
        const chunk = batch.messages.slice(i, i + chunkSize);
        // The member says it is alive while a chunk takes its time (slow sends on a loaded machine, a
        // Redis failover and the chunk processed again): a chunk longer than the session (10 s) must not
        // cost the group its member, and the commit after it its place.
        const beating = setInterval(() => void control.heartbeat().catch(() => undefined), HEARTBEAT_EVERY_MS);
        try {
          await this.processor.process(batch.topic, batch.partition, chunk, keepGoing, control.heartbeat);
        } catch (error) {
          if (error instanceof StoppedError) {
            logger.info({ partition: batch.partition }, error.message);
            return;
          }
          if (error instanceof FatalConsumerError) {
            this.fail(error);
            return;
          }
          throw error;
        } finally {
          clearInterval(beating);
        }
        crashPoint('before-commit');
        const last = i + chunkSize >= batch.messages.length;
        // After the batch's last event, its end: a transaction's commit marker behind it is passed too,
        // or the lag would stay at 1 and `--drain` would never end.
        const next = (BigInt(chunk[chunk.length - 1]!.offset) + 1n).toString();
        await control.commit(
          last && batch.nextOffset && BigInt(batch.nextOffset) > BigInt(next) ? batch.nextOffset : next,
        );
        await control.heartbeat();
      }
    });
  }

  private fail(error: FatalConsumerError): void {
    if (this.fatalError) return;
    this.fatalError = error;
    this.options.logger.error({ err: error.message }, 'consumer stopped');
    this.options.telemetry.publish({ kind: 'error', source: 'consumer', message: error.message, at: Date.now() });
    // It holds no partition any more: the status bar must not go on naming them.
    this.assigned = [];
    this.options.telemetry.publish({ kind: 'assignment', partitions: [], stopped: true, at: Date.now() });
    this.reportFatal(error);
  }

  /** Stops fetching, lets the batch in flight settle and commit, then leaves the group. */
  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all([this.dueSends?.stop(), this.consumer.stop()]);
  }
}
