/**
 * Fault injection for the crash tests: EVENTSTREAM_CRASH_AT=<point> kills the
 * process with SIGKILL at that point, as a power cut would. Unset in normal use.
 */
export type CrashPointName = 'before-commit' | 'before-mark';

const armed = process.env.EVENTSTREAM_CRASH_AT;

export function crashPoint(point: CrashPointName): void {
  if (armed === point) process.kill(process.pid, 'SIGKILL');
}
