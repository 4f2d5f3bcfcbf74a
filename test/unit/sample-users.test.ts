import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../../src/domain/catalog.js';
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
      });
    });
  });

  it('a channel that names no sample users is off for every one', () => {
    const quiet = { name: 'pager', label: 'Pager', toggleKey: 'g', order: 9, maxLength: 80, format: () => '' };
    expect(new Set(sampleUsers([quiet]).map((u) => u.prefs.pager))).toEqual(new Set(['off']));
  });
});
