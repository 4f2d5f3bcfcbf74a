/**
 * Who gets what, and when: the preference rules, pure. Per channel, in this order:
 * an unknown user gets nothing; a channel the type requires is sent whatever the preferences;
 * otherwise the channel must be on (`opted-out`) and the type not off for it (`type-opted-out`; unset
 * = the type's default); a channel without an address is skipped (`no-address`); a type that is not
 * urgent, met in the user's quiet hours, is deferred to their end; else it is sent.
 */
import { addressOf, fit, type ChannelDefinition } from './channels/channel.js';
import type { EventEnvelope } from './envelope.js';
import type { EventTypeDefinition, MessageContent, UserProfile } from './event-type.js';
import { capText, durationText, parseCap, parseDuration, type Cap } from './duration.js';
import { isValidZone, parseQuietHours, QuietHoursCache, type QuietState, type QuietWindow } from './quiet-hours.js';

/** Each channel's switch, as the `prefs:<id>` hash holds it (a missing field is off). */
export type Preferences = Record<string, 'on' | 'off'>;

/** Why the rules skip a channel: the one list (the metrics' outcome labels are made from it). */
export const SKIP_REASONS = ['opted-out', 'type-opted-out', 'unknown-user', 'no-address', 'throttled'] as const;
export type SkipReason = (typeof SKIP_REASONS)[number];

/** The `prefs:<id>` fields that are not channels nor `<type>.<channel>`: no channel or event type may take them. */
export const RESERVED_FIELDS = ['tz', 'quiet'] as const;
/** Field prefixes kept for caps and digests (`cap.sms`, `digest.item_purchased`). */
export const RESERVED_PREFIXES = ['cap', 'digest'] as const;
export const DEFAULT_ZONE = 'UTC';

/** The rules beyond the channel switches, read from the same `prefs:<id>` hash. */
export interface UserRules {
  /** `<type>.<channel>` → on/off as the user set it; absent = the type's default. */
  types: Readonly<Record<string, 'on' | 'off'>>;
  /** A valid IANA zone (`UTC` when unset or unknown). */
  tz: string;
  quiet: readonly QuietWindow[];
  /** The `quiet` field as read (the cache key of the quiet state). */
  quietText: string;
  /** Fields that could not be parsed and were ignored: `tz`, `quiet`, `item_purchased.sms`. */
  invalid: readonly string[];
  /** `types` by type, then channel: read per send without making a string. */
  byType: Readonly<Record<string, Readonly<Record<string, 'on' | 'off'>>>>;
  /** The quiet-state cache's key (zone and windows), made once per look-up. */
  quietKey: string;
  /** `cap.<channel>`: at most `limit` sends of the channel in any `windowMs` (required sends aside). */
  caps: Readonly<Record<string, Cap>>;
  /** `digest.<type>`: the type's events within this window become one message per channel, ms. */
  digests: Readonly<Record<string, number>>;
}

export const NO_RULES: UserRules = Object.freeze({
  types: {},
  tz: DEFAULT_ZONE,
  quiet: [],
  quietText: '',
  invalid: [],
  byType: {},
  quietKey: '',
  caps: {},
  digests: {},
});

/** Which rule decided a channel: the trace says it in words ({@link describeRule}). */
export type RuleCode =
  | 'unknown-user'
  | 'channel-off'
  | 'type-off'
  | 'type-default-off'
  | 'required'
  | 'no-address'
  | 'quiet-hours'
  | 'urgent'
  | 'type-on'
  | 'type-default';

export type DeliveryPlan =
  | { channel: string; action: 'send'; address: string; text: string; rule: RuleCode }
  | { channel: string; action: 'skip'; reason: SkipReason; rule: RuleCode }
  | {
      channel: string;
      action: 'defer';
      address: string;
      text: string;
      rule: 'quiet-hours';
      /** When the quiet hours end, ms since the epoch. */
      dueAt: number;
      /** `07:00 Europe/Paris`. */
      dueLabel: string;
      /** The user's zone the due time is shown in. */
      zone: string;
      /** The window the event fell in, as written. */
      window: string;
    };

export function parsePreferences(raw: Record<string, string>, channels: readonly ChannelDefinition[]): Preferences {
  const prefs: Preferences = {};
  for (const c of channels) prefs[c.name] = raw[c.name]?.trim().toLowerCase() === 'on' ? 'on' : 'off';
  return prefs;
}

