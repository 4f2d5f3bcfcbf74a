/**
 * The sample users `seed` writes: varied preferences (each channel says who has it on:
 * `sampleOptIn`), some without a phone or a push token.
 */
import type { ChannelDefinition } from './channels/channel.js';
import type { UserProfile } from './event-type.js';
import type { Preferences } from './rules.js';

export interface SeedUser {
  profile: UserProfile;
  prefs: Preferences;
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
    return { profile, prefs };
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
 * pipeline and the dashboard against a production-sized Redis.
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
