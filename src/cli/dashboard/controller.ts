/**
 * Carries out what the keys ask for: inject events, toggle preferences in
 * Redis, pause and pace the producer, quit. The UI only calls these.
 */
import type { Pipeline } from '../../pipeline/runtime.js';
import type { DashboardActions } from '../../ui/keymap.js';
import { selectedUser, type DashboardStore } from '../../ui/store.js';

export const RATE_STEPS = [0, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000];

export function nextRate(current: number, direction: 1 | -1): number {
  if (direction > 0) return RATE_STEPS.find((r) => r > current) ?? current;
  return [...RATE_STEPS].reverse().find((r) => r < current) ?? 0;
}

export class DashboardController implements DashboardActions {
  /** Bumped on every preference write, so a users refresh that started before it is not applied over it. */
  prefsVersion = 0;

  constructor(
    private readonly store: DashboardStore,
    private readonly current: () => Pipeline | undefined,
    private readonly onQuit: () => void,
  ) {}

  private notify(text: string, tone: 'info' | 'error' = 'info'): void {
    this.store.setState({ notice: { text, tone, at: Date.now() } });
  }

  inject(type: string): void {
    const user = selectedUser(this.store.getState());
    const producer = this.current()?.producer;
    if (!user) return this.notify('no user selected (are the users seeded? `eventstream-tui seed`)', 'error');
    if (!producer) return this.notify('Kafka is not connected yet: the event was not sent', 'error');
    producer.inject(type, user.id).then(
      () => this.notify(`injected ${type} for ${user.id}`),
      (error: unknown) => this.notify(`could not inject ${type}: ${(error as Error).message}`, 'error'),
    );
  }

  toggleChannel(channel: string): void {
    const user = selectedUser(this.store.getState());
    const pipeline = this.current();
    if (!user || !pipeline) return;
    const value = user.prefs[channel] === 'on' ? 'off' : 'on';
    this.prefsVersion++;
    pipeline.store.setPreference(user.id, channel, value).then(
      () => {
        this.prefsVersion++;
        this.store.setState((s) => ({
          users: s.users.map((u) => (u.id === user.id ? { ...u, prefs: { ...u.prefs, [channel]: value } } : u)),
        }));
        this.notify(`${channel} ${value} for ${user.id} (HSET prefs:${user.id} ${channel} ${value})`);
      },
      (error: unknown) =>
        this.notify(`could not change ${channel} for ${user.id}: ${(error as Error).message}`, 'error'),
    );
  }

  moveSelection(delta: number): void {
    this.store.setState((s) => ({ selected: Math.max(0, Math.min(s.users.length - 1, s.selected + delta)) }));
  }

  togglePause(): void {
    const producer = this.current()?.producer;
    const paused = !this.store.getState().producer.paused;
    producer?.setPaused(paused);
    this.store.setState((s) => ({ producer: { ...s.producer, paused } }));
    this.notify(paused ? 'scheduled producer paused (keys still inject)' : 'scheduled producer resumed');
  }

  changeRate(direction: 1 | -1): void {
    const rate = nextRate(this.store.getState().producer.rate, direction);
    this.current()?.producer?.setRate(rate);
    this.store.setState((s) => ({ producer: { ...s.producer, rate } }));
    this.notify(`producer rate ${rate}/s`);
  }

  toggleHelp(): void {
    this.store.setState((s) => ({ help: !s.help }));
  }

  quit(): void {
    this.notify('quitting: settling the batch in flight…');
    this.onQuit();
  }
}
