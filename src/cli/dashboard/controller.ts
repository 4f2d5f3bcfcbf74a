/**
 * Carries out what the keys ask for: inject events, toggle preferences in
 * Redis, pause and pace the producer, quit. The UI only calls these.
 */
import type { Pipeline } from '../../app/runtime.js';
import type { DashboardActions } from '../../ui/keymap.js';
import { KEPT_LENGTH } from '../../text/bound.js';
import { selectedUser, type DashboardStore, type UserRow } from '../../ui/store.js';

export const RATE_STEPS = [0, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000];

export function nextRate(current: number, direction: 1 | -1): number {
  if (direction > 0) return RATE_STEPS.find((r) => r > current) ?? current;
  return [...RATE_STEPS].reverse().find((r) => r < current) ?? 0;
}

/** Injections that wait for Kafka, at most: keys pressed while it connects, not a backlog. */
export const PENDING_INJECTIONS = 16;
/** Preference toggles that wait for Redis, at most. */
export const PENDING_TOGGLES = 16;

/** A key pressed before the service it needs answered; `userId` undefined: the user selected when it is carried out. */
interface Pending {
  what: string;
  userId: string | undefined;
}

export class DashboardController implements DashboardActions {
  /** Bumped on every preference write, so a users refresh that started before it is not applied over it. */
  prefsVersion = 0;
  /**
   * Set when the users, read once the pipeline had started (and seeded them where Redis answered), were
   * none: no user selected then means there are none, not that they are still to come.
   */
  usersRead = false;
  private readonly injections: Pending[] = [];
  private readonly toggles: Pending[] = [];
  private flushing = false;

  constructor(
    private readonly store: DashboardStore,
    private readonly current: () => Pipeline | undefined,
    private readonly onQuit: () => void,
  ) {}

  private notify(text: string, tone: 'info' | 'error' = 'info'): void {
    this.store.setState({ notice: { text, tone, at: Date.now() } });
  }

  /** Keys pressed while Kafka or Redis connect, waiting to be carried out. */
  pending(): { injections: number; toggles: number } {
    return { injections: this.injections.length, toggles: this.toggles.length };
  }

  private redisReady(): boolean {
    const pipeline = this.current();
    return pipeline !== undefined && (pipeline.embedded || pipeline.redis.status === 'ready');
  }

  /** The selected user, unless the dashboard keeps only a cut of its id (then it says so). */
  private actionableUser(): UserRow | undefined | 'cut' {
    const user = selectedUser(this.store.getState());
    if (user?.idCut) {
      this.notify(`the selected user's id is longer than ${KEPT_LENGTH} characters: act on it with redis-cli`, 'error');
      return 'cut';
    }
    return user;
  }

  private noUsers(): boolean {
    if (!this.usersRead || this.store.getState().users.length > 0) return false;
    this.notify('no user selected (are the users seeded? `eventstream-tui seed`)', 'error');
    return true;
  }

  inject(type: string): void {
    const user = this.actionableUser();
    if (user === 'cut' || this.noUsers()) return;
    const producer = this.current()?.producer;
    if (producer && user) return this.send(producer, type, user.id);
    const who = user ? user.id : 'the selected user';
    const why = !producer ? 'Kafka connecting' : 'the users are not read yet (Redis connecting)';
    if (this.injections.length >= PENDING_INJECTIONS) {
      return this.notify(
        `${type} for ${who} not queued: ${PENDING_INJECTIONS} injections already wait (${why})`,
        'error',
      );
    }
    this.injections.push({ what: type, userId: user?.id });
    const waiting = this.injections.length > 1 ? ` (${this.injections.length} waiting)` : '';
    this.notify(`${type} for ${who} queued: ${why}${waiting}`);
  }

  private send(producer: NonNullable<Pipeline['producer']>, type: string, userId: string): void {
    producer.inject(type, userId).then(
      () => this.notify(`${type} for ${userId} sent`),
      (error: unknown) => this.notify(`could not inject ${type} for ${userId}: ${(error as Error).message}`, 'error'),
    );
  }

  toggleChannel(channel: string): void {
    const user = this.actionableUser();
    if (user === 'cut' || this.noUsers()) return;
    if (user && this.redisReady()) return void this.write(channel, user.id);
    const who = user ? user.id : 'the selected user';
    if (this.toggles.length >= PENDING_TOGGLES) {
      return this.notify(
        `${channel} for ${who} not queued: ${PENDING_TOGGLES} toggles already wait for Redis`,
        'error',
      );
    }
    this.toggles.push({ what: channel, userId: user?.id });
    this.notify(`${channel} toggle for ${who} queued: Redis connecting`);
  }

