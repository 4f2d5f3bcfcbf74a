/**
 * Dead letters: the original key, bytes and headers unchanged, with headers saying why and where from.
 * Incoming `dlq-*` headers (any case) are dropped: only ours say why, so a sender cannot forge a
 * `dlq-channel`, and a replayed letter that fails again carries this failure, not the last one.
 */
import type { LogProducer } from './event-log.js';
import type { DeadLetter, DeadLetterSink } from './ports.js';

export const DLQ_HEADERS = {
  reason: 'dlq-reason',
  detail: 'dlq-detail',
  sourceTopic: 'dlq-source-topic',
  sourcePartition: 'dlq-source-partition',
  sourceOffset: 'dlq-source-offset',
  channel: 'dlq-channel',
  failedAt: 'dlq-failed-at',
} as const;

const OURS = /^dlq-/i;

export class DeadLetterTopic implements DeadLetterSink {
  constructor(
    private readonly producer: LogProducer,
    private readonly topic: string,
  ) {}

  async send(letters: DeadLetter[]): Promise<void> {
    await this.producer.send(
      this.topic,
      letters.map((l) => {
        const headers: Record<string, Buffer | string | (Buffer | string)[]> = {};
        for (const [k, v] of Object.entries(l.message.headers ?? {})) {
          if (v !== undefined && !OURS.test(k)) headers[k] = v;
        }
        headers[DLQ_HEADERS.reason] = l.reason;
        headers[DLQ_HEADERS.detail] = l.detail;
        headers[DLQ_HEADERS.sourceTopic] = l.sourceTopic;
        headers[DLQ_HEADERS.sourcePartition] = String(l.partition);
        headers[DLQ_HEADERS.sourceOffset] = l.message.offset;
        headers[DLQ_HEADERS.failedAt] = new Date().toISOString();
        if (l.channel) headers[DLQ_HEADERS.channel] = l.channel;
        return { key: l.message.key, value: l.message.value, headers };
      }),
    );
  }
}
