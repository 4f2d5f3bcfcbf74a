/** No error is invisible: the status bar counts them and shows the newest with its time. */
import { cleanup } from 'ink-testing-library';
import { afterEach, describe, expect, it } from 'vitest';
import { App } from '../../src/ui/App.js';
import type { Outcome } from '../../src/telemetry/outcomes.js';
import { makeStore, recordingActions, T0 } from './fixtures.js';
import { renderAt } from './render.js';

afterEach(() => cleanup());

const clockOf = (ms: number): string =>
  [new Date(ms).getHours(), new Date(ms).getMinutes(), new Date(ms).getSeconds()]
    .map((n) => String(n).padStart(2, '0'))
    .join(':');

const errors: Outcome[] = [
  { kind: 'connection', service: 'kafka', state: 'connected', detail: '', at: T0 },
  { kind: 'connection', service: 'redis', state: 'connected', detail: '', at: T0 },
  { kind: 'error', source: 'producer', message: 'producing 20 event(s) failed, kept for retry', at: T0 + 1000 },
  {
    kind: 'error',
    source: 'redis',
    message: 'Redis refused the look-up of user u1: WRONGTYPE Operation against a key holding the wrong kind of value',
    at: T0 + 5000,
  },
];

describe('errors on the dashboard', () => {
  it.each([
    [120, 40],
    [80, 24],
  ])('at %i×%i: the count and the newest error with its time, while the services are healthy', (columns, rows) => {
    const { store } = makeStore(errors);
    const r = renderAt(<App store={store} actions={recordingActions()} color={false} />, columns, rows);
    const line = r
      .frame()
      .split('\n')
      .find((l) => l.includes('⚠'));
    expect(line).toBeDefined();
    expect(line).toContain(`⚠ 2 errors, last ${clockOf(T0 + 5000)} redis: Redis refused the look-up of user u1`);
    // the group line is still there, whole
    expect(r.frame()).toMatch(/group notification-service/);
    expect(r.frame().split('\n').length).toBeLessThanOrEqual(rows);
  });

  it('the producer backlog Kafka has not acknowledged, and when it is full', () => {
    const { store } = makeStore([...errors, { kind: 'backlog', unacknowledged: 12_000, full: false, at: T0 + 6000 }]);
    const r = renderAt(<App store={store} actions={recordingActions()} color={false} />, 120, 40);
    expect(r.frame()).toMatch(/producer 1\/s \(12\.0k unacked\)/);
    const full = makeStore([{ kind: 'backlog', unacknowledged: 100_000, full: true, at: T0 }]);
    const r2 = renderAt(<App store={full.store} actions={recordingActions()} color={false} />, 120, 40);
    expect(r2.frame()).toMatch(/\(100(\.0)?k unacked, full\)/);
  });

  it('an error message of any length is cut to one line of the screen', () => {
    const { store } = makeStore([{ kind: 'error', source: 'redis', message: `ERR ${'é'.repeat(300_000)}`, at: T0 }]);
    const r = renderAt(<App store={store} actions={recordingActions()} color={false} />, 100, 30);
    const line = r
      .frame()
      .split('\n')
      .find((l) => l.includes('⚠'))!;
    expect(line.length).toBeLessThanOrEqual(100);
  });
});
