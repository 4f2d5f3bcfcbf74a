/** The `consumed` outcome of one event, built lazily: headless modes never read what it can show. */
import type { EventEnvelope } from '../domain/envelope.js';
import type { EventTypeDefinition } from '../domain/event-type.js';
import { DETAIL_VALUE_BYTES, type ConsumedOutcome } from '../telemetry/outcomes.js';
import type { RawMessage } from './ports.js';

/** A consumed event's outcome; its summary (for the dashboard's stream) is written only when read. */
export class ConsumedEvent implements ConsumedOutcome {
  readonly kind = 'consumed';
  readonly eventId: string;
  readonly type: string;
  readonly userId: string;
  readonly offset: string;
  private summaryText: string | undefined;
  private details: ReturnType<typeof detailFields> | undefined;

  constructor(
    private readonly event: EventEnvelope,
    readonly topic: string,
    private readonly message: RawMessage,
    readonly partition: number,
    readonly at: number,
    private readonly definition: EventTypeDefinition,
  ) {
    this.eventId = event.id;
    this.type = event.type;
    this.userId = event.userId;
    this.offset = message.offset;
  }

  // Built only when a subscriber reads them (the dashboard's detail); headless modes never do.
  get summary(): string {
    return (this.summaryText ??= this.definition.summarize(this.event.payload));
  }
  private get detail(): ReturnType<typeof detailFields> {
    return (this.details ??= detailFields(this.topic, this.message));
  }
  get key(): string | null {
    return this.detail.key ?? null;
  }
  get headers(): Record<string, string> {
    return this.detail.headers ?? {};
  }
  get timestamp(): number {
    return this.detail.timestamp ?? 0;
  }
  get value(): string {
    return this.detail.value ?? '';
  }
  get valueBytes(): number {
    return this.detail.valueBytes ?? 0;
  }
}

/** Headers kept for the detail, at most. */
const DETAIL_HEADERS = 32;

/** The message as the dashboard's detail shows it: every string bounded, decoded once, here. */
function detailFields(
  topic: string,
  message: RawMessage,
): Pick<ConsumedOutcome, 'topic' | 'key' | 'headers' | 'timestamp' | 'value' | 'valueBytes'> {
  const headers: Record<string, string> = {};
  let n = 0;
  for (const [name, raw] of Object.entries(message.headers ?? {})) {
    if (raw === undefined) continue;
    if (n++ >= DETAIL_HEADERS) break;
    const first = Array.isArray(raw) ? raw[0] : raw;
    const text =
      first === undefined ? '' : typeof first === 'string' ? first.slice(0, 256) : first.toString('utf8', 0, 256);
    headers[name.slice(0, 256)] = text;
  }
  return {
    topic,
    key: message.key === null ? null : message.key.toString('utf8', 0, 1024),
    headers,
    timestamp: Number(message.timestamp) || 0,
    value: message.value?.toString('utf8', 0, DETAIL_VALUE_BYTES) ?? '',
    valueBytes: message.value?.length ?? 0,
  };
}