  /** Flips `channel` for `userId` from what the screen shows, in Redis, then on the screen. */
  private async write(channel: string, userId: string): Promise<void> {
    const pipeline = this.current();
    const user = this.store.getState().users.find((u) => u.id === userId);
    if (!pipeline || !user) return this.notify(`${channel} not changed: user ${userId} is gone`, 'error');
    const value = user.prefs[channel] === 'on' ? 'off' : 'on';
    this.prefsVersion++;
    try {
      await pipeline.store.setPreference(user.id, channel, value);
      this.prefsVersion++;
      this.store.setState((s) => ({
        users: s.users.map((u) => (u.id === user.id ? { ...u, prefs: { ...u.prefs, [channel]: value } } : u)),
      }));
      this.notify(`${channel} ${value} for ${user.id} (HSET prefs:${user.id} ${channel} ${value})`);
    } catch (error) {
      this.notify(`could not change ${channel} for ${user.id}: ${(error as Error).message}`, 'error');
    }
  }

  /**
   * Carries out the keys that waited, each kind in the order pressed: toggles once Redis answers and the
   * users are read, injections once the producer is connected too (so a toggle pressed before them
   * holds for them). Called on every UI tick; cheap when idle.
   */
  async flush(): Promise<void> {
    if (this.flushing || (this.injections.length === 0 && this.toggles.length === 0)) return;
    this.flushing = true;
    try {
      const state = this.store.getState();
      if (this.usersRead && state.users.length === 0) {
        const dropped = this.injections.splice(0).length + this.toggles.splice(0).length;
        return this.notify(
          `${dropped} queued key(s) not carried out: no users (are the users seeded? \`eventstream-tui seed\`)`,
          'error',
        );
      }
      const fallback = selectedUser(state)?.id;
      if (this.toggles.length > 0 && this.redisReady() && state.users.length > 0) {
        for (const t of this.toggles.splice(0)) await this.write(t.what, t.userId ?? fallback ?? '');
      }
      const producer = this.current()?.producer;
      if (this.injections.length > 0 && producer && state.users.length > 0) {
        const sent: string[] = [];
        const failed: string[] = [];
        for (const i of this.injections.splice(0)) {
          const what = `${i.what} for ${i.userId ?? fallback}`;
          try {
            await producer.inject(i.what, i.userId ?? fallback ?? '');
            sent.push(what);
          } catch (error) {
            failed.push(`${what}: ${(error as Error).message}`);
          }
        }
        if (failed.length > 0) this.notify(`could not inject ${failed.join('; ')}`, 'error');
        else this.notify(sent.length === 1 ? `${sent[0]} sent` : `${sent.length} queued injections sent`);
      }
    } finally {
      this.flushing = false;
    }
  }

  moveSelection(delta: number): void {
    if (this.store.getState().users.length === 0) return this.notify('no users to select yet (Redis connecting)');
    this.store.setState((s) => ({ selected: Math.max(0, Math.min(s.users.length - 1, s.selected + delta)) }));
  }

  togglePause(): void {
    const producer = this.current()?.producer;
    const paused = !this.store.getState().producer.paused;
    producer?.setPaused(paused);
    this.store.setState((s) => ({ producer: { ...s.producer, paused } }));
    const later = producer ? '' : ' (from when Kafka is connected)';
    this.notify(paused ? 'scheduled producer paused (keys still inject)' : `scheduled producer resumed${later}`);
  }

  changeRate(direction: 1 | -1): void {
    const rate = nextRate(this.store.getState().producer.rate, direction);
    this.current()?.producer?.setRate(rate);
    this.store.setState((s) => ({ producer: { ...s.producer, rate } }));
    this.notify(`producer rate ${rate}/s${this.current()?.producer ? '' : ' (from when Kafka is connected)'}`);
  }

  toggleHelp(): void {
    this.store.setState((s) => ({ help: !s.help }));
  }

  closeOverlay(): void {
    if (this.store.getState().help) this.store.setState({ help: false });
  }

  quit(): void {
    const waiting = this.injections.length + this.toggles.length;
    this.notify(
      `quitting: settling the batch in flight…${waiting > 0 ? ` (${waiting} queued keys not carried out)` : ''}`,
    );
    this.onQuit();
  }
}
