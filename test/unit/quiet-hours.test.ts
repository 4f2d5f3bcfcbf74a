/**
 * Quiet hours, pure, on a fake clock: each case names an instant in UTC and checks whether the user is
 * in quiet hours then, and until which UTC instant (the send's due time).
 */
import { describe, expect, it } from 'vitest';
import {
  canonicalZone,
  localLabel,
  parseQuietHours,
  QuietHoursCache,
  QuietHoursError,
  quietHoursText,
  quietState,
  type QuietState,
} from '../../src/domain/quiet-hours.js';

const at = (iso: string): number => Date.parse(iso);
const iso = (ms: number | undefined): string | undefined => (ms === undefined ? undefined : new Date(ms).toISOString());

/** The state as one readable line: `quiet until <ISO> (<label>)` or `open, next <ISO>`. */
function state(instant: string, zone: string, quiet: string): string {
  return describeState(quietState(at(instant), zone, parseQuietHours(quiet)));
}

function describeState(s: QuietState): string {
  return s.quiet ? `quiet until ${iso(s.until)} (${s.untilLabel})` : `open, next ${iso(s.next)}`;
}

const WEEK = 'mon-fri 22:00-07:00; sat,sun 23:00-09:00';

describe('parseQuietHours', () => {
  it('reads every-day windows, day ranges, day lists and several windows, and writes them back normalised', () => {
    expect(quietHoursText(parseQuietHours('22:00-07:00'))).toBe('22:00-07:00');
    expect(quietHoursText(parseQuietHours(' mon-fri 22:00-07:00;sat,sun  23:00-9:00 '))).toBe(WEEK);
    expect(quietHoursText(parseQuietHours('MON-WED 1:05-02:00'))).toBe('mon-wed 01:05-02:00');
    expect(quietHoursText(parseQuietHours('none'))).toBe('none');
    expect(parseQuietHours('')).toEqual([]);
  });

  it('a range of days may wrap over the end of the week (fri-mon)', () => {
    const [w] = parseQuietHours('fri-mon 22:00-07:00');
    expect([...w!.days].sort()).toEqual([1, 5, 6, 7]);
    // the normalised text reads back as the same days
    const again = parseQuietHours(w!.text)[0]!;
    expect([...again.days].sort()).toEqual([1, 5, 6, 7]);
  });

  it.each([
    ['25:99-x', /"25:99-x": "x" is not a time of day|"25:99" is not a time of day/],
    ['25:00-07:00', /"25:00" is not a time of day/],
    ['22:00-07:60', /"07:60" is not a time of day/],
    ['22:00', /"22:00" is not HH:MM-HH:MM/],
    ['funday 22:00-07:00', /"funday" is not a day/],
    ['mon-fri-sat 22:00-07:00', /"mon-fri-sat" is not a day or a range of days/],
    ['mon fri 22:00-07:00', /"mon fri 22:00-07:00" is not \[days\] HH:MM-HH:MM/],
    ['22:00-07:00;', /an empty window/],
    ['08:00-08:00', /starts and ends at the same time/],
  ])('refuses %j, naming the bad part', (text, message) => {
    expect(() => parseQuietHours(text)).toThrow(QuietHoursError);
    expect(() => parseQuietHours(text)).toThrow(message);
  });

  it('knows IANA zones and their spelling, and not Mars/Base', () => {
    expect(canonicalZone('europe/paris')).toBe('Europe/Paris');
    expect(canonicalZone('Mars/Base')).toBeUndefined();
    expect(canonicalZone('')).toBeUndefined();
  });
});

