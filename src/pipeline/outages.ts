/**
 * Transports that do not answer, as this consumer sees them (each consumer has its own view), and the
 * decisions of the hold: a send whose transport is down is parked in the schedule (reason
 * `transport-down`) until the transport answers again, or until `--outage-hold` after it was first
 * parked, when it goes to the dead-letter topic with reason `transport-down` (docs/guarantees.md).
 */
import { durationText } from '../domain/duration.js';

export { localClock } from '../domain/duration.js';

/** How long a parked send is held before it is dead-lettered, by default (`--outage-hold`): 10 minutes. */
export const DEFAULT_OUTAGE_HOLD_MS = 10 * 60_000;

/** The probe of a transport that is down: 250 ms, doubling, at most 5 s. */
export const PROBE_BACKOFF = { firstMs: 250, maxMs: 5_000 } as const;

/** The wait before the `n`th probe (from 0) of a transport that is down. */
export function probeDelay(n: number): number {
  return Math.min(PROBE_BACKOFF.maxMs, PROBE_BACKOFF.firstMs * 2 ** Math.min(n, 16));
}

export type ParkDecision =
  { action: 'park'; parkedAt: number; dueAt: number } | { action: 'dead-letter'; parkedAt: number; detail: string };

/**
 * What becomes of a send whose transport is down, at `now`: parked until the end of its hold (counted
 * from when it was first parked, `parkedAt`, or now), or dead-lettered once the hold is over.
 */
export function parkDecision(now: number, holdMs: number, parkedAt?: number): ParkDecision {
  const first = parkedAt ?? now;
  const deadline = first + holdMs;
  if (now >= deadline)
    return {
      action: 'dead-letter',
      parkedAt: first,
      detail: `the transport did not answer for the whole outage hold (${durationText(holdMs)})`,
    };
  return { action: 'park', parkedAt: first, dueAt: deadline };
}

export interface Outage {
  /** When this consumer first saw it down, ms. */
  since: number;
  detail: string;
}

/** The channels whose transport is down, as this consumer saw it last (by its sends or its probe). */
export class Outages {
  private readonly down = new Map<string, Outage>();
  private readonly downListeners: ((channel: string) => void)[] = [];

  constructor(private readonly now: () => number = Date.now) {}

  get(channel: string): Outage | undefined {
    return this.down.get(channel);
  }

  /** Down from now (or since it was first seen down); listeners hear of a new outage. */
  markDown(channel: string, detail: string): Outage {
    const known = this.down.get(channel);
    if (known) {
      known.detail = detail;
      return known;
    }
    const outage = { since: this.now(), detail };
    this.down.set(channel, outage);
    for (const listen of this.downListeners) listen(channel);
    return outage;
  }

  /** It answers again: true when it was down. */
  markUp(channel: string): boolean {
    return this.down.delete(channel);
  }

  anyDown(): boolean {
    return this.down.size > 0;
  }

  onDown(listen: (channel: string) => void): void {
    this.downListeners.push(listen);
  }
}
