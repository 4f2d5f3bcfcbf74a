import { defineChannel } from './channel.js';

export default defineChannel({
  name: 'sms',
  label: 'SMS',
  toggleKey: 'm',
  order: 2,
  addressField: 'phone',
  maxLength: 160,
  format: (c) => c.short,
  sampleOptIn: (n) => n % 2 === 0,
});
