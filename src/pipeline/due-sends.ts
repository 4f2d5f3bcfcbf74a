/**
 * The due-sends loop: every consumer runs one. About once a second (at once again while whole chunks
 * are due) it claims the schedule's due entries, a chunk at a time, and hands them to the processor;
 * it publishes how many wait. Several consumers share the schedule: a claim is atomic and leased.
 */
import type { Telemetry } from '../telemetry/telemetry.js';
import { clockNow } from './clock.js';
import { errorText, StoppedError } from './errors.js';
import type { Schedule } from './ports.js';
import type { BatchProcessor, ClaimedSend } from './processor.js';

export interface DueSendsOptions {
  processor: BatchProcessor;
  schedule: Schedule;
  telemetry: Telemetry;
  now?: () => number;
  /** How often the schedule is read when nothing is due, ms. */
  intervalMs?: number;
  /** Entries claimed at once (one look-up and one provider call per source partition among them). */
  chunkSize?: number;
  /** How long a claim holds before another consumer may take the entry, ms. */
  leaseMs?: number;
}

export const DUE_SENDS_INTERVAL_MS = 1000;
export const DUE_SENDS_CHUNK = 1000;
export const DUE_SENDS_LEASE_MS = 30_000;

export class DueSends {
  private running = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private lastError = '';

  constructor(private readonly options: DueSendsOptions) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** Lets the chunk in hand finish (a stop abandons waits on an outage: its claims run out), then ends. */
  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
  }

  private async pause(ms: number): Promise<void> {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    this.wake = undefined;
  }

  private async run(): Promise<void> {
    const interval = this.options.intervalMs ?? DUE_SENDS_INTERVAL_MS;
    let lastPending = 0;
    while (this.running) {
      let claimed = 0;
      try {
        claimed = await this.tick();
        const now = Date.now();
        if (now - lastPending >= interval) {
          lastPending = now;
          const pending = await this.options.schedule.pending();
          this.options.telemetry.publish({ kind: 'schedule', pending, at: now });
        }
        this.lastError = '';
      } catch (error) {
        if (error instanceof StoppedError) break;
        const message = `sending due deferred sends failed: ${errorText(error)}`;
        // Said once per kind of failure, not every second of an outage.
        if (message !== this.lastError)
          this.options.telemetry.publish({ kind: 'error', source: 'redis', message, at: Date.now() });
        this.lastError = message;
      }
      if (this.running && claimed < (this.options.chunkSize ?? DUE_SENDS_CHUNK)) await this.pause(interval);
    }
  }

  /** One claim of due entries, sent: how many were claimed. */
  async tick(): Promise<number> {
    const { schedule, processor } = this.options;
    const now = (this.options.now ?? clockNow)();
    const claimed = (await schedule.claimDue(
      now,
      this.options.chunkSize ?? DUE_SENDS_CHUNK,
      this.options.leaseMs ?? DUE_SENDS_LEASE_MS,
    )) as ClaimedSend[];
    // One chunk per source partition: a dead letter names where its event was read.
    const bySource = new Map<string, ClaimedSend[]>();
    for (const c of claimed) {
      const key = `${c.topic}\u0000${c.partition}`;
      let group = bySource.get(key);
      if (!group) bySource.set(key, (group = []));
      group.push(c);
    }
    for (const group of bySource.values()) await processor.processDue(group, () => this.running);
    return claimed.length;
  }
}
