/**
 * `--redis-wait-replicas`: the processor's `WAIT` after a chunk's writes, the chunk processed again when
 * the connection changed during it, and a short `WAIT` reported, not waited out.
 */
import { describe, expect, it } from 'vitest';
import type { NotificationProvider, PipelineStore, ReplicaWait } from '../../src/pipeline/ports.js';
import { processorOn, signupMessage, userU1 } from '../support/processor.js';

const user = userU1({ email: 'on', sms: 'off', push: 'off', console: 'off' });

async function setup(replicas: ReplicaWait | undefined) {
  const steps: string[] = [];
  const store: PipelineStore = {
    lookupBatch: async () => {
      steps.push('lookup');
      return { users: new Map([['u1', user]]), delivered: new Map() };
    },
    markDelivered: async () => void steps.push('mark'),
  };
  const provider: NotificationProvider = {
    sendMany: async (requests) => {
      steps.push('send');
      return requests.map(() => 'accepted' as const);
    },
    send: async () => 'accepted',
  };
  const warnings: string[] = [];
  const { processor, published } = await processorOn({
    store,
    provider,
    ...(replicas ? { replicas, warn: (m: string) => warnings.push(m) } : {}),
  });
  return { processor, steps, published, warnings };
}

function fakeReplicas(acks: number[], epochs: number[]): ReplicaWait & { waits: number } {
  let epochCall = 0;
  const fake = {
    replicas: 1,
    timeoutMs: 300,
    waits: 0,
    epoch: () => epochs[Math.min(epochCall++, epochs.length - 1)]!,
    wait: async () => acks[Math.min(fake.waits++, acks.length - 1)]!,
  };
  return fake;
}

describe('WAIT before the commit', () => {
  it('off: no WAIT, one pass', async () => {
    const { processor, steps } = await setup(undefined);
    await processor.process('t', 0, [signupMessage(0)]);
    expect(steps).toEqual(['lookup', 'send', 'mark']);
  });

  it('on: one WAIT after the writes; acknowledged, nothing said', async () => {
    const replicas = fakeReplicas([1], [5, 5]);
    const { processor, steps, published } = await setup(replicas);
    await processor.process('t', 0, [signupMessage(0)]);
    expect(steps).toEqual(['lookup', 'send', 'mark']);
    expect(replicas.waits).toBe(1);
    expect(published.filter((o) => o.kind === 'error')).toEqual([]);
  });

  it('the connection changed during the chunk: processed again, then WAITed again', async () => {
    // epoch read before the first pass (1), after its WAIT (2: changed), before the second (2), after (2)
    const replicas = fakeReplicas([1, 1], [1, 2, 2, 2]);
    const { processor, steps, published } = await setup(replicas);
    await processor.process('t', 2, [signupMessage(7), signupMessage(8)]);
    expect(steps).toEqual(['lookup', 'send', 'mark', 'lookup', 'send', 'mark']);
    expect(replicas.waits).toBe(2);
    const errors = published.filter((o) => o.kind === 'error').map((o) => (o as { message: string }).message);
    expect(errors).toEqual([
      'the Redis connection changed during the chunk (partition 2, offsets 7..8): processing it again before its commit',
    ]);
  });

  it('fewer replicas than wanted: reported (warning and error outcome), and the chunk is done', async () => {
    const replicas = fakeReplicas([0], [3, 3]);
    const { processor, published, warnings } = await setup(replicas);
    await processor.process('t', 1, [signupMessage(0)]);
    const message0 =
      "WAIT: 0 of 1 Redis replica(s) acknowledged the chunk's writes within 300 ms (partition 1); committed anyway";
    expect(warnings).toEqual([message0]);
    expect(published.filter((o) => o.kind === 'error').map((o) => (o as { message: string }).message)).toEqual([
      message0,
    ]);
  });

  it('a WAIT that fails (the connection lost) is retried like any Redis step', async () => {
    let calls = 0;
    const replicas: ReplicaWait = {
      replicas: 1,
      timeoutMs: 300,
      epoch: () => 0,
      wait: async () => {
        if (calls++ === 0) throw new Error('Connection is closed.');
        return 1;
      },
    };
    const { processor, published } = await setup(replicas);
    await processor.process('t', 0, [signupMessage(0)]);
    expect(calls).toBe(2);
    expect(published.some((o) => o.kind === 'error' && /waiting for the Redis replicas/.test(o.message))).toBe(true);
  });
});
