import { defineEventType, displayName, pick, text } from '../event-type.js';

export default defineEventType({
  type: 'user_signup',
  description: 'A user created an account.',
  key: 's',
  order: 1,
  color: 'green',
  payloadFields: {
    plan: 'the plan chosen at sign-up (free, pro, team)',
    referrer: 'where the user came from (optional)',
  },
  generatePayload: (random) => ({
    plan: pick(random, ['free', 'pro', 'team']),
    referrer: pick(random, ['search', 'friend', 'newsletter', 'ad']),
  }),
  summarize: (p) => `plan=${text(p, 'plan', '?')}`,
  content: (p, user) => ({
    subject: `Welcome to Eventstream, ${displayName(user)}!`,
    body: `Hi ${displayName(user)}, your ${text(p, 'plan', 'new')} account is ready. Start by setting up your notification preferences.`,
    short: `Welcome, ${displayName(user)}! Your ${text(p, 'plan', 'new')} account is ready.`,
  }),
  templates: {
    sms: (p, user) => `Eventstream: welcome ${displayName(user)}, your ${text(p, 'plan', 'new')} account is ready.`,
    push: (_p, user) => `Welcome aboard, ${displayName(user)} 🎉`,
  },
});
