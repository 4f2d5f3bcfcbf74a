/**
 * The dashboard's inspect keys, carried out against the pipeline and the collector: an event's detail,
 * the dead-letter topic (read and replayed through the same code as `dlq list|replay`), the
 * partitions with the group's offsets and owners, the export. Everything that reads Kafka is async
 * and called from the controller, never from a render.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  DeadLetterReader,
  letterAddress,
  replayDeadLetters,
  type DeadLetterRecord,
  isChannelLetter,
} from '../../pipeline/dead-letters.js';
import type { Pipeline } from '../../app/runtime.js';
import type { Collector, DeliveryRow, StreamRow } from '../../telemetry/collector.js';
import { DETAIL_VALUE_BYTES } from '../../telemetry/outcomes.js';
import { bound } from '../../text/bound.js';
import type { LetterRow, PartitionRow } from '../../ui/store.js';
import { toLine } from '../headless-output.js';
import type { InspectSource } from './inspect-actions.js';

/** Dead letters the view reads: the newest this many. */
export const LETTERS_SHOWN = 200;

function eventIdOf(letter: DeadLetterRecord): string | null {
  if (!letter.value) return null;
  try {
    const id = (JSON.parse(letter.value.toString('utf8')) as { id?: unknown }).id;
    return typeof id === 'string' ? bound(id) : null;
  } catch {
    return null;
  }
}

const headerValue = (raw: unknown): string => {
  const first: unknown = Array.isArray(raw) ? raw[0] : raw;
  if (Buffer.isBuffer(first)) return first.toString('utf8', 0, 256);
  return typeof first === 'string' ? first.slice(0, 256) : '';
};

/** A letter as the view keeps it: bounded, the value escaped as a JSON string's content. */
export function letterRow(l: DeadLetterRecord): LetterRow {
  const value = l.value ? l.value.toString('utf8', 0, DETAIL_VALUE_BYTES) : '';
  return {
    partition: l.dlqPartition,
    offset: l.dlqOffset,
    writtenAt: l.writtenAt,
    reason: bound(l.reason, 64),
    detail: bound(l.detail),
    channel: l.channel === null ? null : bound(l.channel, 64),
    key: l.key === null ? null : bound(l.key.toString('utf8', 0, 1024)),
    sourceTopic: l.sourceTopic === null ? null : bound(l.sourceTopic, 256),
    source:
      l.sourcePartition !== null && l.sourceOffset !== null ? `${l.sourcePartition}@${bound(l.sourceOffset, 20)}` : '',
    eventId: isChannelLetter(l) ? eventIdOf(l) : null,
    failedAt: l.failedAt === null ? null : bound(l.failedAt, 64),
    value: JSON.stringify(value).slice(1, -1),
    valueBytes: l.value?.length ?? 0,
    headers: Object.entries(l.headers)
      .slice(0, 64)
      .map(([name, raw]) => [bound(name, 256), headerValue(raw)]),
  };
}

/** A stream row as a JSON object: headless output prints no `consumed` line, so this shape is the export's. */
const streamLine = (r: StreamRow): Record<string, unknown> => ({
  kind: 'consumed',
  eventId: r.eventId,
  type: r.type,
  userId: r.userId,
  partition: r.partition,
  offset: r.offset,
  summary: r.summary,
  at: new Date(r.at).toISOString(),
});

/** A deliveries row as headless output prints it (`toLine`), so one jq filter reads both. */
function deliveryLine(r: DeliveryRow): Record<string, unknown> | undefined {
  if (r.letter) return toLine({ kind: 'deadletter', ...r.letter, at: r.at });
  if (r.status === 'deadletter') return undefined;
  return toLine({ kind: 'delivery', ...r, status: r.status });
}