describe('quietState: overnight windows', () => {
  it('22:00-07:00 holds from 22:00 to 07:00 the next morning, and is open between', () => {
    expect(state('2026-06-10T21:59:59Z', 'UTC', '22:00-07:00')).toBe('open, next 2026-06-10T22:00:00.000Z');
    expect(state('2026-06-10T22:00:00Z', 'UTC', '22:00-07:00')).toBe(
      'quiet until 2026-06-11T07:00:00.000Z (07:00 UTC)',
    );
    expect(state('2026-06-11T03:00:00Z', 'UTC', '22:00-07:00')).toBe(
      'quiet until 2026-06-11T07:00:00.000Z (07:00 UTC)',
    );
    // the end is not in the window
    expect(state('2026-06-11T07:00:00Z', 'UTC', '22:00-07:00')).toBe('open, next 2026-06-11T22:00:00.000Z');
  });

  it('in the user zone: 22:00-07:00 in Asia/Tokyo (UTC+9) ends at 22:00 UTC', () => {
    expect(state('2026-06-10T14:00:00Z', 'Asia/Tokyo', '22:00-07:00')).toBe(
      'quiet until 2026-06-10T22:00:00.000Z (07:00 Asia/Tokyo)',
    );
  });

  it('a window of the same day (13:00-14:00) holds only then', () => {
    expect(state('2026-06-10T13:30:00Z', 'UTC', '13:00-14:00')).toBe(
      'quiet until 2026-06-10T14:00:00.000Z (14:00 UTC)',
    );
    expect(state('2026-06-10T14:30:00Z', 'UTC', '13:00-14:00')).toBe('open, next 2026-06-11T13:00:00.000Z');
  });
});

describe('quietState: weekday sets', () => {
  // 2026-03-06 is a Friday.
  it('Friday night falls in the mon-fri window, which ends Saturday 07:00 (not the weekend 09:00)', () => {
    expect(state('2026-03-06T23:30:00Z', 'UTC', WEEK)).toBe('quiet until 2026-03-07T07:00:00.000Z (07:00 UTC)');
    expect(state('2026-03-07T06:59:00Z', 'UTC', WEEK)).toBe('quiet until 2026-03-07T07:00:00.000Z (07:00 UTC)');
  });

  it('Saturday morning after 07:00 is open until the Saturday window at 23:00', () => {
    expect(state('2026-03-07T08:00:00Z', 'UTC', WEEK)).toBe('open, next 2026-03-07T23:00:00.000Z');
    // Friday 22:30 is in the weekday window, not the weekend's 23:00
    expect(state('2026-03-06T22:30:00Z', 'UTC', WEEK)).toBe('quiet until 2026-03-07T07:00:00.000Z (07:00 UTC)');
  });

  it('Sunday night starts at 23:00 and ends Monday 09:00 (the window belongs to the day it starts on)', () => {
    expect(state('2026-03-08T22:30:00Z', 'UTC', WEEK)).toBe('open, next 2026-03-08T23:00:00.000Z');
    expect(state('2026-03-09T08:00:00Z', 'UTC', WEEK)).toBe('quiet until 2026-03-09T09:00:00.000Z (09:00 UTC)');
    // Monday night is a weekday night again
    expect(state('2026-03-09T22:00:00Z', 'UTC', WEEK)).toBe('quiet until 2026-03-10T07:00:00.000Z (07:00 UTC)');
  });

  it('fri-mon 22:00-07:00: Monday night is quiet, Tuesday night is not (next: Friday)', () => {
    expect(state('2026-03-09T23:00:00Z', 'UTC', 'fri-mon 22:00-07:00')).toBe(
      'quiet until 2026-03-10T07:00:00.000Z (07:00 UTC)',
    );
    expect(state('2026-03-10T23:00:00Z', 'UTC', 'fri-mon 22:00-07:00')).toBe('open, next 2026-03-13T22:00:00.000Z');
  });

  it('a due time more than a day away carries its weekday', () => {
    // Friday 10:00, quiet all weekend long: sat,sun windows chained with Friday's
    const s = quietState(
      at('2026-03-06T23:00:00Z'),
      'UTC',
      parseQuietHours('fri 22:00-00:00; sat,sun 00:00-23:59; mon 00:00-06:00'),
    );
    expect(describeState(s)).toBe('quiet until 2026-03-07T23:59:00.000Z (Sat 23:59 UTC)');
    expect(localLabel(at('2026-03-07T07:00:00Z'), 'Europe/Paris', at('2026-03-06T23:00:00Z'))).toBe(
      '08:00 Europe/Paris',
    );
  });
});

