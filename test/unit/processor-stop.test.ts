/**
 * A stop is never a failure: a send rejected once, then retried while Redis is down, and a stop
 * arriving meanwhile, abandons the chunk (to be redelivered) instead of reporting the send failed.
 */
import { describe, expect, it } from 'vitest';
import { StoppedError } from '../../src/pipeline/errors.js';
import { ProviderError, type NotificationProvider, type SendRequest } from '../../src/pipeline/ports.js';
import { processorOn, signupMessage, storeOf, userU1 } from '../support/processor.js';

const store = storeOf(userU1({ email: 'on', sms: 'off', push: 'off', console: 'off' }));

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
    const { processor, letters, published } = await processorOn({
      store,
      provider,
      sendRetry: { attempts: 4, baseDelayMs: 1, maxDelayMs: 2 },
    });
    await expect(processor.process('t', 0, [signupMessage(0)], () => running)).rejects.toBeInstanceOf(StoppedError);
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
    const { processor, letters } = await processorOn({
      store,
      provider,
      sendRetry: { attempts: 4, baseDelayMs: 1, maxDelayMs: 2 },
    });
    await expect(processor.process('t', 0, [signupMessage(0)], () => running)).rejects.toBeInstanceOf(StoppedError);
    expect(letters).toEqual([]);
  });
});
