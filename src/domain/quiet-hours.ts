/**
 * Quiet hours: windows of local time in a user's IANA zone, e.g. `22:00-07:00` every day or
 * `mon-fri 22:00-07:00; sat,sun 23:00-09:00`. A window whose end is not after its start runs over
 * midnight into the next day; its days are the days it starts on. Time-zone arithmetic is luxon's
 * (IANA rules through Node's ICU): a start or end that does not exist on a spring-forward day moves
 * forward with the clock (02:30 → 03:30), one that happens twice on a fall-back day means its later
 * occurrence.
 *
 * The state at an instant is cached per (zone, windows) until the next instant it changes, so the
 * consumer pays a map look-up per event, not a time-zone computation.
 */
import { DateTime, IANAZone } from 'luxon';

/** Weekdays as luxon numbers them: 1 = Monday … 7 = Sunday. */
export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;

export interface QuietWindow {
  /** The weekdays (1 = Monday … 7 = Sunday) the window starts on. */
  days: ReadonlySet<number>;
  /** Minutes after local midnight. */
  start: number;
  end: number;
  /** As written back: `mon-fri 22:00-07:00` (days left out when every day). */
  text: string;
}

export const QUIET_FORM =
  '`HH:MM-HH:MM`, optionally after days (`mon-fri`, `sat,sun`), several joined by `; `, or `none`';

export class QuietHoursError extends Error {
  override name = 'QuietHoursError';
}

