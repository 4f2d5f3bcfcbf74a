/**
 * A commit refused because the member was evicted (a node died, the session ran out) must reach
 * kafkajs' consumer as the protocol error it is, so that it joins the group again: kafkajs' own retry
 * inside `commitOffsets` wraps it in a KafkaJSNonRetriableError without its `type`, and the consumer
 * then crashed for good ("will not restart"), as a dashboard did when a node of three was SIGKILLed.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { groupErrorOf } from '../../src/adapters/kafka/event-log.js';
import { repoRoot } from '../support/cli.js';

const require = createRequire(path.join(repoRoot, 'package.json'));
const { createErrorFromCode } = require('kafkajs/src/protocol/error.js') as {
  createErrorFromCode: (code: number) => Error & { type: string; retriable: boolean };
};
const createRetry = require('kafkajs/src/retry/index.js') as (
  options: object,
) => (fn: () => Promise<unknown>) => Promise<unknown>;
const isRebalancing = (require('kafkajs/src/errors.js') as { isRebalancing: (e: unknown) => boolean }).isRebalancing;

/** What `consumer.commitOffsets` rejects with when the coordinator answers `code`: kafkajs' retry's verdict. */
async function commitRefused(code: number): Promise<unknown> {
  return createRetry({ retries: 2, initialRetryTime: 1 })(async () => {
    throw createErrorFromCode(code);
  }).catch((error: unknown) => error);
}

describe('a commit refused by the group coordinator', () => {
  it('UNKNOWN_MEMBER_ID (25), wrapped by kafkajs, comes out as itself: the type kafkajs re-joins on', async () => {
    const wrapped = (await commitRefused(25)) as Error & { type?: string };
    expect(wrapped.name).toBe('KafkaJSNonRetriableError');
    expect(wrapped.type).toBeUndefined();
    const error = groupErrorOf(wrapped) as Error & { type?: string };
    expect(error.type).toBe('UNKNOWN_MEMBER_ID');
  });

  it('ILLEGAL_GENERATION (22) alike, which kafkajs takes for a rebalance', async () => {
    const error = groupErrorOf(await commitRefused(22));
    expect(isRebalancing(error)).toBe(true);
  });

  it('any other error is left as it is', async () => {
    const wrapped = await commitRefused(29); // TOPIC_AUTHORIZATION_FAILED
    expect(groupErrorOf(wrapped)).toBe(wrapped);
    const plain = new Error('Connection error');
    expect(groupErrorOf(plain)).toBe(plain);
  });
});