/** `eventstream-export-20261129T163533Z.jsonl` (UTC, sortable, short enough for an 80-column footer). */
export function exportFileName(now: Date, attempt = 0): string {
  const stamp = now
    .toISOString()
    .replace(/\.\d+Z$/, 'Z')
    .replace(/[-:]/g, '');
  return `eventstream-export-${stamp}${attempt > 0 ? `-${attempt}` : ''}.jsonl`;
}

export function inspectSource(
  pipeline: Pipeline,
  collector: Collector,
  cwd: () => string = process.cwd,
): InspectSource {
  const { settings } = pipeline;
  let previous: { at: number; ends: Map<number, bigint> } | undefined;
  return {
    detail: (key) => collector.detail(key),

    deadLetters: async () => {
      const reader = new DeadLetterReader(pipeline.log, pipeline.dlqTopic);
      const letters: LetterRow[] = [];
      const summary = await reader.list({ limit: LETTERS_SHOWN }, (l) => letters.push(letterRow(l)));
      return { topic: reader.topic, letters: letters.reverse(), inTopic: summary.inTopic };
    },

    replay: async (position) => {
      const reader = new DeadLetterReader(pipeline.log, pipeline.dlqTopic);
      const letters = await reader.at([position]);
      const topics = new Set(await pipeline.log.listTopics());
      const producer = await pipeline.log.producer();
      try {
        const summary = await replayDeadLetters(producer, letters, {
          to: settings.topic,
          topicExists: (t) => topics.has(t),
        });
        const skipped = summary.skipped[0];
        if (skipped) throw new Error(`${letterAddress(skipped.letter)}: ${skipped.why}`);
        const l = summary.replayed[0]!;
        const only = isChannelLetter(l) ? ` (${l.channel} only)` : '';
        return `replayed ${letterAddress(l)} (${l.reason}) to ${l.sourceTopic}${only}`;
      } finally {
        await producer.disconnect().catch(() => undefined);
      }
    },

    partitions: async () => {
      const [ends, committed, owners] = await Promise.all([
        pipeline.log.topicOffsets(settings.topic),
        pipeline.log.committedOffsets(settings.group, settings.topic),
        pipeline.log.partitionOwners(settings.group, settings.topic),
      ]);
      const at = Date.now();
      const seconds = previous ? (at - previous.at) / 1000 : 0;
      const rows: PartitionRow[] = ends
        .sort((a, b) => a.partition - b.partition)
        .map((e) => {
          const c = committed.get(e.partition);
          const from = c !== undefined ? BigInt(c) : BigInt(e.low);
          const high = BigInt(e.high);
          const before = previous?.ends.get(e.partition);
          return {
            partition: e.partition,
            committed: c ?? null,
            end: e.high,
            lag: high > from ? Number(high - from) : 0,
            owner: bound(owners.get(e.partition) ?? '', 256),
            rate: before !== undefined && seconds > 0 ? Math.round(Number(high - before) / seconds) : null,
          };
        });
      previous = { at, ends: new Map(ends.map((e) => [e.partition, BigInt(e.high)])) };
      return { group: settings.group, rows };
    },

    exportRows: async (filter) => {
      const { stream, deliveries } = collector.rows(filter);
      const lines: { at: number; line: Record<string, unknown> }[] = [];
      for (const r of stream) lines.push({ at: r.at, line: streamLine(r) });
      let delivered = 0;
      for (const r of deliveries) {
        const line = deliveryLine(r);
        if (!line) continue;
        delivered++;
        lines.push({ at: r.at, line });
      }
      // Oldest first, as the log would print them (the panels show newest first).
      lines.sort((a, b) => a.at - b.at);
      const text = lines.map((l) => `${JSON.stringify(l.line)}\n`).join('');
      const now = new Date();
      // Never over an earlier export: two in one second get -1, -2, ...
      for (let attempt = 0; ; attempt++) {
        const file = exportFileName(now, attempt);
        try {
          await writeFile(path.join(cwd(), file), text, { flag: 'wx' });
          return { file, stream: stream.length, deliveries: delivered };
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt >= 99) throw error;
        }
      }
    },
  };
}
