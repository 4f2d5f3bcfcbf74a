import { defineChannel } from './channel.js';

export default defineChannel({
  name: 'push',
  label: 'Push',
  toggleKey: 'p',
  order: 3,
  addressField: 'pushToken',
  maxLength: 240,
  format: (c) => `${c.subject}: ${c.short}`,
});
