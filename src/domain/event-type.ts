/** What an event type is: one file in src/domain/events/ exports one of these as default. */
export interface UserProfile {
  id: string;
  name?: string;
  email?: string;
  phone?: string;
  pushToken?: string;
}

/** Channel-neutral message content; each channel formats it unless the event type has its own template. */
export interface MessageContent {
  subject: string;
  body: string;
  /** One short line: SMS, push, console. */
  short: string;
}

export type Payload = Record<string, unknown>;

export interface EventTypeDefinition {
  /** The `type` field of the envelope, e.g. `user_signup`. */
  type: string;
  description: string;
  /** The dashboard key that injects this event for the selected user. */
  key: string;
  /** Position in the catalog (keys, help, random choice). */
  order: number;
  /** The dashboard colour of this type in the event stream (an Ink colour name). */
  color: string;
  /** Documented payload fields: name → meaning. Missing or extra fields change the text, never drop the event. */
  payloadFields: Record<string, string>;
  generatePayload(random: () => number): Payload;
  /** A few words about the payload for the event stream. */
  summarize(payload: Payload): string;
  content(payload: Payload, user: UserProfile): MessageContent;
  /** Per-channel templates, by channel name; a channel without one formats `content`. */
  templates?: Partial<Record<string, (payload: Payload, user: UserProfile) => string>>;
  /**
   * The channels a user does not get for this type unless they turn it on (`<type>.<channel> on`).
   * Every other channel, including channels added later, is on by default: a user who sets nothing
   * for the type receives it wherever their channel is on.
   */
  offByDefault?: readonly string[];
  /**
   * Channels this type is sent on whatever the user's channel and type preferences (a password reset
   * code always reaches the email): skipped only when the user has no address there.
   */
  required?: readonly string[];
  /** Never deferred on any channel: quiet hours do not hold it (a code that arrives hours later is useless). */
  urgent?: boolean;
  /**
   * Whether the type can be digested (`digest.<type> <window>`: its events within the window become one
   * message per channel), and how the digest reads. Absent: never digested (`prefs set` refuses it).
   */
  digest?: {
    /**
     * The digest's content from its members' payloads (oldest first; at most {@link DIGEST_LISTED} of
     * them, `more` the count of the rest: "and 40 more").
     */
    content(members: readonly Payload[], more: number, user: UserProfile): MessageContent;
  };
}

/** Members a digest lists by name; the rest are counted ("and 40 more"). */
export const DIGEST_LISTED = 10;

export function defineEventType(definition: EventTypeDefinition): EventTypeDefinition {
  return definition;
}

/** A payload field as display text, or the fallback when it is missing or not a plain value. */
export function text(payload: Payload, field: string, fallback: string): string {
  const value = Object.hasOwn(payload, field) ? payload[field] : undefined;
  if (typeof value === 'string' && value.length > 0) return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return fallback;
}

export function amount(payload: Payload, field: string, currencyField = 'currency'): string | undefined {
  const value = Object.hasOwn(payload, field) ? payload[field] : undefined;
  if (typeof value !== 'number' || !Number.isFinite(value)) return undefined;
  return `${value.toFixed(2)} ${text(payload, currencyField, 'USD')}`;
}

export function displayName(user: UserProfile): string {
  return user.name && user.name.length > 0 ? user.name : user.id;
}

export function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length) % items.length]!;
}
