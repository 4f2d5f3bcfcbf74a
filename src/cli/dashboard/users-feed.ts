/**
 * The Users panel's rows, read from Redis on a timer and when the selection or the search moves. The
 * cost follows what is shown, never the number of users (a production Redis holds millions):
 *
 * - the count is one SCARD;
 * - the ids come from SSCAN, a page at a time, as far as the selection has gone (a small set, up to
 *   {@link SMALL_SET} ids, is read whole every time and sorted, so new users show at once);
 * - the hashes are read only for the {@link WINDOW} users around the selection;
 * - a search (`/` with the Users panel focused) is SSCAN MATCH over the set, in the background, up to
 *   {@link MATCH_LIMIT} matches.
 *
 * One read at a time: reads asked for meanwhile become one more read after it. Unchanged rows (the
 * usual case) cause no render at all. A user whose keys hold another type is a row that says so, and
 * the status bar says it once; the others stay live. A row says whether its user is in quiet hours now
 * (a cached quiet state per zone and windows: a look-up per row read).
 */
import type { UserRead } from '../../adapters/redis/store.js';
import { idGlob, UsersSetError } from '../../adapters/redis/store.js';
import type { ChannelDefinition } from '../../domain/channels/channel.js';
import { QuietHoursCache } from '../../domain/quiet-hours.js';
import { clockNow } from '../../pipeline/clock.js';
import { bound, KEPT_LENGTH } from '../../text/bound.js';
import type { DashboardState, UserRow, UserSearch } from '../../ui/store.js';

/** A set of at most this many ids is read whole on every refresh, and sorted. */
export const SMALL_SET = 2_000;
/** Users whose hashes are read on each refresh: around the selection, more than any terminal shows. */
export const WINDOW = 100;
/** Ids asked for per SSCAN call while paging, and while searching. */
export const SCAN_PAGE = 1_000;
export const SEARCH_PAGE = 10_000;
/** How far the selection can go in a large set, in scan order (then: search with /). */
export const MAX_LOADED = 100_000;
/** A search stops at this many matches. */
export const MATCH_LIMIT = 1_000;
/** Broken keys said on the status bar, at most (each once). */
const REPORTED_LIMIT = 1_000;

/** What a read needs of the pipeline (the `Pipeline` is one). */
export interface UsersSource {
  readonly embedded: boolean;
  readonly redis: { readonly status: string };
  readonly store: {
    countUsers(): Promise<number>;
    scanUserIds(cursor: string, count: number, match?: string): Promise<{ cursor: string; ids: string[] }>;
    readUsers(ids: readonly string[]): Promise<UserRead[]>;
  };
  readonly catalog: { readonly channels: readonly Pick<ChannelDefinition, 'name' | 'addressField'>[] };
}

/** What the panel shows now: where its selection is and what is searched. */
export interface UsersView {
  selected: number;
  search: string;
}

/** The users part of the dashboard's state, as one read found it. */
export type UsersPatch = Pick<
  DashboardState,
  'users' | 'usersFrom' | 'userCount' | 'userTotal' | 'userSearch' | 'usersProblem'
>;

/** The ids the panel pages through: the set in scan order (or sorted, when small), or a search's matches. */
interface IdList {
  ids: string[];
  seen: Set<string>;
  cursor: string;
  /** Scanned to the end. */
  complete: boolean;
}

const emptyList = (): IdList => ({ ids: [], seen: new Set(), cursor: '0', complete: false });

