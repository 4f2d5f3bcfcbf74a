/** Durations in preferences: `<n><unit>` with `s`, `m`, `h` or `d` (`30s`, `10m`, `1h`, `1d`). */

export const DURATION_FORM = '`<n><unit>` with s, m, h or d (30s, 10m, 1h, 1d)';

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** The longest window a cap or a digest may take: 30 days. */
export const MAX_DURATION_MS = 30 * 86_400_000;

/** Milliseconds, or undefined when `text` is not a duration from 1 s to 30 days. */
export function parseDuration(text: string): number | undefined {
  const m = /^(\d{1,7})([smhd])$/.exec(text.trim().toLowerCase());
  if (!m) return undefined;
  const ms = Number(m[1]) * UNIT_MS[m[2]!]!;
  return ms >= 1000 && ms <= MAX_DURATION_MS ? ms : undefined;
}

/** `1h`, `10m`, `90s`: the largest unit that divides it. */
export function durationText(ms: number): string {
  for (const unit of ['d', 'h', 'm', 's']) if (ms % UNIT_MS[unit]! === 0) return `${ms / UNIT_MS[unit]!}${unit}`;
  return `${Math.round(ms / 1000)}s`;
}

/** `the last hour`, `the last 10 minutes`: for the trace of a throttled send. */
export function durationWords(ms: number): string {
  const words: [number, string][] = [
    [86_400_000, 'day'],
    [3_600_000, 'hour'],
    [60_000, 'minute'],
    [1000, 'second'],
  ];
  for (const [size, word] of words)
    if (ms % size === 0) {
      const n = ms / size;
      return n === 1 ? `the last ${word}` : `the last ${n} ${word}s`;
    }
  return `the last ${Math.round(ms / 1000)} seconds`;
}

/** A cap: `n/duration` (`3/1h`). */
export interface Cap {
  limit: number;
  windowMs: number;
}

export const CAP_FORM = '`<n>/<duration>` (3/1h, 10/1d), n from 1 to 100000, or none';

export function parseCap(text: string): Cap | undefined {
  const m = /^\s*(\d{1,6})\s*\/\s*(\S+)\s*$/.exec(text);
  if (!m) return undefined;
  const limit = Number(m[1]);
  const windowMs = parseDuration(m[2]!);
  if (limit < 1 || limit > 100_000 || windowMs === undefined) return undefined;
  return { limit, windowMs };
}

export const capText = (cap: Cap): string => `${cap.limit}/${durationText(cap.windowMs)}`;

/** A time as the status bar shows when an outage began: `12:01`, local time. */
export function localClock(ms: number): string {
  const d = new Date(ms);
  return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
}
