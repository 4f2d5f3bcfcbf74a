import { defineChannel } from './channel.js';

export default defineChannel({
  name: 'push',
  label: 'Push',
  toggleKey: 'p',
  order: 3,
  addressField: 'pushToken',
  maxLength: 240,
  // the short line already says what the subject says ("Order … confirmed: …"): repeating it read twice
  format: (c) => c.short,
  sampleOptIn: (n) => n % 4 !== 1,
});
