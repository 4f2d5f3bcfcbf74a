/** The one in-process telemetry interface: the pipeline publishes, printers and the dashboard subscribe. */
import type { Outcome } from './outcomes.js';

export type Listener = (outcome: Outcome) => void;

export class Telemetry {
  private readonly listeners = new Set<Listener>();

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  publish(outcome: Outcome): void {
    for (const listener of this.listeners) {
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
  deadletter: number;
  errors: number;
}

export function emptyTotals(): Totals {
  return { produced: 0, consumed: 0, sent: 0, skipped: 0, duplicate: 0, failed: 0, deadletter: 0, errors: 0 };
}

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
