/**
 * The fields of `prefs:<id>` a user (or `prefs set`, or the dashboard's editor) may write, each with
 * its parser: a channel (`on`/`off`), `<type>.<channel>` (`on`/`off`/`default`), `tz` (an IANA zone)
 * and `quiet` (windows, or `none`). One source for the CLI, the editor and docs/contracts.md.
 */
import type { Catalog } from './catalog.js';
import { canonicalZone, parseQuietHours, QUIET_FORM, QuietHoursError, quietHoursText } from './quiet-hours.js';
import { CAP_FORM, capText, DURATION_FORM, durationText, parseCap, parseDuration } from './duration.js';

export type PreferenceField =
  | { kind: 'channel'; field: string; channel: string }
  | { kind: 'type'; field: string; type: string; channel: string }
  | { kind: 'tz'; field: 'tz' }
  | { kind: 'quiet'; field: 'quiet' }
  | { kind: 'cap'; field: string; channel: string }
  | { kind: 'digest'; field: string; type: string };

/** What to do to the hash: write the field, or remove it (back to the default). */
export type PreferenceWrite = { field: string; value: string } | { field: string; remove: true };

/** A field or value that cannot be written: the message names the field and the accepted form. */
export class PreferenceFieldError extends Error {
  override name = 'PreferenceFieldError';
}

/** The forms `prefs set` accepts, for its help and its errors. */
export function fieldForms(catalog: Catalog): string[] {
  const channels = catalog.channels.map((c) => c.name);
  const types = [...catalog.eventTypes.keys()];
  return [
    `<channel> on|off            channels: ${channels.join(', ')}`,
    `<type>.<channel> on|off|default   types: ${types.join(', ')}`,
    `tz <IANA zone>              e.g. Europe/Paris, America/New_York, UTC`,
    `quiet "<windows>"|none      ${QUIET_FORM}`,
    `cap.<channel> <n>/<duration>|none   at most n sends in any window: ${CAP_FORM}`,
    `digest.<type> <duration>|none   one message per window, types: ${digestible(catalog).join(', ') || 'none'}; ${DURATION_FORM}`,
  ];
}

/** The event types that can be digested (they declare how their digest reads). */
export const digestible = (catalog: Catalog): string[] =>
  [...catalog.eventTypes.values()].filter((d) => d.digest).map((d) => d.type);

export function parsePreferenceField(field: string, catalog: Catalog): PreferenceField {
  const channels = catalog.channels.map((c) => c.name);
  const types = [...catalog.eventTypes.keys()];
  if (field === 'tz') return { kind: 'tz', field };
  if (field === 'quiet') return { kind: 'quiet', field };
  if (channels.includes(field)) return { kind: 'channel', field, channel: field };
  const dot = field.indexOf('.');
  if (dot > 0) {
    const type = field.slice(0, dot);
    const channel = field.slice(dot + 1);
    if (type === 'cap') {
      if (!channels.includes(channel))
        throw new PreferenceFieldError(`"${field}": unknown channel "${channel}" (one of ${channels.join(', ')})`);
      return { kind: 'cap', field, channel };
    }
    if (type === 'digest') {
      const name = channel; // digest.<type>
      if (!catalog.eventTypes.has(name))
        throw new PreferenceFieldError(`"${field}": unknown event type "${name}" (one of ${types.join(', ')})`);
      if (!catalog.eventTypes.get(name)!.digest)
        throw new PreferenceFieldError(
          `"${field}": ${name} is never digested (digestible: ${digestible(catalog).join(', ') || 'none'})`,
        );
      return { kind: 'digest', field, type: name };
    }
    if (!catalog.eventTypes.has(type))
      throw new PreferenceFieldError(`"${field}": unknown event type "${type}" (one of ${types.join(', ')})`);
    if (!channels.includes(channel))
      throw new PreferenceFieldError(`"${field}": unknown channel "${channel}" (one of ${channels.join(', ')})`);
    return { kind: 'type', field, type, channel };
  }
  throw new PreferenceFieldError(
    `unknown field "${field}": a channel (${channels.join(', ')}), <type>.<channel> (types: ${types.join(', ')}), tz, quiet, cap.<channel> or digest.<type>`,
  );
}

/** The write a value asks for, checked; throws a {@link PreferenceFieldError} naming the field and its form. */
export function parsePreferenceValue(field: PreferenceField, value: string, catalog: Catalog): PreferenceWrite {
  const v = value.trim();
  const lower = v.toLowerCase();
  switch (field.kind) {
    case 'channel':
      if (lower === 'on' || lower === 'off') return { field: field.field, value: lower };
      throw new PreferenceFieldError(`${field.field}: "${value}" is not on or off`);
    case 'type': {
      const definition = catalog.eventTypes.get(field.type)!;
      if (definition.required?.includes(field.channel))
        throw new PreferenceFieldError(
          `${field.field}: ${field.channel} is required for ${field.type} (always sent); it cannot be turned on or off`,
        );
      if (lower === 'on' || lower === 'off') return { field: field.field, value: lower };
      if (lower === 'default') return { field: field.field, remove: true };
      throw new PreferenceFieldError(`${field.field}: "${value}" is not on, off or default`);
    }
    case 'tz': {
      const zone = canonicalZone(v);
      if (!zone)
        throw new PreferenceFieldError(
          `tz: "${value}" is not an IANA time zone (e.g. Europe/Paris, America/New_York, UTC)`,
        );
      return { field: 'tz', value: zone };
    }
    case 'cap': {
      if (lower === 'none') return { field: field.field, remove: true };
      const cap = parseCap(v);
      if (!cap) throw new PreferenceFieldError(`${field.field}: "${value}" is not ${CAP_FORM}`);
      return { field: field.field, value: capText(cap) };
    }
    case 'digest': {
      if (lower === 'none') return { field: field.field, remove: true };
      const ms = parseDuration(v);
      if (ms === undefined)
        throw new PreferenceFieldError(
          `${field.field}: "${value}" is not a duration: ${DURATION_FORM}, up to 30d, or none`,
        );
      return { field: field.field, value: durationText(ms) };
    }
    case 'quiet':
      try {
        const windows = parseQuietHours(v);
        return windows.length === 0
          ? { field: 'quiet', remove: true }
          : { field: 'quiet', value: quietHoursText(windows) };
      } catch (error) {
        if (error instanceof QuietHoursError)
          throw new PreferenceFieldError(`quiet: ${error.message}; the form is ${QUIET_FORM}`);
        throw error;
      }
  }
}