describe('quietState: windows that follow on', () => {
  it('07:00 end and a 07:00-08:00 window: quiet until 08:00', () => {
    expect(state('2026-06-10T06:30:00Z', 'UTC', '22:00-07:00; 07:00-08:00')).toBe(
      'quiet until 2026-06-10T08:00:00.000Z (08:00 UTC)',
    );
    // written the other way round, the same
    expect(state('2026-06-10T06:30:00Z', 'UTC', '07:00-08:00; 22:00-07:00')).toBe(
      'quiet until 2026-06-10T08:00:00.000Z (08:00 UTC)',
    );
  });

  it('overlapping windows: until the later end', () => {
    expect(state('2026-06-10T23:30:00Z', 'UTC', '22:00-06:00; 23:00-07:30')).toBe(
      'quiet until 2026-06-11T07:30:00.000Z (07:30 UTC)',
    );
  });

  it('a gap of a minute is a gap', () => {
    expect(state('2026-06-10T06:30:00Z', 'UTC', '22:00-07:00; 07:01-08:00')).toBe(
      'quiet until 2026-06-10T07:00:00.000Z (07:00 UTC)',
    );
  });
});

describe('quietState over DST changes (2026)', () => {
  const NY = 'America/New_York';
  const PARIS = 'Europe/Paris';

  it('New York, spring forward (Sun Mar 8, 02:00 EST → 03:00 EDT): 22:00-07:00 ends at 07:00 EDT = 11:00 UTC', () => {
    // 23:00 EST on Mar 7 = 04:00 UTC
    expect(state('2026-03-08T04:00:00Z', NY, '22:00-07:00')).toBe(
      'quiet until 2026-03-08T11:00:00.000Z (07:00 America/New_York)',
    );
    // the window that starts after the change starts at 22:00 EDT = 02:00 UTC
    expect(state('2026-03-08T12:00:00Z', NY, '22:00-07:00')).toBe('open, next 2026-03-09T02:00:00.000Z');
  });

  it('New York, fall back (Sun Nov 1, 02:00 EDT → 01:00 EST): 22:00-07:00 ends at 07:00 EST = 12:00 UTC', () => {
    // 22:00 EDT on Oct 31 = 02:00 UTC
    expect(state('2026-11-01T02:00:00Z', NY, '22:00-07:00')).toBe(
      'quiet until 2026-11-01T12:00:00.000Z (07:00 America/New_York)',
    );
    // nine hours of quiet that night, not eight
    expect(state('2026-11-01T11:30:00Z', NY, '22:00-07:00')).toBe(
      'quiet until 2026-11-01T12:00:00.000Z (07:00 America/New_York)',
    );
  });

  it('Paris, spring forward (Sun Mar 29, 02:00 CET → 03:00 CEST): 22:00-07:00 ends at 07:00 CEST = 05:00 UTC', () => {
    expect(state('2026-03-28T23:00:00Z', PARIS, '22:00-07:00')).toBe(
      'quiet until 2026-03-29T05:00:00.000Z (07:00 Europe/Paris)',
    );
    // 06:30 UTC is 08:30 CEST: open (it would be 07:30 in winter time, quiet, if the offset were not updated)
    expect(state('2026-03-29T05:30:00Z', PARIS, '22:00-07:00')).toBe('open, next 2026-03-29T20:00:00.000Z');
  });

  it('Paris, fall back (Sun Oct 25, 03:00 CEST → 02:00 CET): 22:00-07:00 ends at 07:00 CET = 06:00 UTC', () => {
    expect(state('2026-10-24T21:00:00Z', PARIS, '22:00-07:00')).toBe(
      'quiet until 2026-10-25T06:00:00.000Z (07:00 Europe/Paris)',
    );
    expect(state('2026-10-25T05:30:00Z', PARIS, '22:00-07:00')).toBe(
      'quiet until 2026-10-25T06:00:00.000Z (07:00 Europe/Paris)',
    );
    expect(state('2026-10-25T06:00:00Z', PARIS, '22:00-07:00')).toBe('open, next 2026-10-25T21:00:00.000Z');
  });

  it('an end that does not exist on spring-forward day moves forward with the clock (02:30 → 03:30)', () => {
    // 01:30 EST = 06:30 UTC; 03:30 EDT = 07:30 UTC
    expect(state('2026-03-08T06:30:00Z', NY, '01:00-02:30')).toBe(
      'quiet until 2026-03-08T07:30:00.000Z (03:30 America/New_York)',
    );
    // Paris: a window wholly inside the missing hour runs 03:15-03:45 CEST
    expect(state('2026-03-29T01:10:00Z', PARIS, '02:15-02:45')).toBe('open, next 2026-03-29T01:15:00.000Z');
  });

  it('an end that happens twice on fall-back day means its later occurrence (as documented)', () => {
    // 01:10 EDT = 05:10 UTC; 01:30 happens at 05:30 UTC (EDT) and again at 06:30 UTC (EST)
    expect(state('2026-11-01T05:10:00Z', NY, '00:00-01:30')).toBe(
      'quiet until 2026-11-01T06:30:00.000Z (01:30 America/New_York)',
    );
    // Paris: 02:30 happens at 00:30 UTC (CEST) and 01:30 UTC (CET)
    expect(state('2026-10-25T00:10:00Z', PARIS, '01:00-02:30')).toBe(
      'quiet until 2026-10-25T01:30:00.000Z (02:30 Europe/Paris)',
    );
  });

  it('a start that happens twice on fall-back day means its later occurrence too', () => {
    // 01:30-05:00 on Nov 1 in New York: 01:30 EDT (05:30 UTC) is before the window, 01:30 EST (06:30 UTC) starts it
    expect(state('2026-11-01T05:40:00Z', NY, '01:30-05:00')).toBe('open, next 2026-11-01T06:30:00.000Z');
  });
});

