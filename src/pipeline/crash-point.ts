/**
 * Fault injection for the crash tests: EVENTSTREAM_CRASH_AT=<point> kills the
 * process with SIGKILL at that point, as a power cut would. Unset in normal use;
 * the CLI arms it from the environment (src/config/environment.ts) at start.
 */
/**
 * `due-before-done`: a deferred send at its due time, sent and recorded, not yet removed from the
 * schedule (its claim runs out and another consumer takes it). `transport-before-record`: a real
 * transport's server accepted a batch's sends, their idempotency records not yet written (the resend
 * carries the same idempotency key).
 */
export type CrashPointName = 'before-commit' | 'before-mark' | 'due-before-done' | 'transport-before-record';

let armed: CrashPointName | undefined;
const beforeCrash = new Set<() => void>();

/**
 * Output that is already decided but gathered for one write per event-loop turn (headless lines) is
 * written before the kill, as it would have been had it been written line by line.
 */
export function onCrash(flush: () => void): () => void {
  beforeCrash.add(flush);
  return () => beforeCrash.delete(flush);
}

/** The point at which {@link crashPoint} kills the process; undefined: never. */
export function armCrashPoint(point: CrashPointName | undefined): void {
  armed = point;
}

export function crashPoint(point: CrashPointName): void {
  if (armed !== point) return;
  for (const flush of beforeCrash) flush();
  process.kill(process.pid, 'SIGKILL');
}