export class UsersFeed {
  private inFlight: Promise<void> | undefined;
  private again = false;
  private signature = '';
  /** Rows read, with the preferences version they were read at, not yet taken by the UI tick. */
  private pending: { patch: UsersPatch; version: number } | undefined;
  private set = emptyList();
  private small = true;
  private search: { query: string; list: IdList; scanning: boolean } | undefined;
  private readonly reported = new Set<string>();
  private setBroken = false;
  /** Quiet states per (zone, windows), until they change: the rows shown cost a look-up each. */
  private readonly quiet = new QuietHoursCache();

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
    private readonly view: () => UsersView = () => ({ selected: 0, search: '' }),
    /** Said once per broken key (the status bar's notice). */
    private readonly report: (text: string) => void = () => undefined,
  ) {}

  /** Reads the users, unless a read is in flight: then one more read follows it. */
  refresh(): Promise<void> {
    if (this.inFlight) {
      this.again = true;
      return this.inFlight;
    }
    this.inFlight = this.read().finally(() => {
      this.inFlight = undefined;
      if (this.again) {
        this.again = false;
        void this.refresh().catch(() => undefined);
      }
    });
    return this.inFlight;
  }

  /**
   * The rows read since the last call, if still current (no preference written since, and read for the
   * search shown, `search`); a stale read is dropped and the next one applied whatever it holds.
   */
  take(search = ''): UsersPatch | undefined {
    const pending = this.pending;
    this.pending = undefined;
    if (!pending) return undefined;
    // Read for a search that was changed or cleared since: the next read is for the one shown.
    const current = pending.version === this.prefsVersion() && (pending.patch.userSearch?.query ?? '') === search;
    if (current) return pending.patch;
    this.signature = '';
    return undefined;
  }

  /** The selection or the search moved past what was read: read again now, not at the next timer. */
  needsRead(state: Pick<DashboardState, 'selected' | 'users' | 'usersFrom' | 'userCount' | 'userSearch'>): boolean {
    const search = state.userSearch?.query ?? '';
    if (search !== (this.search?.query ?? '')) return true;
    if (this.search?.scanning || state.users.length === 0) return false; // the search reads as it finds; the timer reads the rest
    const end = state.usersFrom + state.users.length;
    const margin = Math.min(10, Math.floor(WINDOW / 4));
    const below = end < state.userCount && state.selected >= end - margin;
    const above = state.usersFrom > 0 && state.selected < state.usersFrom + margin;
    return below || above;
  }

  private async read(): Promise<void> {
    const p = this.pipeline;
    if (!p.embedded && p.redis.status !== 'ready') return;
    const version = this.prefsVersion();
    const final = this.startup.connected();
    const { selected, search } = this.view();
    let total: number;
    try {
      total = await p.store.countUsers();
    } catch (error) {
      if (!(error instanceof UsersSetError)) throw error;
      if (!this.setBroken) this.report(error.message);
      this.setBroken = true;
      return this.publish(
        { users: [], usersFrom: 0, userCount: 0, userTotal: null, userSearch: null, usersProblem: error.message },
        version,
      );
    }
    this.setBroken = false;
    if (final && total === 0) this.startup.noUsers();
    const small = total <= SMALL_SET;
    if (small !== this.small) {
      this.small = small;
      this.set = emptyList();
      this.search = undefined; // searched the other way: search again
    }
    // A small set is read whole every time (and searched in memory); a large one as far as the selection went.
    if (small || !search) await this.readIds(selected + WINDOW);
    if (search !== (this.search?.query ?? '') || (search && this.small)) this.startSearch(search);
    const list = this.search ? this.search.list : this.set;
    const count = this.search || this.small ? list.ids.length : Math.min(total, MAX_LOADED);
    const from = Math.max(0, Math.min(selected - Math.floor(WINDOW / 2), count - WINDOW));
    const reads = await p.store.readUsers(list.ids.slice(from, from + WINDOW));
    if (version !== this.prefsVersion()) return;
    const users = reads.map((r) => this.row(r));
    this.publish(
      {
        users,
        usersFrom: from,
        userCount: count,
        userTotal: total,
        usersProblem: null,
        userSearch: this.search
          ? {
              query: this.search.query,
              state: this.search.scanning ? 'searching' : 'done',
              matches: this.search.list.ids.length,
              capped: this.search.list.ids.length >= MATCH_LIMIT,
            }
          : null,
      },
      version,
    );
  }

  private publish(patch: UsersPatch, version: number): void {
    const signature = JSON.stringify(patch);
    if (signature === this.signature) return;
    this.signature = signature;
    this.pending = { patch, version };
  }

  /**
   * The set's ids as far as `need`: a small set whole and sorted, every time; a large one in scan
   * order, a page at a time from where the last read stopped, up to {@link MAX_LOADED}.
   */
  private async readIds(need: number): Promise<void> {
    const store = this.pipeline.store;
    if (this.small) {
      const list = emptyList();
      do {
        const page = await store.scanUserIds(list.cursor, SCAN_PAGE);
        list.cursor = page.cursor;
        add(list, page.ids, Infinity);
      } while (list.cursor !== '0');
      list.ids.sort();
      list.complete = true;
      this.set = list;
      return;
    }
    const list = this.set;
    const target = Math.min(need, MAX_LOADED);
    while (!list.complete && list.ids.length < target) {
      const page = await store.scanUserIds(list.cursor, SCAN_PAGE);
      list.cursor = page.cursor;
      add(list, page.ids, MAX_LOADED);
      if (list.cursor === '0') list.complete = true;
    }
  }

  /** A new search (or none): a small set is filtered at once; a large one is scanned in the background. */
  private startSearch(query: string): void {
    this.search = undefined;
    if (!query) return;
    const search = { query, list: emptyList(), scanning: true };
    this.search = search;
    if (this.small) {
      const needle = query.toLowerCase();
      for (const id of this.set.ids) if (id.toLowerCase().includes(needle)) add(search.list, [id], MATCH_LIMIT);
      search.list.complete = true;
      search.scanning = false;
      return;
    }
    void this.scanMatches(search).catch(() => {
      search.scanning = false;
    });
  }

  /** SSCAN MATCH to the end of the set or {@link MATCH_LIMIT} matches; the rows are read again as matches come. */
  private async scanMatches(search: NonNullable<UsersFeed['search']>): Promise<void> {
    const glob = idGlob(search.query);
    const list = search.list;
    let lastRead = Date.now();
    do {
      const page = await this.pipeline.store.scanUserIds(list.cursor, SEARCH_PAGE, glob);
      if (this.search !== search) return; // another search, or none, since
      list.cursor = page.cursor;
      add(list, page.ids, MATCH_LIMIT);
      if (Date.now() - lastRead > 250 && page.ids.length > 0) {
        lastRead = Date.now();
        void this.refresh().catch(() => undefined);
      }
    } while (list.cursor !== '0' && list.ids.length < MATCH_LIMIT);
    // Done: in order, as a small set is (the matches came in scan order).
    list.ids.sort();
    list.complete = true;
    search.scanning = false;
    void this.refresh().catch(() => undefined);
  }

  private row(read: UserRead): UserRow {
    const p = this.pipeline;
    // Bounded as they enter the store: a name or an id may be as long as Redis lets it be.
    const id = bound(read.id);
    const cut = read.id.length > KEPT_LENGTH ? { idCut: true } : {};
    if (read.broken) {
      if (!this.reported.has(read.broken.key) && this.reported.size < REPORTED_LIMIT) {
        this.reported.add(read.broken.key);
        this.report(`user ${read.id} skipped: ${read.broken.message}`);
      }
      return { id, ...cut, name: '', prefs: {}, reachable: {}, broken: bound(read.broken.message) };
    }
    if (!read.record) return { id, ...cut, name: '', prefs: {}, reachable: {}, missing: true };
    const r = read.record;
    const rules = r.rules;
    const state =
      rules && rules.quiet.length > 0 ? this.quiet.state(clockNow(), rules.tz, rules.quiet, rules.quietKey) : undefined;
    return {
      id,
      ...cut,
      ...(state?.quiet ? { quietUntil: state.untilLabel } : {}),
      name: bound(r.profile.name ?? ''),
      prefs: r.prefs,
      reachable: Object.fromEntries(
        p.catalog.channels.map((c) => [c.name, !c.addressField || Boolean(r.profile[c.addressField])]),
      ),
    };
  }
}

function add(list: IdList, ids: readonly string[], limit: number): void {
  for (const id of ids) {
    if (list.ids.length >= limit) return;
    if (list.seen.has(id)) continue;
    list.seen.add(id);
    list.ids.push(id);
  }
}

export type { UserSearch };
