import { amount, defineEventType, displayName, pick, text } from '../event-type.js';

const ITEMS = ['mechanical keyboard', 'noise-cancelling headphones', 'espresso grinder', 'standing desk', 'e-reader'];

export default defineEventType({
  type: 'item_purchased',
  description: 'A user bought something.',
  key: 'b',
  order: 2,
  color: 'cyan',
  payloadFields: {
    orderId: 'the order number',
    item: 'what was bought',
    amount: 'the price, a number',
    currency: 'ISO currency code (default USD)',
  },
  generatePayload: (random) => ({
    orderId: `ord-${Math.floor(random() * 1e8)
      .toString(36)
      .padStart(6, '0')}`,
    item: pick(random, ITEMS),
    amount: Math.round((5 + random() * 495) * 100) / 100,
    currency: 'USD',
  }),
  summarize: (p) => `${text(p, 'item', 'item')} ${amount(p, 'amount') ?? ''}`.trim(),
  content: (p, user) => {
    const price = amount(p, 'amount');
    const what = text(p, 'item', 'your order');
    const order = text(p, 'orderId', 'your order');
    return {
      subject: `Order ${order} confirmed`,
      body: `Thanks ${displayName(user)}! We received ${order}: ${what}${price ? ` for ${price}` : ''}.`,
      short: `Order ${order} confirmed: ${what}${price ? `, ${price}` : ''}.`,
    };
  },
  // Several purchases within the user's digest window become one message: "3 purchases: …".
  digest: {
    content: (members, more, user) => {
      const count = members.length + more;
      const items = members.map((p) => text(p, 'item', 'an item'));
      const list = `${items.join(', ')}${more > 0 ? ` and ${more} more` : ''}`;
      // One total when every member's price is in one currency.
      const currencies = new Set(members.map((p) => text(p, 'currency', 'USD')));
      const amounts = members.map((p) => (typeof p.amount === 'number' && Number.isFinite(p.amount) ? p.amount : NaN));
      const total =
        more === 0 && currencies.size === 1 && amounts.every((a) => !Number.isNaN(a))
          ? ` · ${amounts.reduce((a, b) => a + b, 0).toFixed(2)} ${[...currencies][0]}`
          : '';
      return {
        subject: `${count} purchases confirmed`,
        body: `Thanks ${displayName(user)}! We received ${count} orders: ${list}${total}.`,
        short: `${count} purchases: ${list}${total}`,
      };
    },
  },
  templates: {
    sms: (p) => `Eventstream: order ${text(p, 'orderId', '')} confirmed (${text(p, 'item', 'your items')}).`,
  },
});