const hhmm = (minutes: number): string =>
  `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;

function parseTime(text: string, windowText: string): number {
  const m = /^(\d{1,2}):(\d{2})$/.exec(text);
  const hours = m ? Number(m[1]) : NaN;
  const minutes = m ? Number(m[2]) : NaN;
  if (!m || hours > 23 || minutes > 59)
    throw new QuietHoursError(`"${windowText}": "${text}" is not a time of day (HH:MM, 00:00 to 23:59)`);
  return hours * 60 + minutes;
}

function parseDays(text: string, windowText: string): Set<number> {
  const days = new Set<number>();
  const day = (name: string): number => {
    const i = WEEKDAYS.indexOf(name.toLowerCase() as (typeof WEEKDAYS)[number]);
    if (i < 0) throw new QuietHoursError(`"${windowText}": "${name}" is not a day (one of ${WEEKDAYS.join(', ')})`);
    return i + 1;
  };
  for (const part of text.split(',')) {
    const range = part.trim().split('-');
    if (range.length === 1) days.add(day(range[0]!));
    else if (range.length === 2) {
      // A range may wrap over the week's end: fri-mon.
      const from = day(range[0]!);
      const to = day(range[1]!);
      for (let d = from; ; d = (d % 7) + 1) {
        days.add(d);
        if (d === to) break;
      }
    } else throw new QuietHoursError(`"${windowText}": "${part}" is not a day or a range of days (mon-fri)`);
  }
  return days;
}

const EVERY_DAY: ReadonlySet<number> = new Set([1, 2, 3, 4, 5, 6, 7]);

function daysText(days: ReadonlySet<number>): string {
  if (days.size === 7) return '';
  const sorted = [...days].sort((a, b) => a - b);
  // Runs of consecutive days as ranges: mon-fri, sat,sun.
  const parts: string[] = [];
  for (let i = 0; i < sorted.length;) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    const from = WEEKDAYS[sorted[i]! - 1]!;
    const to = WEEKDAYS[sorted[j]! - 1]!;
    if (j - i >= 2) parts.push(`${from}-${to}`);
    else for (let k = i; k <= j; k++) parts.push(WEEKDAYS[sorted[k]! - 1]!);
    i = j + 1;
  }
  return `${parts.join(',')} `;
}

/** Parses the `quiet` field; `none` or blank is no windows. Throws a {@link QuietHoursError} naming the bad part. */
export function parseQuietHours(text: string): QuietWindow[] {
  const trimmed = text.trim();
  if (trimmed === '' || trimmed.toLowerCase() === 'none') return [];
  return trimmed.split(';').map((raw): QuietWindow => {
    const windowText = raw.trim();
    if (windowText === '') throw new QuietHoursError(`an empty window between two ";"`);
    const parts = windowText.split(/\s+/);
    if (parts.length > 2) throw new QuietHoursError(`"${windowText}" is not [days] HH:MM-HH:MM`);
    const span = parts[parts.length - 1]!;
    const days = parts.length === 2 ? parseDays(parts[0]!, windowText) : EVERY_DAY;
    const times = span.split('-');
    if (times.length !== 2) throw new QuietHoursError(`"${windowText}": "${span}" is not HH:MM-HH:MM`);
    const start = parseTime(times[0]!, windowText);
    const end = parseTime(times[1]!, windowText);
    if (start === end) throw new QuietHoursError(`"${windowText}": the window starts and ends at the same time`);
    return { days, start, end, text: `${daysText(days)}${hhmm(start)}-${hhmm(end)}` };
  });
}

/** The windows as the `quiet` field writes them (normalised), or `none`. */
export function quietHoursText(windows: readonly QuietWindow[]): string {
  return windows.length === 0 ? 'none' : windows.map((w) => w.text).join('; ');
}

/** Zones asked about, and the answer: luxon builds an Intl.DateTimeFormat each time (~250 µs). */
const zoneValidity = new Map<string, boolean>();

/** Whether `zone` is an IANA time zone this Node knows (cached: a million users share a few hundred zones). */
export function isValidZone(zone: string): boolean {
  let valid = zoneValidity.get(zone);
  if (valid === undefined) {
    valid = zone.length > 0 && zone.length < 64 && IANAZone.isValidZone(zone);
    if (zoneValidity.size >= 10_000) zoneValidity.clear();
    zoneValidity.set(zone, valid);
  }
  return valid;
}

/**
 * The zone's canonical spelling (`europe/paris` → `Europe/Paris`), or undefined when unknown. A name
 * spelled right is kept as it is: Node's ICU resolves some current names to their old aliases
 * (`Asia/Kolkata` → `Asia/Calcutta`, `Europe/Kyiv` → `Europe/Kiev`), which would surprise the user.
 */
export function canonicalZone(zone: string): string | undefined {
  const given = zone.trim();
  if (!isValidZone(given)) return undefined;
  let resolved: string;
  try {
    resolved = new Intl.DateTimeFormat('en-US', { timeZone: given }).resolvedOptions().timeZone;
  } catch {
    return undefined;
  }
  if (resolved === given || resolved.toLowerCase() === given.toLowerCase()) return resolved;
  // Another spelling of an alias: its words capitalised (`asia/kolkata` → `Asia/Kolkata`), when valid.
  const capitalised = given.replace(/[A-Za-z]+/g, (w) => w[0]!.toUpperCase() + w.slice(1).toLowerCase());
  if (capitalised === given || isValidZone(capitalised)) return capitalised;
  return given;
}

export type QuietState =
  | {
      quiet: true;
      /** When the quiet time ends (the end of the window, or of windows that follow on without a gap), ms. */
      until: number;
      /** `07:00 Europe/Paris`, or `Sat 07:00 Europe/Paris` when not within the next day. */
      untilLabel: string;
      /** The window the instant falls in, as written. */
      window: string;
    }
  | {
      quiet: false;
      /** When the next window starts (ms), or undefined when there is none. */
      next: number | undefined;
    };

interface Interval {
  from: number;
  to: number;
  window: QuietWindow;
}

/**
 * `minutes` after midnight on `day`, in its zone: a time that does not exist (spring forward) moves
 * forward with the clock (luxon's `set` does that); one that happens twice (fall back) is its later
 * occurrence (luxon's `set` picks the earlier: the last of the possible offsets is the later instant).
 */
function localTime(day: DateTime, minutes: number): number {
  const local = day.set({ hour: Math.floor(minutes / 60), minute: minutes % 60 });
  const possible = local.getPossibleOffsets();
  return possible.length > 1 ? Math.max(...possible.map((p) => p.toMillis())) : local.toMillis();
}

/** The occurrences of the windows that can hold `at`, or start after it within a week. */
function intervals(at: number, zone: string, windows: readonly QuietWindow[]): Interval[] {
  const today = DateTime.fromMillis(at, { zone }).startOf('day');
  const found: Interval[] = [];
  for (let d = -1; d <= 7; d++) {
    const day = today.plus({ days: d });
    for (const window of windows) {
      if (!window.days.has(day.weekday)) continue;
      const from = localTime(day, window.start);
      const to = localTime(window.end > window.start ? day : day.plus({ days: 1 }), window.end);
      if (to > from) found.push({ from, to, window });
    }
  }
  return found.sort((a, b) => a.from - b.from);
}

/** The local time of `ms` in `zone` as the plan writes it: `07:00 Europe/Paris` (with the weekday when not within a day of `at`). */
export function localLabel(ms: number, zone: string, at: number): string {
  const local = DateTime.fromMillis(ms, { zone });
  const time = local.toFormat(ms - at < 20 * 3600_000 ? 'HH:mm' : 'ccc HH:mm', { locale: 'en-US' });
  return `${time} ${zone}`;
}

/** Whether `at` falls in a window, computed (use {@link QuietHoursCache} on a hot path). */
export function quietState(at: number, zone: string, windows: readonly QuietWindow[]): QuietState {
  if (windows.length === 0) return { quiet: false, next: undefined };
  const all = intervals(at, zone, windows);
  const inside = all.find((i) => i.from <= at && at < i.to);
  if (!inside) return { quiet: false, next: all.find((i) => i.from > at)?.from };
  // Windows that follow on (or overlap) keep it quiet: the send waits for the end of them all.
  let until = inside.to;
  for (let changed = true; changed;) {
    changed = false;
    for (const i of all)
      if (i.from <= until && i.to > until) {
        until = i.to;
        changed = true;
      }
  }
  return { quiet: true, until, untilLabel: localLabel(until, zone, at), window: inside.window.text };
}

/** Entries kept per cache before it starts over: each is one (zone, windows) pair, shared by its users. */
const CACHE_ENTRIES = 10_000;

/**
 * {@link quietState} cached per (zone, windows) until the next instant the state changes: a send
 * costs a map look-up and a comparison. `now` must not go backwards by much (a fake clock may).
 */
export class QuietHoursCache {
  private readonly states = new Map<string, { state: QuietState; from: number; validUntil: number }>();

  /** `key`: the zone and the windows' text in one string, made once per user read (see UserRules.quietKey). */
  state(at: number, zone: string, windows: readonly QuietWindow[], key: string): QuietState {
    const cached = this.states.get(key);
    if (cached && at >= cached.from && at < cached.validUntil) return cached.state;
    const state = quietState(at, zone, windows);
    // Not quiet: valid until the next window starts (a day at most, then computed again).
    const validUntil = state.quiet ? state.until : Math.min(state.next ?? Infinity, at + 24 * 3600_000);
    if (this.states.size >= CACHE_ENTRIES) this.states.clear();
    this.states.set(key, { state, from: at, validUntil });
    return state;
  }
}
