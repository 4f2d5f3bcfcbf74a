import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CHANNELS_DIR, EVENTS_DIR, loadCatalog } from '../../src/domain/catalog.js';
import { planDeliveries, renderText } from '../../src/domain/rules.js';
import type { EventEnvelope } from '../../src/domain/envelope.js';

const catalog = await loadCatalog();
const ada = { id: 'u1', name: 'Ada', email: 'ada@example.com', phone: '+15550001', pushToken: 'tok' };
const allOn = { email: 'on', sms: 'on', push: 'on', console: 'on', webhook: 'on' } as const;
const event = (type: string, payload: Record<string, unknown>): EventEnvelope => ({
  id: 'e1',
  type,
  userId: 'u1',
  occurredAt: '2026-11-27T10:00:00Z',
  payload,
});

describe('the event catalog', () => {
  it('holds the three built-in event types and five channels in order', () => {
    expect([...catalog.eventTypes.keys()]).toEqual(['user_signup', 'item_purchased', 'password_reset']);
    expect(catalog.channels.map((c) => c.name)).toEqual(['email', 'sms', 'push', 'console', 'webhook']);
  });

  it.each(['user_signup', 'item_purchased', 'password_reset'])(
    '%s renders a message on every channel from a generated payload',
    (type) => {
      const def = catalog.eventTypes.get(type)!;
      let seed = 1;
      const payload = def.generatePayload(() => (seed = (seed * 16807) % 2147483647) / 2147483647);
      for (const channel of catalog.channels) {
        const text = renderText(def, channel, event(type, payload), ada);
        expect(text.length).toBeGreaterThan(5);
        expect(text.length).toBeLessThanOrEqual(channel.maxLength);
        // no phrase said twice (push once read "Order X confirmed: Order X confirmed: …")
        const words = text.split(/\s+/);
        const trigrams = words.slice(2).map((w, i) => `${words[i]} ${words[i + 1]} ${w}`);
        expect(new Set(trigrams).size, `${channel.name}: ${text}`).toBe(trigrams.length);
      }
    },
  );

  it('a payload with missing or extra fields changes the text, never drops the event', () => {
    const def = catalog.eventTypes.get('item_purchased')!;
    const plans = planDeliveries(
      event('item_purchased', { unexpected: { nested: true } }),
      def,
      ada,
      allOn,
      catalog.channels,
    );
    expect(plans.every((p) => p.action === 'send')).toBe(true);
    const email = plans.find((p) => p.channel === 'email');
    expect(email?.action === 'send' && email.text).toMatch(/your order/);
  });

  it('fits SMS into 160 characters', () => {
    const def = catalog.eventTypes.get('user_signup')!;
    const text = renderText(
      def,
      catalog.channels.find((c) => c.name === 'sms')!,
      event('user_signup', { plan: 'p'.repeat(500) }),
      ada,
    );
    expect(Array.from(text)).toHaveLength(160);
    expect(text.endsWith('…')).toBe(true);
  });
});

describe('preference rules', () => {
  const def = catalog.eventTypes.get('user_signup')!;
  const e = event('user_signup', { plan: 'pro' });

  it('sends on each channel that is on and has an address, and says why it skips the others', () => {
    const plans = planDeliveries(
      e,
      def,
      { id: 'u1', name: 'Ada', email: 'a@x' },
      { email: 'on', sms: 'on', push: 'off', console: 'off' },
      catalog.channels,
    );
    expect(plans.map((p) => [p.channel, p.action === 'skip' ? p.reason : p.action])).toEqual([
      ['email', 'send'],
      ['sms', 'no-address'],
      ['push', 'opted-out'],
      ['console', 'opted-out'],
      ['webhook', 'opted-out'],
    ]);
  });

  it('skips every channel with unknown-user when the user does not exist', () => {
    const plans = planDeliveries(e, def, undefined, undefined, catalog.channels);
    expect(plans.map((p) => p.action === 'skip' && p.reason)).toEqual([
      'unknown-user',
      'unknown-user',
      'unknown-user',
      'unknown-user',
      'unknown-user',
    ]);
  });

  it('treats a missing preference as off', () => {
    const plans = planDeliveries(e, def, ada, { email: 'on' } as Record<string, 'on' | 'off'>, catalog.channels);
    expect(plans.filter((p) => p.action === 'send').map((p) => p.channel)).toEqual(['email']);
  });
});

