/** Who gets what: the preference rules, pure. */
import { addressOf, fit, type ChannelDefinition } from './channels/channel.js';
import type { EventEnvelope } from './envelope.js';
import type { EventTypeDefinition, MessageContent, UserProfile } from './event-type.js';

export type Preferences = Record<string, 'on' | 'off'>;
export type SkipReason = 'opted-out' | 'unknown-user' | 'no-address';

export type DeliveryPlan =
  | { channel: string; action: 'send'; address: string; text: string }
  | { channel: string; action: 'skip'; reason: SkipReason };

export function parsePreferences(raw: Record<string, string>, channels: readonly ChannelDefinition[]): Preferences {
  const prefs: Preferences = {};
  for (const c of channels) prefs[c.name] = raw[c.name]?.trim().toLowerCase() === 'on' ? 'on' : 'off';
  return prefs;
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

/** One plan per channel, in channel order. A missing preference counts as off. */
export function planDeliveries(
  event: EventEnvelope,
  definition: EventTypeDefinition,
  user: UserProfile | undefined,
  prefs: Preferences | undefined,
  channels: readonly ChannelDefinition[],
): DeliveryPlan[] {
  // The channel-neutral content is made once per event, for the channels without a template of their own.
  let content: MessageContent | undefined;
  return channels.map((channel): DeliveryPlan => {
    if (!user) return { channel: channel.name, action: 'skip', reason: 'unknown-user' };
    if (prefs?.[channel.name] !== 'on') return { channel: channel.name, action: 'skip', reason: 'opted-out' };
    const address = addressOf(channel, user);
    if (!address) return { channel: channel.name, action: 'skip', reason: 'no-address' };
    if (!definition.templates?.[channel.name]) content ??= definition.content(event.payload, user);
    return {
      channel: channel.name,
      action: 'send',
      address,
      text: renderText(definition, channel, event, user, content),
    };
  });
}