describe('QuietHoursCache', () => {
  it('answers as quietState does over two days with DST changes: every 15 minutes and around every boundary', () => {
    const cases: [string, string][] = [
      [NY_, '22:00-07:00'],
      ['Europe/Paris', WEEK],
      ['UTC', '22:00-07:00; 07:00-08:00'],
      ['Asia/Kolkata', 'fri-mon 13:15-14:45'],
    ];
    const cache = new QuietHoursCache();
    for (const [zone, text] of cases) {
      const windows = parseQuietHours(text);
      // over the US fall-back night and the EU's (a fake clock going forward): every 15 minutes, and
      // a millisecond before, at and after each instant the state changes
      for (const start of ['2026-10-31T12:00:00Z', '2026-10-24T12:00:00Z']) {
        const instants = new Set<number>();
        for (let t = at(start); t < at(start) + 48 * 3600_000; t += 15 * 60_000) {
          instants.add(t);
          const s = quietState(t, zone, windows);
          const change = s.quiet ? s.until : s.next;
          if (change !== undefined) for (const d of [-1, 0, 1]) instants.add(change + d);
        }
        for (const t of [...instants].sort((a, b) => a - b)) {
          const cached = cache.state(t, zone, windows, text);
          const fresh = quietState(t, zone, windows);
          if (cached.quiet !== fresh.quiet || (cached.quiet && fresh.quiet && cached.until !== fresh.until))
            expect.fail(
              `${zone} ${text} at ${iso(t)}: cached ${describeState(cached)}, computed ${describeState(fresh)}`,
            );
        }
      }
    }
  });

  it('the instant a window ends, the cached state is open; the instant one starts, it is quiet', () => {
    const cache = new QuietHoursCache();
    const windows = parseQuietHours('22:00-07:00');
    expect(cache.state(at('2026-06-11T06:59:59.999Z'), 'UTC', windows, '22:00-07:00').quiet).toBe(true);
    expect(cache.state(at('2026-06-11T07:00:00Z'), 'UTC', windows, '22:00-07:00').quiet).toBe(false);
    expect(cache.state(at('2026-06-11T21:59:59.999Z'), 'UTC', windows, '22:00-07:00').quiet).toBe(false);
    expect(cache.state(at('2026-06-11T22:00:00Z'), 'UTC', windows, '22:00-07:00').quiet).toBe(true);
    // a fake clock that goes back is answered for the instant asked, not from the cache
    expect(cache.state(at('2026-06-11T12:00:00Z'), 'UTC', windows, '22:00-07:00').quiet).toBe(false);
  });
});

const NY_ = 'America/New_York';
