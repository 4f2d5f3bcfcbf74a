import { defineEventType, displayName, text } from '../event-type.js';

export default defineEventType({
  type: 'password_reset',
  description: 'A user asked to reset their password.',
  key: 'r',
  order: 3,
  color: 'yellow',
  payloadFields: {
    code: 'the one-time reset code',
    ip: 'the address the request came from (optional)',
  },
  generatePayload: (random) => ({
    code: String(Math.floor(random() * 900000) + 100000),
    ip: `203.0.113.${Math.floor(random() * 254) + 1}`,
  }),
  summarize: (p) => `from ${text(p, 'ip', 'unknown address')}`,
  content: (p, user) => ({
    subject: 'Your password reset code',
    body: `Hi ${displayName(user)}, use code ${text(p, 'code', '(see the app)')} to reset your password. Not you? Ignore this message${p.ip ? ` (request from ${text(p, 'ip', '')})` : ''}.`,
    short: `Password reset code: ${text(p, 'code', 'see the app')}`,
  }),
  // A reset code always reaches the user's email, whatever their preferences, and at once: a code that
  // arrives after the user's quiet hours is useless.
  required: ['email'],
  urgent: true,
  templates: {
    sms: (p) => `Eventstream code ${text(p, 'code', '------')}. Never share it.`,
  },
});
