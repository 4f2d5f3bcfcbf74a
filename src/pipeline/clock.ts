/**
 * The pipeline's clock: the wall clock, shifted by EVENTSTREAM_CLOCK_OFFSET_MS (a test hook, like the
 * crash point: the rules tests move "now" to a few seconds before a quiet window ends instead of
 * waiting for real minutes). Quiet hours, deferrals and the schedule's due times all read it.
 */
let offsetMs = 0;

export function setClockOffset(ms: number): void {
  offsetMs = ms;
}

export function clockNow(): number {
  return Date.now() + offsetMs;
}
