import { defineChannel } from './channel.js';

/**
 * A signed HTTP POST to one endpoint for every user (`--webhook-url`, a relay: its body names the user),
 * or the mock provider's outbox without one. Needs no address field.
 */
export default defineChannel({
  name: 'webhook',
  label: 'Webhook',
  toggleKey: 'w',
  order: 5,
  maxLength: 2_000,
  format: (c) => c.short,
  sampleOptIn: (n) => n % 5 === 2,
});
