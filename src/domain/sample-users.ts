/**
 * The sample users `seed` writes: varied preferences (each channel says who has it on:
 * `sampleOptIn`), some without a phone or a push token, and (users 10 to 24) rules: per-type
 * choices, time zones spread over the globe and quiet windows, chosen so that at any hour of any day
 * some sample user is in quiet hours (test/unit/sample-users.test.ts checks every quarter hour of
 * weeks around the DST changes). Users 1 to 9 keep no rules: the tests and the docs' examples use
 * them and expect their events sent at once.
 */
import type { ChannelDefinition } from './channels/channel.js';
import type { UserProfile } from './event-type.js';
import type { Preferences } from './rules.js';

export interface SeedUser {
  profile: UserProfile;
  prefs: Preferences;
  /**
   * The other fields of `prefs:<id>` (docs/contracts.md): `<type>.<channel>` (`on`/`off`), `tz` (an
   * IANA zone) and `quiet` (windows, as `prefs set` writes them). Absent: none.
   */
  rules?: Record<string, string>;
}

/**
 * The rules of the sample users, by number. Zones from Los Angeles to Auckland; windows at night
 * (some over midnight, some other on weekends), one at lunch, one on weekend days.
 */
const SAMPLE_RULES: Readonly<Record<number, Readonly<Record<string, string>>>> = {
  10: { tz: 'America/Los_Angeles', quiet: '22:00-07:00', 'item_purchased.sms': 'off' },
  11: { tz: 'America/New_York', quiet: 'mon-fri 22:00-07:00; sat,sun 23:00-09:00', 'user_signup.email': 'off' },
  12: { tz: 'America/Sao_Paulo', quiet: '23:00-08:00', 'item_purchased.push': 'on' },
  13: { tz: 'Europe/London', quiet: '22:30-06:30' },
  14: { tz: 'Europe/Paris', quiet: 'mon-fri 22:00-07:00; sat,sun 23:00-09:00', 'item_purchased.sms': 'off' },
  15: { tz: 'Africa/Lagos', quiet: '21:00-06:00', 'user_signup.sms': 'off' },
  16: { tz: 'Asia/Kolkata', quiet: '22:00-07:00', 'user_signup.push': 'off' },
  17: { tz: 'Asia/Tokyo', quiet: '23:00-07:00' },
  18: { tz: 'Australia/Sydney', quiet: 'mon-fri 22:00-07:00; sat,sun 23:00-10:00', 'item_purchased.console': 'on' },
  19: { tz: 'Pacific/Auckland', quiet: '22:00-07:00', 'user_signup.email': 'off' },
  // A capped user and a digesting one: throttled and digested sends show in the first minute.
  20: { tz: 'America/Chicago', 'cap.sms': '2/1h', 'cap.push': '5/1h' },
  21: { 'user_signup.push': 'off', 'item_purchased.sms': 'off', 'digest.item_purchased': '2m' },
  22: { tz: 'Europe/Amsterdam', quiet: '12:00-13:00' },
  23: { tz: 'Asia/Singapore', quiet: 'sat,sun 10:00-18:00', 'item_purchased.email': 'off' },
  24: { tz: 'America/Anchorage', quiet: 'mon-fri 09:00-17:00' },
};

/** User n's rules, leaving out `<type>.<channel>` fields of channels not in `channels`. */
function sampleRules(n: number, channels: readonly ChannelDefinition[]): Record<string, string> | undefined {
  const rules = SAMPLE_RULES[n];
  if (!rules) return undefined;
  const names = new Set(channels.map((c) => c.name));
  return Object.fromEntries(
    Object.entries(rules).filter(
      ([field]) =>
        !field.includes('.') || field.startsWith('digest.') || names.has(field.slice(field.indexOf('.') + 1)),
    ),
  );
}

const PEOPLE = [
  'Ada Lovelace',
  'Alan Turing',
  'Grace Hopper',
  'Edsger Dijkstra',
  'Barbara Liskov',
  'Donald Knuth',
  'Margaret Hamilton',
  'Ken Thompson',
  'Frances Allen',
  'Dennis Ritchie',
  'Radia Perlman',
  'Leslie Lamport',
  'Hedy Lamarr',
  'John McCarthy',
  'Katherine Johnson',
  'Tim Berners-Lee',
  'Shafi Goldwasser',
  'Linus Torvalds',
  'Sophie Wilson',
  'Niklaus Wirth',
  'Jean Sammet',
  'Guido van Rossum',
  'Adele Goldberg',
  'Bjarne Stroustrup',
];

export function sampleUsers(channels: readonly ChannelDefinition[]): SeedUser[] {
  return PEOPLE.map((name, i) => {
    const n = i + 1;
    const id = `user-${String(n).padStart(2, '0')}`;
    const handle = name.toLowerCase().replace(/[^a-z]+/g, '.');
    const profile: UserProfile = { id, name, email: `${handle}@example.com` };
    // Every third user has no phone, every fifth no push token: their channels skip with no-address.
    if (n % 3 !== 0) profile.phone = `+1555${String(1000000 + n * 7919).slice(-7)}`;
    if (n % 5 !== 0) profile.pushToken = `ptk_${(n * 2654435761).toString(36)}`;
    const prefs: Preferences = {};
    for (const channel of channels) prefs[channel.name] = channel.sampleOptIn?.(n) ? 'on' : 'off';
    const rules = sampleRules(n, channels);
    return rules ? { profile, prefs, rules } : { profile, prefs };
  });
}

/** The most users `seed --users` writes. */
export const MAX_GENERATED_USERS = 10_000_000;

/** The id of generated user `n` (1-based) of `total`: `gen-0000001`, zero-padded so that ids sort as numbers. */
export function generatedUserId(n: number, total: number): string {
  return `gen-${String(n).padStart(Math.max(7, String(total).length), '0')}`;
}

/**
 * Generated user `n` of `total` (`seed --users`): the same mix as the sample users (each channel's
 * `sampleOptIn`, every third without a phone, every fifth without a push token), for trying the
 * pipeline and the dashboard against a production-sized Redis. They have no rules (no per-type
 * choices, zone or quiet windows): `seed --users` writes a fixed set of fields through one script.
 */
export function generatedUser(n: number, total: number, channels: readonly ChannelDefinition[]): SeedUser {
  const id = generatedUserId(n, total);
  const profile: UserProfile = { id, name: `Generated User ${n}`, email: `${id}@example.com` };
  if (n % 3 !== 0) profile.phone = `+1555${String(1000000 + ((n * 7919) % 9000000)).slice(-7)}`;
  if (n % 5 !== 0) profile.pushToken = `ptk_${(n * 2654435761).toString(36)}`;
  const prefs: Preferences = {};
  for (const channel of channels) prefs[channel.name] = channel.sampleOptIn?.(n) ? 'on' : 'off';
  return { profile, prefs };
}
