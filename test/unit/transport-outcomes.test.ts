/**
 * What a real transport's answers become in the pipeline: a rejection is dead-lettered `rejected`
 * with the server's reply and its channel at once (no retry), counted as a dead letter, and replayed
 * for that channel only; a temporary answer is retried after its Retry-After; a transport that is
 * down is, without a schedule, retried like any temporary failure (with one, it is parked:
 * test/unit/outages.test.ts); a send whose provider
 * keys Redis refuses (`store-error`) counts as a dead letter too.
 */
import { describe, expect, it } from 'vitest';
import { PermanentError, RejectedError } from '../../src/pipeline/errors.js';
import { readDeadLetter, replayMessage, REPLAY_HEADERS } from '../../src/pipeline/dead-letters.js';
import { DLQ_HEADERS } from '../../src/pipeline/dead-letter-topic.js';
import { ProviderError, TransportDownError, type SendRequest, type SendResult } from '../../src/pipeline/ports.js';
import type { DeliveryOutcome } from '../../src/telemetry/outcomes.js';
import { processorOn, providerAnswering, signupMessage, storeOf, userU1 } from '../support/processor.js';

const store = storeOf(userU1({ email: 'on', sms: 'off', push: 'off', console: 'on', webhook: 'off' }));

type Answer = SendResult | ProviderError | PermanentError;

/** A provider answering the email sends from `answers` (one per try, the last repeated), console always accepted. */
async function run(answers: Answer[]) {
  const tries: { at: number; request: SendRequest }[] = [];
  const answer = (request: SendRequest): Answer => {
    if (request.channel !== 'email') return 'accepted';
    tries.push({ at: Date.now(), request });
    return answers[Math.min(tries.length - 1, answers.length - 1)]!;
  };
  const provider = providerAnswering(answer);
  const { processor, letters, published, totals } = await processorOn({
    store,
    provider,
    sendRetry: { attempts: 4, baseDelayMs: 1, maxDelayMs: 2 },
  });
  await processor.process('events', 0, [signupMessage(0)]);
  const email = published.find((o): o is DeliveryOutcome => o.kind === 'delivery' && o.channel === 'email')!;
  return { tries, letters, published, totals, email };
}

describe("a real transport's answers in the pipeline", () => {
  it('rejected: failed at once with the reply, a `rejected` letter with its channel, counted as a dead letter', async () => {
    const r = await run([new RejectedError('550 5.1.1 <u1@example.com>: Recipient address rejected')]);
    expect(r.tries).toHaveLength(1);
    expect(r.email).toMatchObject({
      status: 'failed',
      reason: 'rejected: 550 5.1.1 <u1@example.com>: Recipient address rejected',
      attempts: 1,
    });
    expect(r.letters).toEqual([
      expect.objectContaining({
        reason: 'rejected',
        channel: 'email',
        detail: 'email: 550 5.1.1 <u1@example.com>: Recipient address rejected',
      }),
    ]);
    expect(r.published.filter((o) => o.kind === 'deadletter')).toEqual([
      expect.objectContaining({ reason: 'rejected', offset: '0', key: 'u1' }),
    ]);
    expect([r.totals.sent, r.totals.failed, r.totals.deadletter]).toEqual([1, 1, 1]);
    // No "Redis refused" error for it: it is the server's answer, not the store's.
    expect(r.published.filter((o) => o.kind === 'error')).toEqual([]);
  });

  it('its letter replays the one channel, like delivery-failed', () => {
    const letter = readDeadLetter('events.dlq', 0, {
      key: Buffer.from('u1'),
      value: Buffer.from('{}'),
      offset: '5',
      timestamp: '0',
      headers: { [DLQ_HEADERS.reason]: 'rejected', [DLQ_HEADERS.channel]: 'email' },
    });
    expect(replayMessage(letter).headers![REPLAY_HEADERS.channel]).toBe('email');
  });

  it("a 429's Retry-After is waited before the next try, then the send goes", async () => {
    const r = await run([new ProviderError('429 slow down', 300), 'accepted']);
    expect(r.tries).toHaveLength(2);
    expect(r.tries[1]!.at - r.tries[0]!.at).toBeGreaterThanOrEqual(290);
    expect(r.email).toMatchObject({ status: 'sent', attempts: 2 });
    expect(r.letters).toEqual([]);
  });

  it('down (refused, timed out): retried like a temporary failure, then delivery-failed after the budget', async () => {
    const down = new TransportDownError(
      'smtp://mail:25',
      'smtp://mail:25 unreachable: connect ECONNREFUSED',
      'ECONNREFUSED',
    );
    const r = await run([down]);
    expect(r.tries).toHaveLength(4);
    expect(r.email).toMatchObject({ status: 'failed', reason: 'smtp://mail:25 unreachable: connect ECONNREFUSED' });
    expect(r.letters.map((l) => [l.reason, l.channel])).toEqual([['delivery-failed', 'email']]);
    // shown as the failed delivery itself, as before
    expect(r.totals.deadletter).toBe(0);
  });

  it('a send whose provider keys Redis refuses (store-error) counts as a dead letter', async () => {
    const reply = Object.assign(new Error('WRONGTYPE outbox:{provider}:email holds a value of another type'), {
      name: 'ReplyError',
    });
    const r = await run([new PermanentError(`email: ${reply.message}`, reply)]);
    expect(r.email).toMatchObject({ status: 'failed' });
    expect(String(r.email.reason)).toMatch(/^store-error: /);
    expect(r.letters.map((l) => [l.reason, l.channel])).toEqual([['store-error', 'email']]);
    expect(r.totals.deadletter).toBe(1);
  });
});
