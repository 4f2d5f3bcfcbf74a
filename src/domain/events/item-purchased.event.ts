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
  templates: {
    sms: (p) => `Eventstream: order ${text(p, 'orderId', '')} confirmed (${text(p, 'item', 'your items')}).`,
  },
});