/** Parsed `quiet` fields, by text: a million users share a few dozen. Starts over past 10,000. */
const parsedQuiet = new Map<string, readonly QuietWindow[] | null>();

function quietWindows(text: string): readonly QuietWindow[] | null {
  let windows = parsedQuiet.get(text);
  if (windows === undefined) {
    try {
      windows = parseQuietHours(text);
    } catch {
      windows = null;
    }
    if (parsedQuiet.size >= 10_000) parsedQuiet.clear();
    parsedQuiet.set(text, windows);
  }
  return windows;
}

/**
 * The rules in a `prefs:<id>` hash. What cannot be parsed (another program's `tz` = `Mars/Base`,
 * `quiet` = `25:99-x`, `item_purchased.sms` = `maybe`) is ignored and named in `invalid`: it never
 * drops or blocks a notification. Fields of types or channels this build does not know are kept and
 * do nothing. A hash with none of these fields costs one pass over its keys.
 */
export function parseRules(raw: Record<string, string>): UserRules {
  let types: Record<string, 'on' | 'off'> | undefined;
  let invalid: string[] | undefined;
  let tz = DEFAULT_ZONE;
  let quiet: readonly QuietWindow[] = [];
  let quietText = '';
  let caps: Record<string, Cap> | undefined;
  let digests: Record<string, number> | undefined;
  for (const field in raw) {
    if (field === 'tz') {
      const value = raw[field]!.trim();
      if (isValidZone(value)) tz = value;
      else if (value !== '') (invalid ??= []).push('tz');
    } else if (field === 'quiet') {
      const windows = quietWindows(raw[field]!);
      if (windows) {
        quiet = windows;
        quietText = raw[field]!;
      } else (invalid ??= []).push('quiet');
    } else if (field.includes('.')) {
      const dot = field.indexOf('.');
      const prefix = field.slice(0, dot);
      if (prefix === 'cap') {
        const cap = parseCap(raw[field]!);
        if (cap) (caps ??= {})[field.slice(dot + 1)] = cap;
        else (invalid ??= []).push(field);
        continue;
      }
      if (prefix === 'digest') {
        const windowMs = parseDuration(raw[field]!);
        if (windowMs !== undefined) (digests ??= {})[field.slice(dot + 1)] = windowMs;
        else (invalid ??= []).push(field);
        continue;
      }
      const value = raw[field]!.trim().toLowerCase();
      if (value === 'on' || value === 'off') (types ??= {})[field] = value;
      else if (value !== 'default' && value !== '') (invalid ??= []).push(field);
    }
  }
  if (!types && !invalid && !caps && !digests && quiet.length === 0 && tz === DEFAULT_ZONE) return NO_RULES;
  const byType: Record<string, Record<string, 'on' | 'off'>> = {};
  for (const field in types) {
    const dot = field.indexOf('.');
    (byType[field.slice(0, dot)] ??= {})[field.slice(dot + 1)] = types[field]!;
  }
  return {
    types: types ?? {},
    tz,
    quiet,
    quietText,
    invalid: invalid ?? [],
    byType,
    quietKey: quiet.length > 0 ? `${tz}\u0000${quietText}` : '',
    caps: caps ?? {},
    digests: digests ?? {},
  };
}

/** The caps and digest windows as `prefs set` writes them: `{sms: '3/1h'}`, `{item_purchased: '10m'}`. */
export function capsAndDigestsText(rules: UserRules): {
  caps: Record<string, string>;
  digests: Record<string, string>;
} {
  return {
    caps: Object.fromEntries(Object.entries(rules.caps).map(([channel, cap]) => [channel, capText(cap)])),
    digests: Object.fromEntries(Object.entries(rules.digests).map(([type, ms]) => [type, durationText(ms)])),
  };
}

/** `on`/`off` for a type on a channel when the user set nothing for it. */
export function typeDefault(definition: EventTypeDefinition, channel: string): 'on' | 'off' {
  return definition.offByDefault?.includes(channel) ? 'off' : 'on';
}

/** What a user gets of a type on a channel, as `prefs get` and the editor show it. */
export type TypeChoice = 'on' | 'off' | 'default' | 'required';

export function typeChoice(definition: EventTypeDefinition, channel: string, rules: UserRules): TypeChoice {
  if (definition.required?.includes(channel)) return 'required';
  return rules.types[`${definition.type}.${channel}`] ?? 'default';
}

