import { describe, expect, it } from 'vitest';
import { Telemetry } from '../../src/telemetry/telemetry.js';
import type { Outcome } from '../../src/telemetry/outcomes.js';

const error: Outcome = { kind: 'error', source: 'redis', message: 'down', at: 1 };
const lookup: Outcome = {
  kind: 'lookup',
  eventId: 'e1',
  userId: 'u1',
  found: true,
  channelsOn: [],
  latencyMs: 1,
  at: 1,
};

describe('telemetry subscriptions by kind', () => {
  it('gives a subscriber only the kinds it asked for, and every kind to one that named none', () => {
    const telemetry = new Telemetry();
    const errorsOnly: Outcome[] = [];
    const all: Outcome[] = [];
    telemetry.subscribe((o) => errorsOnly.push(o), ['error']);
    telemetry.subscribe((o) => all.push(o));
    telemetry.publish(error);
    telemetry.publish(lookup);
    expect(errorsOnly).toEqual([error]);
    expect(all).toEqual([error, lookup]);
  });

  it('says whether anyone reads a kind, so a publisher can skip building what nobody reads', () => {
    const telemetry = new Telemetry();
    expect(telemetry.wants('lookup')).toBe(false);
    const stop = telemetry.subscribe(() => undefined, ['error']);
    expect(telemetry.wants('error')).toBe(true);
    expect(telemetry.wants('lookup')).toBe(false);
    const stopAll = telemetry.subscribe(() => undefined);
    expect(telemetry.wants('lookup')).toBe(true);
    stopAll();
    expect(telemetry.wants('lookup')).toBe(false);
    stop();
    expect(telemetry.wants('error')).toBe(false);
  });

  it('keeps delivering to the others when one subscriber throws', () => {
    const telemetry = new Telemetry();
    const seen: Outcome[] = [];
    telemetry.subscribe(() => {
      throw new Error('broken subscriber');
    });
    telemetry.subscribe((o) => seen.push(o), ['error']);
    telemetry.publish(error);
    expect(seen).toEqual([error]);
  });
});