describe('Extending (the README steps)', () => {
  it('a new event type is one *.event file; a new channel is one *.channel file', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'etui-extend-'));
    const eventTypeModule = path.join(EVENTS_DIR, 'event-type.js').replace(/\.js$/, '.ts');
    const channelModule = path.join(CHANNELS_DIR, 'channel.ts');
    writeFileSync(
      path.join(dir, 'cart-abandoned.event.ts'),
      `import { defineEventType, displayName, text } from ${JSON.stringify(eventTypeModule.replace('/events/event-type.ts', '/event-type.ts'))};
export default defineEventType({
  type: 'cart_abandoned',
  description: 'A user left items in the cart.',
  key: 'a',
  order: 4,
  color: 'magenta',
  payloadFields: { items: 'how many items are in the cart' },
  generatePayload: (random) => ({ items: 1 + Math.floor(random() * 5) }),
  summarize: (p) => text(p, 'items', '?') + ' items',
  content: (p, user) => ({
    subject: 'You left something behind',
    body: 'Hi ' + displayName(user) + ', ' + text(p, 'items', 'some') + ' items are waiting in your cart.',
    short: text(p, 'items', 'Some') + ' items are waiting in your cart.',
  }),
});
`,
    );
    writeFileSync(
      path.join(dir, 'slack.channel.ts'),
      `import { defineChannel } from ${JSON.stringify(channelModule)};
export default defineChannel({ name: 'slack', label: 'Slack', toggleKey: 'g', order: 5, maxLength: 4000, format: (c) => '*' + c.subject + '* ' + c.short });
`,
    );
    const extended = await loadCatalog({ events: [EVENTS_DIR, dir], channels: [CHANNELS_DIR, dir] });
    expect(extended.eventTypes.has('cart_abandoned')).toBe(true);
    expect(extended.channels.map((c) => c.name)).toEqual(['email', 'sms', 'push', 'console', 'slack', 'webhook']);
    const def = extended.eventTypes.get('cart_abandoned')!;
    const plans = planDeliveries(
      event('cart_abandoned', { items: 3 }),
      def,
      ada,
      { ...allOn, slack: 'on' },
      extended.channels,
    );
    const slack = plans.find((p) => p.channel === 'slack');
    expect(slack).toMatchObject({
      action: 'send',
      text: '*You left something behind* 3 items are waiting in your cart.',
    });
  });

  it('refuses a new type whose key is taken, naming both', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'etui-clash-'));
    writeFileSync(
      path.join(dir, 'clash.channel.ts'),
      `export default { name: 'clash', label: 'Clash', toggleKey: 's', order: 9, maxLength: 10, format: () => '' };\n`,
    );
    await expect(loadCatalog({ channels: [CHANNELS_DIR, dir] })).rejects.toThrow(
      /key "s" is already taken by event type user_signup/,
    );
  });

  it('makes the channel-neutral content once per event, whatever the number of channels', () => {
    const def = catalog.eventTypes.get('item_purchased')!;
    let made = 0;
    const counting = {
      ...def,
      content: (...args: Parameters<typeof def.content>) => {
        made++;
        return def.content(...args);
      },
    };
    const e = event('item_purchased', { orderId: 'ord-1', item: 'e-reader', amount: 10, currency: 'USD' });
    const plans = planDeliveries(e, counting, ada, allOn, catalog.channels);
    expect(made).toBe(1);
    // the same texts as each channel rendered alone
    for (const plan of plans) {
      const channel = catalog.channels.find((c) => c.name === plan.channel)!;
      expect(plan).toMatchObject({ action: 'send', text: renderText(def, channel, e, ada) });
    }
  });
});

describe('the rules the event types declare', () => {
  it('password_reset requires email and is urgent; the other types require nothing and may wait', () => {
    const reset = catalog.eventTypes.get('password_reset')!;
    expect(reset.required).toEqual(['email']);
    expect(reset.urgent).toBe(true);
    for (const type of ['user_signup', 'item_purchased']) {
      const def = catalog.eventTypes.get(type)!;
      expect(def.required ?? []).toEqual([]);
      expect(def.urgent ?? false).toBe(false);
    }
    // every channel a type names is a channel of the catalog
    const names = new Set(catalog.channels.map((c) => c.name));
    for (const def of catalog.eventTypes.values())
      for (const name of [...(def.required ?? []), ...(def.offByDefault ?? [])]) expect(names.has(name)).toBe(true);
  });

  /** A directory holding one event-type file (plain object: the catalog checks it, not the compiler). */
  const eventDir = (type: string, extra = ''): string => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'etui-rules-'));
    writeFileSync(
      path.join(dir, 'odd.event.ts'),
      `export default { type: ${JSON.stringify(type)}, description: 'odd', key: 'o', order: 9, color: 'white', payloadFields: {}, generatePayload: () => ({}), summarize: () => '', content: () => ({ subject: '', body: '', short: '' })${extra} };\n`,
    );
    return dir;
  };
  const channelDir = (name: string): string => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'etui-rules-'));
    writeFileSync(
      path.join(dir, 'odd.channel.ts'),
      `export default { name: ${JSON.stringify(name)}, label: 'Odd', toggleKey: 'y', order: 9, maxLength: 10, format: () => '' };\n`,
    );
    return dir;
  };

  it.each(['tz', 'quiet', 'cap', 'digest'])(
    'refuses an event type named %s (a reserved preference name)',
    async (name) => {
      await expect(loadCatalog({ events: [EVENTS_DIR, eventDir(name)] })).rejects.toThrow(
        new RegExp(`event type "${name}" is a reserved preference name`),
      );
    },
  );

  it.each(['tz', 'quiet', 'cap', 'digest'])('refuses a channel named %s (a reserved preference name)', async (name) => {
    await expect(loadCatalog({ channels: [CHANNELS_DIR, channelDir(name)] })).rejects.toThrow(
      new RegExp(`channel "${name}" is a reserved preference name`),
    );
  });

  it('refuses a type whose name holds a dot (it would read as <type>.<channel>)', async () => {
    await expect(loadCatalog({ events: [EVENTS_DIR, eventDir('odd.sms')] })).rejects.toThrow(/no "\."/);
  });

  it('refuses a required or off-by-default channel that does not exist, naming it', async () => {
    await expect(loadCatalog({ events: [EVENTS_DIR, eventDir('odd_type', `, required: ['fax']`)] })).rejects.toThrow(
      /odd\.event\.ts: required names "fax", which is not a channel/,
    );
    await expect(
      loadCatalog({ events: [EVENTS_DIR, eventDir('odd_type', `, offByDefault: ['pager']`)] }),
    ).rejects.toThrow(/offByDefault names "pager", which is not a channel/);
  });

  it('a type requiring a channel from another directory loads (channels are known before types are checked)', async () => {
    const extended = await loadCatalog({
      events: [EVENTS_DIR, eventDir('odd_type', `, required: ['pager']`)],
      channels: [CHANNELS_DIR, channelDir('pager')],
    });
    expect(extended.eventTypes.get('odd_type')!.required).toEqual(['pager']);
  });
});
