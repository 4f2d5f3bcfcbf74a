import { defineChannel } from './channel.js';

export default defineChannel({
  name: 'email',
  label: 'Email',
  toggleKey: 'e',
  order: 1,
  addressField: 'email',
  maxLength: 10_000,
  format: (c) => `Subject: ${c.subject}\n\n${c.body}`,
  sampleOptIn: (n) => n % 7 !== 0,
});
