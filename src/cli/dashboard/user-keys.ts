/**
 * The keys that act on the selected user: inject an event (Kafka) and toggle a preference (Redis).
 * Pressed before the service answers, they wait in a small bounded queue and are carried out once it
 * does (flush, on every UI tick).
 */
import type { Pipeline } from '../../app/runtime.js';
import { KEPT_LENGTH } from '../../text/bound.js';
import { sanitize } from '../../text/sanitize.js';
import { selectedUser, type DashboardStore, type UserRow } from '../../ui/store.js';
import type { Notify } from './view-state.js';

/** Injections that wait for Kafka, at most: keys pressed while it connects, not a backlog. */
export const PENDING_INJECTIONS = 16;
/** Preference toggles that wait for Redis, at most. */
export const PENDING_TOGGLES = 16;

/** A key pressed before the service it needs answered; `userId` undefined: the user selected when it is carried out. */
interface Pending {
  what: string;
  userId: string | undefined;
}

export class UserKeys {
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
    private readonly notify: Notify,
  ) {}

  /** Keys pressed while Kafka or Redis connect, waiting to be carried out. */
  pending(): { injections: number; toggles: number } {
    return { injections: this.injections.length, toggles: this.toggles.length };
  }

  /** The keys still waiting, in words: said on the terminal when the dashboard quits before they were carried out. */
  pendingKeys(): string[] {
    // Said on the terminal after the dashboard: the id escaped, as the dashboard showed it.
    const whom = (p: Pending): string => (p.userId === undefined ? 'the selected user' : sanitize(p.userId));
    return [
      ...this.injections.map((p) => `${p.what} for ${whom(p)}`),
      ...this.toggles.map((p) => `${p.what} toggle for ${whom(p)}`),
    ];
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
    if (user?.missing) {
      this.notify(`user ${sanitize(user.id)} is in the set "users" but has no hash user:${sanitize(user.id)}`, 'error');
      return 'cut';
    }
    if (user?.broken) {
      this.notify(`user ${sanitize(user.id)} cannot be read: ${sanitize(user.broken)}`, 'error');
      return 'cut';
    }
    return user;
  }

  private noUsers(): boolean {
    const state = this.store.getState();
    if (state.userSearch && state.userSearch.state === 'done' && state.userCount === 0) {
      this.notify(`no user id matches "${sanitize(state.userSearch.query)}" (Esc clears the search)`, 'error');
      return true;
    }
    if (!this.usersRead || state.userCount > 0) return false;
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
    const who = sanitize(userId);
    if (!pipeline) return this.notify(`${channel} not changed for ${who}: not connected`, 'error');
    this.prefsVersion++;
    try {
      // Scrolled out of the rows read since the key was pressed: what Redis holds decides the flip.
      const prefs =
        this.store.getState().users.find((u) => u.id === userId)?.prefs ??
        (await pipeline.store.getUser(userId))?.prefs;
      if (!prefs) return this.notify(`${channel} not changed: user ${who} is gone`, 'error');
      const value = prefs[channel] === 'on' ? 'off' : 'on';
      await pipeline.store.setPreference(userId, channel, value);
      this.prefsVersion++;
      this.store.setState((s) => ({
        users: s.users.map((u) => (u.id === userId ? { ...u, prefs: { ...u.prefs, [channel]: value } } : u)),
      }));
      this.notify(`${channel} ${value} for ${who} (HSET prefs:${who} ${channel} ${value})`);
    } catch (error) {
      this.notify(`could not change ${channel} for ${who}: ${sanitize((error as Error).message)}`, 'error');
    }
  }

  /**
   * Carries out the keys that waited, each kind in the order pressed: toggles once Redis answers and the
   * users are read, injections once the producer is connected too (so a toggle pressed before them
   * holds for them). Cheap when idle.
   */
  async flush(): Promise<void> {
    if (this.flushing || (this.injections.length === 0 && this.toggles.length === 0)) return;
    this.flushing = true;
    try {
      const state = this.store.getState();
      if (this.usersRead && state.userTotal === 0) {
        const dropped = this.injections.splice(0).length + this.toggles.splice(0).length;
        return this.notify(
          `${dropped} queued key(s) not carried out: no users (are the users seeded? \`eventstream-tui seed\`)`,
          'error',
        );
      }
      const fallback = selectedUser(state)?.id;
      if (this.toggles.length > 0 && this.redisReady() && fallback !== undefined) {
        for (const t of this.toggles.splice(0)) await this.write(t.what, t.userId ?? fallback ?? '');
      }
      const producer = this.current()?.producer;
      if (this.injections.length > 0 && producer && fallback !== undefined) {
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
}
