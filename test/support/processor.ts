/**
 * The batch processor on fakes, for unit tests of its decisions: one user `u1`, its events as raw
 * Kafka messages, and a processor whose dead letters and outcomes are collected.
 */
import { loadCatalog } from '../../src/domain/catalog.js';
import type { PermanentError } from '../../src/pipeline/errors.js';
import { BatchProcessor, type ProcessorOptions } from '../../src/pipeline/processor.js';
import type {
  DeadLetter,
  NotificationProvider,
  PipelineStore,
  ProviderError,
  RawMessage,
  SendRequest,
  SendResult,
  UserRecord,
} from '../../src/pipeline/ports.js';
import type { Outcome } from '../../src/telemetry/outcomes.js';
import { countInto, emptyTotals, Telemetry } from '../../src/telemetry/telemetry.js';

/** User `u1`, with an email address and these preferences. */
export function userU1(prefs: UserRecord['prefs']): UserRecord {
  return { profile: { id: 'u1', name: 'U', email: 'u1@example.com' }, prefs };
}

/** A store that finds `user` under every id asked, nothing delivered before. */
export function storeOf(user: UserRecord): PipelineStore {
  return {
    lookupBatch: async (ids) => ({ users: new Map(ids.map((id) => [id, user])), delivered: new Map() }),
    markDelivered: async () => undefined,
  };
}

/** A `user_signup` of `u1` with id `e<offset>`, at `offset` of the partition. */
export function signupMessage(offset: number, occurredAt: Date = new Date()): RawMessage {
  const event = {
    id: `e${offset}`,
    type: 'user_signup',
    userId: 'u1',
    occurredAt: occurredAt.toISOString(),
    payload: {},
  };
  return {
    key: Buffer.from('u1'),
    value: Buffer.from(JSON.stringify(event)),
    offset: String(offset),
    timestamp: String(occurredAt.getTime()),
  };
}

/** A provider whose every send, in a batch or alone, gets `answer`'s answer (an error is thrown alone). */
export function providerAnswering(
  answer: (request: SendRequest) => SendResult | ProviderError | PermanentError,
): NotificationProvider {
  return {
    sendMany: async (requests) => requests.map(answer),
    send: async (request) => {
      const a = answer(request);
      if (a instanceof Error) throw a;
      return a;
    },
  };
}

/**
 * A processor with the real catalog: `options` say the provider, the store and the rest; its dead
 * letters, outcomes and totals are collected.
 */
export async function processorOn(
  options: Omit<ProcessorOptions, 'catalog' | 'deadLetters' | 'telemetry' | 'maxBytes'>,
): Promise<{
  processor: BatchProcessor;
  letters: DeadLetter[];
  published: Outcome[];
  totals: ReturnType<typeof emptyTotals>;
}> {
  const letters: DeadLetter[] = [];
  const telemetry = new Telemetry();
  const published: Outcome[] = [];
  telemetry.subscribe((o) => published.push(o));
  const totals = emptyTotals();
  telemetry.subscribe(countInto(totals));
  const processor = new BatchProcessor({
    catalog: await loadCatalog(),
    deadLetters: { send: async (l) => void letters.push(...l) },
    telemetry,
    maxBytes: 1 << 20,
    ...options,
  });
  return { processor, letters, published, totals };
}