/** `content`: the event's channel-neutral content when already made (it is the same for every channel). */
export function renderText(
  definition: EventTypeDefinition,
  channel: ChannelDefinition,
  event: EventEnvelope,
  user: UserProfile,
  content?: MessageContent,
): string {
  const template = definition.templates?.[channel.name];
  const text = template
    ? template(event.payload, user)
    : channel.format(content ?? definition.content(event.payload, user));
  return fit(text, channel.maxLength);
}

/** One process-wide cache of quiet states: per (zone, windows), until the state next changes. */
const quietCache = new QuietHoursCache();

export interface PlanContext {
  rules?: UserRules | undefined;
  /** The instant the event is processed (quiet hours are checked against it), ms. */
  now?: number;
  /** Only these channels (a deferred send's one channel at its due time). */
  only?: string;
}

/** One plan per channel, in channel order. A missing preference counts as off. */
export function planDeliveries(
  event: EventEnvelope,
  definition: EventTypeDefinition,
  user: UserProfile | undefined,
  prefs: Preferences | undefined,
  channels: readonly ChannelDefinition[],
  context: PlanContext = {},
): DeliveryPlan[] {
  const rules = context.rules ?? NO_RULES;
  // The channel-neutral content is made once per event, for the channels without a template of their own.
  let content: MessageContent | undefined;
  const plans: DeliveryPlan[] = [];
  const chosen = rules === NO_RULES ? undefined : rules.byType[definition.type];
  // The quiet state, once per event and only when a send reaches it.
  let quiet: QuietState | undefined;
  for (const channel of channels) {
    const name = channel.name;
    if (context.only !== undefined && name !== context.only) continue;
    if (!user) {
      plans.push({ channel: name, action: 'skip', reason: 'unknown-user', rule: 'unknown-user' });
      continue;
    }
    let rule: RuleCode;
    if (definition.required?.includes(name)) rule = 'required';
    else if (prefs?.[name] !== 'on') {
      plans.push({ channel: name, action: 'skip', reason: 'opted-out', rule: 'channel-off' });
      continue;
    } else {
      const set = chosen?.[name];
      const choice = set ?? typeDefault(definition, name);
      if (choice === 'off') {
        plans.push({
          channel: name,
          action: 'skip',
          reason: 'type-opted-out',
          rule: set ? 'type-off' : 'type-default-off',
        });
        continue;
      }
      rule = set ? 'type-on' : 'type-default';
    }
    const address = addressOf(channel, user);
    if (!address) {
      plans.push({ channel: name, action: 'skip', reason: 'no-address', rule: 'no-address' });
      continue;
    }
    if (!definition.templates?.[name]) content ??= definition.content(event.payload, user);
    const text = renderText(definition, channel, event, user, content);
    if (rules.quiet.length > 0) {
      const state = (quiet ??= quietCache.state(context.now ?? Date.now(), rules.tz, rules.quiet, rules.quietKey));
      if (state.quiet) {
        if (definition.urgent) rule = 'urgent';
        else {
          plans.push({
            channel: name,
            action: 'defer',
            address,
            text,
            rule: 'quiet-hours',
            dueAt: state.until,
            dueLabel: state.untilLabel,
            zone: rules.tz,
            window: state.window,
          });
          continue;
        }
      }
    }
    plans.push({ channel: name, action: 'send', address, text, rule });
  }
  return plans;
}

/** The rule that decided a channel, in words, for the event's trace. */
export function describeRule(rule: RuleCode, type: string, channel: string): string {
  switch (rule) {
    case 'unknown-user':
      return 'no such user in Redis';
    case 'channel-off':
      return `${channel} is off for the user`;
    case 'type-off':
      return `${type}.${channel} is off for the user`;
    case 'type-default-off':
      return `${type} is not sent on ${channel} unless the user turns it on (the type's default)`;
    case 'required':
      return `${channel} is required for ${type}: sent whatever the preferences`;
    case 'no-address':
      return `the user has no ${channel} address`;
    case 'quiet-hours':
      return `the user is in quiet hours`;
    case 'urgent':
      return `in quiet hours, but ${type} is urgent: never deferred`;
    case 'type-on':
      return `${channel} is on and ${type}.${channel} is on`;
    case 'type-default':
      return `${channel} is on (${type}.${channel}: the type's default, on)`;
  }
}
