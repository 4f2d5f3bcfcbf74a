/** What a channel is: one file in src/domain/channels/ exports one of these as default. */
import type { MessageContent, UserProfile } from '../event-type.js';

/** The user fields that hold a channel's address. */
export const ADDRESS_FIELDS = ['email', 'phone', 'pushToken'] as const;
export type AddressField = (typeof ADDRESS_FIELDS)[number];

export interface ChannelDefinition {
  /** The field name in `prefs:<id>` and the channel name in every output. */
  name: string;
  label: string;
  /** The dashboard key that toggles this channel for the selected user. */
  toggleKey: string;
  /** The `user:<id>` field holding this channel's address; none = needs no address. */
  addressField?: AddressField;
  /** Position among the channels (dashboard columns, output order). */
  order: number;
  /** Longest text this channel carries; longer text is cut with an ellipsis. */
  maxLength: number;
  /** Formats channel-neutral content (used when the event type has no template for this channel). */
  format(content: MessageContent): string;
  /**
   * Its sent messages are also printed, human-readable, where the app shows logs (headless: stderr,
   * `[<name>] <address>: <text>`).
   */
  echoed?: boolean;
  /** Which of the sample users `seed` writes (numbered from 1) have it on; none: off for every one. */
  sampleOptIn?(user: number): boolean;
}

export function defineChannel(definition: ChannelDefinition): ChannelDefinition {
  return definition;
}

/** The address a channel sends to, or undefined when the user lacks it. */
export function addressOf(channel: ChannelDefinition, user: UserProfile): string | undefined {
  if (!channel.addressField) return user.name ?? user.id;
  const value = user[channel.addressField];
  return value && value.length > 0 ? value : undefined;
}

export function fit(text: string, max: number): string {
  // UTF-16 units never undercount characters: a short text needs no splitting.
  if (text.length <= max) return text;
  const chars = Array.from(text);
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join('')}…`;
}
