/**
 * The Users panel's rows, read from Redis on a timer. One read at a time: with thousands of users or a
 * slow Redis a read outlasts the timer's period, and reads started meanwhile would pile up on the
 * connection, each as long as the last. Unchanged rows (the usual case) cause no render at all.
 */
import type { ChannelDefinition } from '../../domain/channels/channel.js';
import type { UserRecord } from '../../pipeline/ports.js';
import { bound, KEPT_LENGTH } from '../../text/bound.js';
import type { UserRow } from '../../ui/store.js';

/** What a read needs of the pipeline (the `Pipeline` is one). */
export interface UsersSource {
  readonly embedded: boolean;
  readonly redis: { readonly status: string };
  readonly store: { listUsers(): Promise<UserRecord[]> };
  readonly catalog: { readonly channels: readonly Pick<ChannelDefinition, 'name' | 'addressField'>[] };
}

export class UsersFeed {
  private inFlight: Promise<void> | undefined;
  private signature = '';
  /** Rows read, with the preferences version they were read at, not yet taken by the UI tick. */
  private pending: { users: UserRow[]; version: number } | undefined;

  constructor(
    private readonly pipeline: UsersSource,
    /** Bumped by every preference write from a key: a read that started before one is not applied. */
    private readonly prefsVersion: () => number,
    private readonly startup: {
      /** Connected and seeded where Redis answered: users read after that are all there are. */
      connected: () => boolean;
      /** Called when a read after that finds no user at all (keys then say the users are not seeded). */
      noUsers: () => void;
    } = { connected: () => false, noUsers: () => undefined },
  ) {}

  /** Reads the users, unless a read is in flight: then it is that read's promise. */
  refresh(): Promise<void> {
    this.inFlight ??= this.read().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  /** The rows read since the last call, if still current; a stale read is dropped and the next one applied whatever it holds. */
  take(): UserRow[] | undefined {
    const pending = this.pending;
    this.pending = undefined;
    if (!pending) return undefined;
    if (pending.version === this.prefsVersion()) return pending.users;
    this.signature = '';
    return undefined;
  }

  private async read(): Promise<void> {
    const p = this.pipeline;
    if (!p.embedded && p.redis.status !== 'ready') return;
    const version = this.prefsVersion();
    const final = this.startup.connected();
    const records = await p.store.listUsers();
    if (final && records.length === 0) this.startup.noUsers();
    if (version !== this.prefsVersion()) return;
    // Bounded as they enter the store: a name or an id may be as long as Redis lets it be.
    const users = records.map((r) => ({
      id: bound(r.profile.id),
      ...(r.profile.id.length > KEPT_LENGTH ? { idCut: true } : {}),
      name: bound(r.profile.name ?? ''),
      prefs: r.prefs,
      reachable: Object.fromEntries(
        p.catalog.channels.map((c) => [c.name, !c.addressField || Boolean(r.profile[c.addressField])]),
      ),
    }));
    const signature = JSON.stringify(users);
    if (signature === this.signature) return;
    this.signature = signature;
    this.pending = { users, version };
  }
}
