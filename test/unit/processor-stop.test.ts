/**
 * A stop is never a failure: a send rejected once, then retried while Redis is down, and a stop
 * arriving meanwhile, abandons the chunk (to be redelivered) instead of reporting the send failed.
 */
import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../../src/domain/catalog.js';
import { StoppedError } from '../../src/pipeline/errors.js';
import { BatchProcessor } from '../../src/pipeline/processor.js';
import {
  ProviderError,
  type DeadLetter,
  type NotificationProvider,
  type PipelineStore,
  type RawMessage,
  type SendRequest,
  type UserRecord,
} from '../../src/pipeline/ports.js';
import type { Outcome } from '../../src/telemetry/outcomes.js';
import { Telemetry } from '../../src/telemetry/telemetry.js';

const user: UserRecord = {
  profile: { id: 'u1', name: 'U', email: 'u1@example.com' },
  prefs: { email: 'on', sms: 'off', push: 'off', console: 'off' },
};

const store: PipelineStore = {
  lookupBatch: async () => ({ users: new Map([['u1', user]]), delivered: new Map() }),
  markDelivered: async () => undefined,
};

function message(offset: number): RawMessage {
  const event = {
    id: `e${offset}`,
    type: 'user_signup',
    userId: 'u1',
    occurredAt: new Date().toISOString(),
    payload: {},
  };
  return {
    key: Buffer.from('u1'),
    value: Buffer.from(JSON.stringify(event)),
    offset: String(offset),
    timestamp: String(Date.now()),
  };
}

describe('a stop during retries', () => {
  it('while the provider is unreachable after a rejection: the chunk is abandoned, nothing failed, nothing dead-lettered', async () => {
    let running = true;
    const sends: SendRequest[] = [];
    const provider: NotificationProvider = {
      // the first attempt is rejected by the provider
      sendMany: async (requests) => requests.map(() => new ProviderError('rejected (simulated failure)')),
      // then Redis behind it is gone, and the stop arrives while that is waited out
      send: async (request) => {
        sends.push(request);
        running = false;
        throw new Error('Connection is closed.');
      },
    };
    const letters: DeadLetter[] = [];
    const telemetry = new Telemetry();
    const published: Outcome[] = [];
    telemetry.subscribe((o) => published.push(o));
    const processor = new BatchProcessor({
      catalog: await loadCatalog(),
      store,
      provider,
      deadLetters: { send: async (l) => void letters.push(...l) },
      telemetry,
      maxBytes: 1 << 20,
      sendRetry: { attempts: 4, baseDelayMs: 1, maxDelayMs: 2 },
    });
    await expect(processor.process('t', 0, [message(0)], () => running)).rejects.toBeInstanceOf(StoppedError);
    expect(sends.length).toBeGreaterThan(0);
    expect(letters).toEqual([]);
    expect(published.filter((o) => o.kind === 'delivery')).toEqual([]);
  });

  it('between provider rejections: abandoned as well, not failed after a shortened budget', async () => {
    let running = true;
    const provider: NotificationProvider = {
      sendMany: async (requests) => requests.map(() => new ProviderError('rejected (simulated failure)')),
      send: async () => {
        running = false; // SIGTERM while this attempt is rejected too
        throw new ProviderError('rejected (simulated failure)');
      },
    };
    const letters: DeadLetter[] = [];
    const processor = new BatchProcessor({
      catalog: await loadCatalog(),
      store,
      provider,
      deadLetters: { send: async (l) => void letters.push(...l) },
      telemetry: new Telemetry(),
      maxBytes: 1 << 20,
      sendRetry: { attempts: 4, baseDelayMs: 1, maxDelayMs: 2 },
    });
    await expect(processor.process('t', 0, [message(0)], () => running)).rejects.toBeInstanceOf(StoppedError);
    expect(letters).toEqual([]);
  });
});
