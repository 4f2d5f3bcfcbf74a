/** The one in-process telemetry interface: the pipeline publishes, printers and the dashboard subscribe. */
import type { Outcome } from './outcomes.js';

export type Listener = (outcome: Outcome) => void;
export type OutcomeKind = Outcome['kind'];

/**
 * Subscribers say which kinds of outcome they read (all, by default), and a publisher asks
 * {@link Telemetry.wants} before building an outcome nobody reads: headless `--output stats` never
 * reads a look-up, so none is made for each of tens of thousands of events a second.
 */
export class Telemetry {
  private readonly listeners = new Map<Listener, ReadonlySet<OutcomeKind> | undefined>();
  private readonly byKind = new Map<OutcomeKind, Listener[]>();

  subscribe(listener: Listener, kinds?: readonly OutcomeKind[]): () => void {
    this.listeners.set(listener, kinds ? new Set(kinds) : undefined);
    this.byKind.clear();
    return () => {
      this.listeners.delete(listener);
      this.byKind.clear();
    };
  }

  /** Whether any subscriber reads outcomes of this kind. */
  wants(kind: OutcomeKind): boolean {
    return this.listenersOf(kind).length > 0;
  }

  private listenersOf(kind: OutcomeKind): Listener[] {
    let listeners = this.byKind.get(kind);
    if (!listeners) {
      listeners = [];
      for (const [listener, kinds] of this.listeners) if (!kinds || kinds.has(kind)) listeners.push(listener);
      this.byKind.set(kind, listeners);
    }
    return listeners;
  }

  publish(outcome: Outcome): void {
    for (const listener of this.listenersOf(outcome.kind)) {
      try {
        listener(outcome);
      } catch {
        // a failing subscriber must never break the pipeline
      }
    }
  }
}

export interface Totals {
  produced: number;
  consumed: number;
  sent: number;
  skipped: number;
  duplicate: number;
  failed: number;
  deferred: number;
  /** Skipped by a cap (counted in `skipped` too). */
  throttled: number;
  /** Of `deferred`: parked while their transport was down (reason `transport-down`). */
  parked: number;
  digested: number;
  deadletter: number;
  errors: number;
}

export function emptyTotals(): Totals {
  return {
    produced: 0,
    consumed: 0,
    sent: 0,
    skipped: 0,
    duplicate: 0,
    failed: 0,
    deferred: 0,
    throttled: 0,
    parked: 0,
    digested: 0,
    deadletter: 0,
    errors: 0,
  };
}

/** The kinds {@link countInto} counts. */
export const COUNTED_KINDS: readonly OutcomeKind[] = ['produced', 'consumed', 'delivery', 'deadletter', 'error'];

/** Running totals, as plain counters. */
export function countInto(totals: Totals): Listener {
  return (o) => {
    switch (o.kind) {
      case 'produced':
        totals.produced++;
        break;
      case 'consumed':
        totals.consumed++;
        break;
      case 'delivery':
        totals[o.status]++;
        if (o.reason === 'throttled') totals.throttled++;
        else if (o.reason === 'transport-down' && o.status === 'deferred') totals.parked++;
        break;
      case 'deadletter':
        totals.deadletter++;
        break;
      case 'error':
        totals.errors++;
        break;
      default:
        break;
    }
  };
}
