/** A dashboard store filled the way the pipeline fills it, through the real collector. */
import { loadCatalog } from '../../src/domain/catalog.js';
import { Collector } from '../../src/telemetry/collector.js';
import type { Outcome } from '../../src/telemetry/outcomes.js';
import type { DashboardActions } from '../../src/ui/keymap.js';
import { allUsers, createDashboardStore, type DashboardStore, type UserRow } from '../../src/ui/store.js';

export const catalog = await loadCatalog();

export function users(): UserRow[] {
  return [
    {
      id: 'user-01',
      name: 'Ada Lovelace',
      prefs: { email: 'on', sms: 'off', push: 'off', console: 'on' },
      reachable: { email: true, sms: true, push: true, console: true },
    },
    {
      id: 'user-02',
      name: 'Alan Turing',
      prefs: { email: 'on', sms: 'on', push: 'on', console: 'off' },
      reachable: { email: true, sms: true, push: true, console: true },
    },
    {
      id: 'user-03',
      name: 'Grace Hopper',
      prefs: { email: 'on', sms: 'on', push: 'on', console: 'off' },
      reachable: { email: true, sms: false, push: true, console: true },
    },
  ];
}

export function makeStore(
  outcomes: Outcome[] = [],
  now = Date.parse('2026-11-27T12:00:00Z'),
): { store: DashboardStore; collector: Collector } {
  let clock = now;
  const collector = new Collector(() => clock);
  for (const o of outcomes) {
    clock = Math.max(clock, o.at);
    collector.listener(o);
  }
  const store = createDashboardStore({
    info: {
      brokers: 'localhost:9092',
      topic: 'user_events',
      group: 'notification-service',
      redisUrl: 'redis://127.0.0.1:6379',
      logFile: '/tmp/etui.log',
      mode: '',
    },
    channels: catalog.channels.map((c) => ({ name: c.name, label: c.label, toggleKey: c.toggleKey })),
    eventTypes: [...catalog.eventTypes.values()].map((e) => ({ type: e.type, key: e.key, color: e.color })),
    ...allUsers(users()),
    snapshot: collector.snapshot(),
    partitionCount: 3,
    lag: 0,
    now,
  });
  return { store, collector };
}

export function recordingActions(): DashboardActions & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    inject: (type) => calls.push(`inject ${type}`),
    toggleChannel: (c) => calls.push(`toggle ${c}`),
    moveSelection: (d) => calls.push(`move ${d}`),
    togglePause: () => calls.push('pause'),
    changeRate: (d) => calls.push(`rate ${d}`),
    toggleHelp: () => calls.push('help'),
    closeOverlay: () => calls.push('close'),
    quit: () => calls.push('quit'),
    moveFocus: (d) => calls.push(`focus ${d}`),
    openDetail: () => calls.push('detail'),
    moveAcross: (d) => calls.push(`across ${d}`),
    toggleCell: () => calls.push('toggle cell'),
    openScheduled: () => calls.push('scheduled'),
    startFilter: () => calls.push('filter'),
    typeFilter: (t) => calls.push(`type ${t}`),
    eraseFilter: () => calls.push('erase'),
    applyFilter: () => calls.push('apply'),
    openDeadLetters: () => calls.push('dead letters'),
    openPartitions: () => calls.push('partitions'),
    exportRows: () => calls.push('export'),
    replayLetter: () => calls.push('replay'),
    answer: (yes) => calls.push(`answer ${yes}`),
  };
}

export const T0 = Date.parse('2026-11-27T12:00:00Z');

export function flow(eventId: string, userId: string, type = 'user_signup', at = T0): Outcome[] {
  return [
    { kind: 'produced', eventId, type, userId, at },
    { kind: 'consumed', eventId, type, userId, partition: 1, offset: '41', summary: 'plan=pro', at: at + 2 },
    { kind: 'lookup', eventId, userId, found: true, channelsOn: ['email', 'console'], latencyMs: 1, at: at + 3 },
    {
      kind: 'delivery',
      eventId,
      type,
      userId,
      channel: 'email',
      status: 'sent',
      reason: null,
      latencyMs: 7,
      attempts: 1,
      address: 'ada@example.com',
      text: 'Subject: Welcome',
      at: at + 7,
    },
    {
      kind: 'delivery',
      eventId,
      type,
      userId,
      channel: 'sms',
      status: 'skipped',
      reason: 'opted-out',
      latencyMs: 7,
      attempts: 0,
      at: at + 7,
    },
  ];
}
