import { defineChannel } from './channel.js';

/** Prints a human-readable line where the app shows logs (stderr when headless). Needs no address. */
export default defineChannel({
  name: 'console',
  label: 'Console',
  toggleKey: 'c',
  order: 4,
  maxLength: 500,
  format: (c) => c.short,
  echoed: true,
  sampleOptIn: (n) => n % 3 === 1,
});
