/**
 * The event catalog and the channels, discovered from their folders: adding an
 * event type is one `*.event.ts` file in src/domain/events/, adding a channel is
 * one `*.channel.ts` file in src/domain/channels/. Nothing else lists them.
 */
import { readdirSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import path from 'node:path';
import type { ChannelDefinition } from './channels/channel.js';
import type { EventTypeDefinition } from './event-type.js';
import { RESERVED_FIELDS, RESERVED_PREFIXES } from './rules.js';

export interface Catalog {
  eventTypes: ReadonlyMap<string, EventTypeDefinition>;
  /** Both in their declared order. */
  channels: readonly ChannelDefinition[];
}

/** Keys the dashboard keeps for itself; event types and channels may not take them. */
export const RESERVED_KEYS = new Set(['q', '?', ' ', '+', '-', 'j', 'k', 'h', 'l', 'd', 'x', '/', 'S']);

export const EVENTS_DIR = fileURLToPath(new URL('./events/', import.meta.url));
export const CHANNELS_DIR = fileURLToPath(new URL('./channels/', import.meta.url));

async function discover<T>(dir: string, kind: 'event' | 'channel'): Promise<{ file: string; value: T }[]> {
  const pattern = new RegExp(`\\.${kind}\\.(js|ts)$`);
  const files = readdirSync(dir)
    .filter((f) => pattern.test(f) && !f.endsWith('.d.ts'))
    .sort();
  const found: { file: string; value: T }[] = [];
  for (const file of files) {
    const mod = (await import(pathToFileURL(path.join(dir, file)).href)) as { default?: T };
    if (!mod.default) throw new Error(`${path.join(dir, file)} has no default export (expected a ${kind} definition)`);
    found.push({ file, value: mod.default });
  }
  return found;
}

export async function loadCatalog(dirs: { events?: string[]; channels?: string[] } = {}): Promise<Catalog> {
  const events = (
    await Promise.all((dirs.events ?? [EVENTS_DIR]).map((d) => discover<EventTypeDefinition>(d, 'event')))
  ).flat();
  const channels = (
    await Promise.all((dirs.channels ?? [CHANNELS_DIR]).map((d) => discover<ChannelDefinition>(d, 'channel')))
  ).flat();
  const keys = new Map<string, string>();
  const claim = (key: string, owner: string): void => {
    if (key.length !== 1) throw new Error(`${owner}: key "${key}" must be one character`);
    if (RESERVED_KEYS.has(key)) throw new Error(`${owner}: key "${key}" is reserved by the dashboard`);
    const other = keys.get(key);
    if (other) throw new Error(`${owner}: key "${key}" is already taken by ${other}`);
    keys.set(key, owner);
  };
  // `prefs:<id>` holds channels, `<type>.<channel>`, and these: no channel or type may take their names.
  const reserved = new Set<string>([...RESERVED_FIELDS, ...RESERVED_PREFIXES]);
  const eventTypes = new Map<string, EventTypeDefinition>();
  events.sort((a, b) => a.value.order - b.value.order || a.value.type.localeCompare(b.value.type));
  for (const { file, value } of events) {
    if (eventTypes.has(value.type)) throw new Error(`${file}: event type "${value.type}" is defined twice`);
    if (!/^[a-z][a-z0-9_-]*$/.test(value.type))
      throw new Error(`${file}: event type "${value.type}" must be lower-case letters, digits, _ or - (no ".")`);
    if (reserved.has(value.type))
      throw new Error(
        `${file}: event type "${value.type}" is a reserved preference name (${[...reserved].join(', ')})`,
      );
    claim(value.key, `event type ${value.type}`);
    eventTypes.set(value.type, value);
  }
  const channelNames = new Set<string>();
  for (const { file, value } of channels) {
    if (!/^[a-z][a-z0-9_-]*$/.test(value.name))
      throw new Error(`${file}: channel name "${value.name}" must be lower-case`);
    if (channelNames.has(value.name)) throw new Error(`${file}: channel "${value.name}" is defined twice`);
    if (reserved.has(value.name))
      throw new Error(`${file}: channel "${value.name}" is a reserved preference name (${[...reserved].join(', ')})`);
    claim(value.toggleKey, `channel ${value.name}`);
    channelNames.add(value.name);
  }
  for (const { file, value } of events)
    for (const [what, names] of [
      ['required', value.required],
      ['offByDefault', value.offByDefault],
    ] as const)
      for (const name of names ?? [])
        if (!channelNames.has(name)) throw new Error(`${file}: ${what} names "${name}", which is not a channel`);
  return {
    eventTypes,
    channels: channels.map((c) => c.value).sort((a, b) => a.order - b.order || a.name.localeCompare(b.name)),
  };
}
