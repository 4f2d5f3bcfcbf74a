import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../../src/domain/catalog.js';
import { parsePreferenceField, parsePreferenceValue } from '../../src/domain/preference-fields.js';
import { canonicalZone, quietState } from '../../src/domain/quiet-hours.js';
import { parseRules } from '../../src/domain/rules.js';
import { sampleUsers } from '../../src/domain/sample-users.js';

describe('the sample users', () => {
  it("take each channel's preference from the channel's own file", async () => {
    const users = sampleUsers((await loadCatalog()).channels);
    expect(users).toHaveLength(24);
    // The preferences the sample users have always had (docs and tests rely on them).
    users.forEach(({ prefs }, i) => {
      const n = i + 1;
      expect(prefs).toEqual({
        email: n % 7 === 0 ? 'off' : 'on',
        sms: n % 2 === 0 ? 'on' : 'off',
        push: n % 4 === 1 ? 'off' : 'on',
        console: n % 3 === 1 ? 'on' : 'off',
        webhook: n % 5 === 2 ? 'on' : 'off',
      });
    });
  });

  it('a channel that names no sample users is off for every one', () => {
    const quiet = { name: 'pager', label: 'Pager', toggleKey: 'g', order: 9, maxLength: 80, format: () => '' };
    expect(new Set(sampleUsers([quiet]).map((u) => u.prefs.pager))).toEqual(new Set(['off']));
  });
});

describe('the sample users’ rules', () => {
  it('are what `prefs set` would write: each field parses, in its canonical form', async () => {
    const catalog = await loadCatalog();
    const users = sampleUsers(catalog.channels);
    const withRules = users.filter((u) => u.rules && Object.keys(u.rules).length > 0);
    expect(withRules.length).toBeGreaterThanOrEqual(10);
    // Users 1 to 9 (the tests' and the docs' examples) keep none.
    expect(users.slice(0, 9).every((u) => u.rules === undefined)).toBe(true);
    for (const { profile, rules } of withRules) {
      for (const [field, value] of Object.entries(rules!)) {
        const write = parsePreferenceValue(parsePreferenceField(field, catalog), value, catalog);
        // A zone as IANA names it today (Asia/Kolkata), which Node's ICU may resolve to an older alias (Asia/Calcutta).
        if (field === 'tz') expect(canonicalZone(value), profile.id).toBe('value' in write ? write.value : undefined);
        else expect(write, `${profile.id} ${field}`).toEqual({ field, value });
      }
      expect(parseRules({ ...rules }).invalid, profile.id).toEqual([]);
    }
    // Some per-type choices, and zones on several continents.
    const fields = withRules.flatMap((u) => Object.keys(u.rules!));
    expect(fields).toEqual(expect.arrayContaining(['item_purchased.sms', 'user_signup.email', 'item_purchased.push']));
    const zones = new Set(withRules.map((u) => u.rules!.tz?.split('/')[0]).filter(Boolean));
    expect([...zones].sort()).toEqual(['Africa', 'America', 'Asia', 'Australia', 'Europe', 'Pacific']);
  });

  it('leave out the per-type choices of channels that are not in the catalog', () => {
    const pager = { name: 'pager', label: 'Pager', toggleKey: 'g', order: 9, maxLength: 80, format: () => '' };
    for (const u of sampleUsers([pager]))
      for (const field of Object.keys(u.rules ?? {})) expect(field).toMatch(/^(?!.*\.)|^digest\./);
  });

  it('include a capped user and a digesting one, each field as prefs set writes it', async () => {
    const users = sampleUsers((await loadCatalog()).channels);
    const rules = users.map((u) => parseRules({ ...u.rules }));
    expect(rules.some((r) => Object.keys(r.caps).length > 0)).toBe(true);
    expect(rules.some((r) => r.digests.item_purchased !== undefined)).toBe(true);
    expect(rules.flatMap((r) => r.invalid)).toEqual([]);
  });

  it('keep some sample user in quiet hours at every instant of the week, DST weeks included', async () => {
    const users = sampleUsers((await loadCatalog()).channels).flatMap((u) => {
      const rules = parseRules({ ...u.rules });
      return rules.quiet.length > 0 ? [{ tz: rules.tz, quiet: rules.quiet }] : [];
    });
    // A plain week, and the weeks of the spring-forward and fall-back changes in the US, Europe,
    // Australia and New Zealand (2026), a day before and after each.
    const weeks = [
      '2026-01-12',
      '2026-03-08',
      '2026-03-29',
      '2026-04-05',
      '2026-09-27',
      '2026-10-04',
      '2026-10-25',
      '2026-11-01',
    ];
    const DAY = 24 * 3600_000;
    for (const week of weeks) {
      const from = Date.parse(`${week}T00:00:00Z`) - DAY;
      const to = from + 9 * DAY;
      // Each user's quiet spans, walked with quietState: from one change of state to the next.
      const spans: [number, number][] = [];
      for (const u of users) {
        for (let at = from; at < to;) {
          const state = quietState(at, u.tz, u.quiet);
          if (state.quiet) {
            spans.push([at, state.until]);
            at = state.until;
          } else at = state.next ?? to;
        }
      }
      // Their union covers the whole range: no instant without some user in quiet hours.
      spans.sort((a, b) => a[0] - b[0]);
      const gaps: string[] = [];
      let covered = from;
      for (const [start, end] of spans) {
        if (start > covered) gaps.push(`${new Date(covered).toISOString()} to ${new Date(start).toISOString()}`);
        covered = Math.max(covered, end);
      }
      if (covered < to) gaps.push(`${new Date(covered).toISOString()} to ${new Date(to).toISOString()}`);
      expect(gaps, week).toEqual([]);
      // And, in the plain week, hour by hour: quietState itself says someone is quiet.
      if (week === weeks[0])
        for (let at = from; at < to; at += 3600_000)
          expect(
            users.some((u) => quietState(at, u.tz, u.quiet).quiet),
            new Date(at).toISOString(),
          ).toBe(true);
    }
  });
});
