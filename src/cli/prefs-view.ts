/**
 * What `prefs get` (and `prefs set`, after writing) prints of a user's `prefs:<id>` hash: the
 * channels, the type × channel matrix, the zone, the windows and whether the user is in quiet hours
 * at `now` (docs/contracts.md, "prefs get"). Pure: the raw hash and the catalog in, one object out.
 */
import type { Catalog } from '../domain/catalog.js';
import { localLabel, quietState } from '../domain/quiet-hours.js';
import {
  capsAndDigestsText,
  parseRules,
  typeChoice,
  typeDefault,
  type Preferences,
  type TypeChoice,
} from '../domain/rules.js';

export type QuietNow =
  | { quiet: true; until: string; untilLocal: string; window: string }
  | { quiet: false; next: string | null; nextLocal: string | null };

export interface PreferencesView {
  userId: string;
  /** Each channel's switch, as today's `prefs get` printed it. */
  prefs: Preferences;
  /** Per event type, per channel: what the user chose (`default`: nothing, the type's default applies). */
  types: Record<string, Record<string, TypeChoice>>;
  /**
   * Per event type, per channel: whether it is sent (`on`) or not (`off`) with these preferences: the
   * channel's switch, then the choice or, for `default`, the type's default; a required channel is
   * `on` whatever they say. Not counted: a missing address (skipped) and quiet hours (deferred).
   */
  effective: Record<string, Record<string, 'on' | 'off'>>;
  /** The zone quiet hours are read in (`UTC` when unset or not a zone). */
  tz: string;
  /** The quiet windows, normalised (`mon-fri 22:00-07:00`); empty when none. */
  windows: string[];
  quietNow: QuietNow;
  /** Fields that could not be parsed and are ignored (`tz`, `quiet`, `item_purchased.sms`): `prefs-invalid`. */
  invalid: string[];
  /** `cap.<channel>`, as `prefs set` writes it: `{"sms":"3/1h"}`. */
  caps: Record<string, string>;
  /** `digest.<type>` windows: `{"item_purchased":"10m"}`. */
  digests: Record<string, string>;
}

export function preferencesView(
  userId: string,
  prefs: Preferences,
  raw: Record<string, string>,
  catalog: Catalog,
  now: number,
): PreferencesView {
  const rules = parseRules(raw);
  const types: PreferencesView['types'] = {};
  const effective: PreferencesView['effective'] = {};
  for (const [type, definition] of catalog.eventTypes) {
    const row: Record<string, TypeChoice> = {};
    const sent: Record<string, 'on' | 'off'> = {};
    for (const { name } of catalog.channels) {
      const choice = typeChoice(definition, name, rules);
      row[name] = choice;
      if (choice === 'required') sent[name] = 'on';
      else if (prefs[name] !== 'on') sent[name] = 'off';
      else sent[name] = choice === 'default' ? typeDefault(definition, name) : choice;
    }
    types[type] = row;
    effective[type] = sent;
  }
  const state = quietState(now, rules.tz, rules.quiet);
  const quietNow: QuietNow = state.quiet
    ? { quiet: true, until: new Date(state.until).toISOString(), untilLocal: state.untilLabel, window: state.window }
    : {
        quiet: false,
        next: state.next === undefined ? null : new Date(state.next).toISOString(),
        nextLocal: state.next === undefined ? null : localLabel(state.next, rules.tz, now),
      };
  return {
    userId,
    prefs,
    types,
    effective,
    tz: rules.tz,
    windows: rules.quiet.map((w) => w.text),
    quietNow,
    invalid: [...rules.invalid],
    ...capsAndDigestsText(rules),
  };
}
