/** What `prefs get` prints of a `prefs:<id>` hash (src/cli/prefs-view.ts), on a fixed clock. */
import { describe, expect, it } from 'vitest';
import { preferencesView } from '../../src/cli/prefs-view.js';
import { loadCatalog } from '../../src/domain/catalog.js';
import type { EventEnvelope } from '../../src/domain/envelope.js';
import { parsePreferences, parseRules, planDeliveries } from '../../src/domain/rules.js';

const catalog = await loadCatalog();
const ada = { id: 'u1', name: 'Ada', email: 'ada@example.com', phone: '+15550001', pushToken: 'tok' };
/** Wednesday 2026-01-14, 23:30 in Paris (22:30 UTC). */
const WEDNESDAY_NIGHT = Date.parse('2026-01-14T22:30:00Z');
/** Thursday 2026-01-15, 12:00 in Paris. */
const THURSDAY_NOON = Date.parse('2026-01-15T11:00:00Z');

const view = (raw: Record<string, string>, now = THURSDAY_NOON) =>
  preferencesView('u1', parsePreferences(raw, catalog.channels), raw, catalog, now);

describe('prefs get', () => {
  it('shows the channels, the type × channel matrix and what it sends', () => {
    const raw = { email: 'on', sms: 'on', push: 'off', 'item_purchased.sms': 'off', 'user_signup.push': 'on' };
    const v = view(raw);
    expect(v.prefs).toEqual({ email: 'on', sms: 'on', push: 'off', console: 'off', webhook: 'off' });
    expect(v.types).toEqual({
      user_signup: { email: 'default', sms: 'default', push: 'on', console: 'default', webhook: 'default' },
      item_purchased: { email: 'default', sms: 'off', push: 'default', console: 'default', webhook: 'default' },
      password_reset: { email: 'required', sms: 'default', push: 'default', console: 'default', webhook: 'default' },
    });
    // push is off as a channel: user_signup.push on does not send it; item_purchased.sms off does not go.
    expect(v.effective).toEqual({
      user_signup: { email: 'on', sms: 'on', push: 'off', console: 'off', webhook: 'off' },
      item_purchased: { email: 'on', sms: 'off', push: 'off', console: 'off', webhook: 'off' },
      password_reset: { email: 'on', sms: 'on', push: 'off', console: 'off', webhook: 'off' },
    });
    expect(v).toMatchObject({ tz: 'UTC', windows: [], invalid: [], quietNow: { quiet: false, next: null } });
  });

  it('shows caps and digest windows as prefs set writes them; malformed ones among the invalid', () => {
    const v = view({ 'cap.sms': '3/60m', 'digest.item_purchased': '600s', 'cap.push': 'lots' });
    expect(v.caps).toEqual({ sms: '3/1h' });
    expect(v.digests).toEqual({ item_purchased: '10m' });
    expect(v.invalid).toEqual(['cap.push']);
  });

  it('says a required channel is sent whatever the channel switch', () => {
    const v = view({ email: 'off', sms: 'off', push: 'off', console: 'off' });
    expect(v.types.password_reset!.email).toBe('required');
    expect(v.effective.password_reset).toEqual({
      email: 'on',
      sms: 'off',
      push: 'off',
      console: 'off',
      webhook: 'off',
    });
    expect(v.effective.user_signup!.email).toBe('off');
  });

  it('effective agrees with the plan the consumer makes (outside quiet hours, every address known)', () => {
    const switches = [
      { email: 'on', sms: 'on', push: 'on', console: 'on' },
      { email: 'off', sms: 'on', push: 'off', console: 'on' },
    ];
    const choices: Record<string, string>[] = [
      {},
      { 'item_purchased.sms': 'off', 'user_signup.email': 'off', 'password_reset.push': 'on' },
    ];
    for (const s of switches)
      for (const c of choices) {
        const raw: Record<string, string> = { ...s, ...c };
        const v = view(raw);
        for (const [type, definition] of catalog.eventTypes) {
          const event: EventEnvelope = { id: 'e', type, userId: 'u1', occurredAt: '2026-01-15T11:00:00Z', payload: {} };
          const plans = planDeliveries(
            event,
            definition,
            ada,
            parsePreferences(raw, catalog.channels),
            catalog.channels,
            {
              rules: parseRules(raw),
              now: THURSDAY_NOON,
            },
          );
          for (const p of plans)
            expect(v.effective[type]![p.channel], `${type}.${p.channel} ${JSON.stringify(raw)}`).toBe(
              p.action === 'send' ? 'on' : 'off',
            );
        }
      }
  });

  it('in quiet hours: until when, in UTC and in the user’s zone, and the window', () => {
    const v = view(
      { email: 'on', tz: 'Europe/Paris', quiet: 'mon-fri 22:00-07:00;sat,sun 23:00-09:00' },
      WEDNESDAY_NIGHT,
    );
    expect(v.tz).toBe('Europe/Paris');
    expect(v.windows).toEqual(['mon-fri 22:00-07:00', 'sat,sun 23:00-09:00']);
    expect(v.quietNow).toEqual({
      quiet: true,
      until: '2026-01-15T06:00:00.000Z',
      untilLocal: '07:00 Europe/Paris',
      window: 'mon-fri 22:00-07:00',
    });
  });

  it('outside quiet hours: when the next window starts', () => {
    const v = view({ email: 'on', tz: 'Europe/Paris', quiet: '22:00-07:00' }, THURSDAY_NOON);
    expect(v.quietNow).toEqual({ quiet: false, next: '2026-01-15T21:00:00.000Z', nextLocal: '22:00 Europe/Paris' });
  });

  it('names the fields it cannot parse, and reads the rest without them', () => {
    const v = view({ email: 'on', tz: 'Mars/Base', quiet: '25:99-x', 'item_purchased.sms': 'maybe' });
    expect(v.invalid.sort()).toEqual(['item_purchased.sms', 'quiet', 'tz']);
    expect(v).toMatchObject({ tz: 'UTC', windows: [], quietNow: { quiet: false } });
    expect(v.types.item_purchased!.sms).toBe('default');
  });
});
