/**
 * Carries out what the keys ask for: inject events, toggle preferences in
 * Redis, pause and pace the producer, quit. The UI only calls these.
 */
import type { Pipeline } from '../../app/runtime.js';
import type { DashboardActions } from '../../ui/keymap.js';
import { KEPT_LENGTH } from '../../text/bound.js';
import { sanitize } from '../../text/sanitize.js';
import { replayRefusal } from '../../pipeline/dead-letters.js';
import { letterKey, type EventDetail } from '../../telemetry/event-details.js';
import { FILTER_LENGTH } from '../../telemetry/row-filter.js';
import { buildKeymap } from '../../ui/keymap.js';
import { viewOf } from '../../ui/views/registry.js';
import {
  FOCUS_ORDER,
  panelRows,
  selectedUser,
  type DashboardStore,
  type LetterRow,
  type PartitionRow,
  type RowPanel,
  type DashboardState,
  type UserRow,
} from '../../ui/store.js';

/** The last line the help or a view can start at: its lines minus the rows it has (title, headings and border off). */
function scrollLimit(s: DashboardState): number {
  if (s.help) return buildKeymap(s.eventTypes, s.channels).length + 2 - (s.viewport.rows - 4);
  if (s.view === 'main') return 0;
  return viewOf(s.view).scrollLimit?.(s) ?? 0;
}

/**
 * What the inspect keys read: the collector's per-event detail, and Kafka (dead letters, partitions)
 * read off the render path. Undefined until the pipeline is open.
 */
export interface InspectSource {
  detail(key: string): EventDetail | undefined;
  deadLetters(): Promise<{ topic: string; letters: LetterRow[]; inTopic: number }>;
  /** Replays one letter; resolves with what to tell the user. */
  replay(letter: { partition: number; offset: string }): Promise<string>;
  partitions(): Promise<{ group: string; rows: PartitionRow[] }>;
  /** Writes the rows passing `filter` to a file in the working directory. */
  exportRows(filter: string): Promise<{ file: string; stream: number; deliveries: number }>;
}

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

/** Enter on a panel the filter left empty: the rows are hidden, not missing. */
const hiddenBy = (what: string, filter: string): string => `no ${what} matches the filter "${filter}" (Esc clears it)`;

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
  /** Selection moves pressed before the users were read: carried out once they are. */
  private pendingMove = 0;
  private flushing = false;

  constructor(
    private readonly store: DashboardStore,
    private readonly current: () => Pipeline | undefined,
    private readonly onQuit: () => void,
    private readonly inspect: () => InspectSource | undefined = () => undefined,
  ) {}

  private partitionsReading = false;
  /** `d` was pressed before Kafka answered: read on connect. */
  private lettersPending = false;
  private lettersReading = false;

  private notify(text: string, tone: 'info' | 'error' = 'info'): void {
    this.store.setState({ notice: { text, tone, at: Date.now() } });
  }

  /** Something read from a service is wrong (a user's key of another type): said on the status line. */
  warn(text: string): void {
    this.notify(sanitize(text), 'error');
  }

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
   * holds for them). Called on every UI tick; cheap when idle.
   */
  async flush(): Promise<void> {
    // `d` pressed before Kafka answered: the dead letters are read as soon as it does.
    if (this.lettersPending && this.inspect() && this.store.getState().view === 'deadletters') {
      this.lettersPending = false;
      void this.loadDeadLetters();
    }
    if (this.pendingMove !== 0 && this.store.getState().userCount > 0) {
      const delta = this.pendingMove;
      this.pendingMove = 0;
      this.moveSelection(delta);
    }
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

  moveSelection(delta: number): void {
    const state = this.store.getState();
    const move = state.help || state.view === 'main' ? undefined : viewOf(state.view).move;
    if (move) return this.store.setState(move(state, delta));
    if (state.help || state.view !== 'main') {
      const scroll = Math.max(0, Math.min(scrollLimit(state), state.scroll + delta));
      return this.store.setState({ scroll });
    }
    if (state.focus !== 'users') return this.moveCursor(state.focus, delta);
    if (state.userCount === 0) {
      // Pressed before the users are read (the first seconds): the selection moves once they are, before
      // any key that waits for a user, so `j j m` toggles the third user, as it would have once they show.
      if (state.userTotal === null && !state.userSearch && !state.usersProblem) {
        this.pendingMove += delta;
        return this.notify(
          `selection ${this.pendingMove > 0 ? '+' : ''}${this.pendingMove} queued: the users are not read yet`,
        );
      }
      if (state.userSearch) return this.notify(`no user id matches "${sanitize(state.userSearch.query)}"`);
      return this.notify(state.userTotal === 0 ? 'no users in Redis' : 'no users to select yet (Redis connecting)');
    }
    const selected = Math.max(0, Math.min(state.userCount - 1, state.selected + delta));
    this.store.setState({ selected });
    // A large set is paged in scan order as far as MAX_LOADED; past that, a search finds a user.
    const total = state.userTotal ?? 0;
    if (delta > 0 && selected === state.userCount - 1 && !state.userSearch && total > state.userCount) {
      this.notify(
        `the first ${state.userCount.toLocaleString('en-US')} of ${total.toLocaleString('en-US')} users (scan order): / searches the ids`,
      );
    }
  }

  /** Below the top row the panel holds the rows it shows, so the one under the cursor stays put. */
  private moveCursor(panel: RowPanel, delta: number): void {
    const state = this.store.getState();
    const rows = panelRows(state, panel as 'stream');
    if (rows.length === 0)
      return this.notify(`no rows in ${panel === 'stream' ? 'the event stream' : 'deliveries'} yet`);
    const cursor = Math.max(0, Math.min(rows.length - 1, state.cursor[panel] + delta));
    const held = cursor === 0 ? null : (state.held[panel] ?? rows);
    this.store.setState({
      cursor: { ...state.cursor, [panel]: cursor },
      held: { ...state.held, [panel]: held },
      newRows: cursor === 0 ? { ...state.newRows, [panel]: 0 } : state.newRows,
    });
  }

  private releaseRows(): void {
    this.store.setState({
      cursor: { stream: 0, deliveries: 0 },
      held: { stream: null, deliveries: null },
      newRows: { stream: 0, deliveries: 0 },
    });
  }

  moveFocus(direction: 1 | -1): void {
    const i = FOCUS_ORDER.indexOf(this.store.getState().focus);
    const focus = FOCUS_ORDER[(i + direction + FOCUS_ORDER.length) % FOCUS_ORDER.length]!;
    this.store.setState({ focus });
  }

  openDetail(): void {
    const state = this.store.getState();
    if (state.view === 'deadletters') {
      if (state.deadLetters.letters.length === 0) return this.notify('no dead letter to open');
      return this.store.setState({ view: 'letter', scroll: 0 });
    }
    if (state.focus === 'users') {
      return this.notify('Enter opens an event: Tab to the Event stream or Deliveries, pick a row with ↑↓');
    }
    const source = this.inspect();
    if (state.focus === 'stream') {
      const row = panelRows(state, 'stream')[state.cursor.stream];
      if (!row) return this.notify(state.filter ? hiddenBy('event', state.filter) : 'no event in the stream yet');
      const where = `${state.info.topic} p${row.partition}@${row.offset}`;
      const from = { eventId: row.eventId, type: row.type, userId: row.userId, where };
      const data = source?.detail(row.eventId) ?? null;
      return this.store.setState({ view: 'detail', scroll: 0, detail: { key: row.eventId, from, data } });
    }
    const row = panelRows(state, 'deliveries')[state.cursor.deliveries];
    if (!row) return this.notify(state.filter ? hiddenBy('delivery', state.filter) : 'no delivery yet');
    const where = row.letter ? `${row.letter.topic} p${row.letter.partition}@${row.letter.offset}` : '';
    const from = {
      eventId: row.letter && row.eventId === letterKey(row.letter.partition, row.letter.offset) ? '' : row.eventId,
      type: row.type,
      userId: row.userId,
      where,
    };
    const data = source?.detail(row.eventId) ?? null;
    this.store.setState({ view: 'detail', scroll: 0, detail: { key: row.eventId, from, data } });
  }

  /** `/`: with the Users panel focused, a search of the user ids; else the filter of the panels' rows. */
  startFilter(): void {
    this.store.setState((s) =>
      s.focus === 'users' && s.view === 'main'
        ? { filterDraft: s.userSearch?.query ?? '', filterTarget: 'users' }
        : { filterDraft: s.filter, filterTarget: 'rows' },
    );
  }

  typeFilter(text: string): void {
    this.store.setState((s) => ({ filterDraft: `${s.filterDraft ?? ''}${text}`.slice(0, FILTER_LENGTH) }));
  }

  eraseFilter(): void {
    this.store.setState((s) => ({
      filterDraft: Array.from(s.filterDraft ?? '')
        .slice(0, -1)
        .join(''),
    }));
  }

  applyFilter(): void {
    const state = this.store.getState();
    const text = state.filterDraft ?? '';
    if (state.filterTarget === 'users') {
      const userSearch = text ? { query: text, state: 'searching' as const, matches: 0, capped: false } : null;
      // The rows shown are the set's until the search's first read replaces them.
      return this.store.setState({ filterDraft: null, userSearch, selected: 0, users: [], usersFrom: 0 });
    }
    this.releaseRows();
    this.store.setState({ filter: text, filterDraft: null });
  }

  private clearUserSearch(): void {
    this.store.setState({ userSearch: null, selected: 0, users: [], usersFrom: 0 });
  }

  openDeadLetters(): void {
    this.store.setState((s) => ({ view: 'deadletters', scroll: 0, deadLetters: { ...s.deadLetters, cursor: 0 } }));
    void this.loadDeadLetters();
  }

  private async loadDeadLetters(): Promise<void> {
    // One read at a time: `d` pressed again while a read is under way waits for that one.
    if (this.lettersReading) return;
    const source = this.inspect();
    const set = (patch: Partial<ReturnType<DashboardStore['getState']>['deadLetters']>): void =>
      this.store.setState((s) => ({ deadLetters: { ...s.deadLetters, ...patch } }));
    if (!source) {
      this.lettersPending = true;
      return set({ state: 'loading', message: 'waiting for Kafka: read as soon as it answers' });
    }
    set({ state: 'loading', message: 'reading the dead-letter topic…' });
    this.lettersReading = true;
    try {
      const { topic, letters, inTopic } = await source.deadLetters();
      this.store.setState((s) => ({
        deadLetters: {
          ...s.deadLetters,
          state: 'ready',
          message: '',
          at: Date.now(),
          topic,
          letters,
          inTopic,
          cursor: Math.min(s.deadLetters.cursor, Math.max(0, letters.length - 1)),
        },
      }));
    } catch (error) {
      set({ state: 'error', message: (error as Error).message });
    } finally {
      this.lettersReading = false;
    }
  }

  replayLetter(): void {
    const { deadLetters } = this.store.getState();
    const letter = deadLetters.letters[deadLetters.cursor];
    if (!letter) return this.notify('no dead letter selected', 'error');
    // A letter that names another topic is refused before the question: y would only be refused after it.
    const refused = replayRefusal(letter, this.store.getState().info.topic);
    if (refused) return this.notify(`not replayed: ${sanitize(refused)}`, 'error');
    const to = letter.sourceTopic ?? '(unknown source topic)';
    const only = letter.reason === 'delivery-failed' && letter.channel ? `, ${letter.channel} only` : '';
    // y/n first: a long topic name may cut the end of the line at 80 columns, never the answer keys.
    this.store.setState({
      confirm: {
        question: `y/n: replay ${deadLetters.topic}/${letter.partition}/${letter.offset} (${letter.reason}${only}) to ${to}?`,
        letter: { partition: letter.partition, offset: letter.offset },
      },
    });
  }

  answer(yes: boolean): void {
    const confirm = this.store.getState().confirm;
    this.store.setState({ confirm: null });
    if (!confirm) return;
    if (!yes) return this.notify('replay cancelled');
    const source = this.inspect();
    if (!source) return this.notify('not replayed: not connected yet', 'error');
    source.replay(confirm.letter).then(
      (said) => {
        this.notify(said);
        void this.loadDeadLetters();
      },
      (error: unknown) => this.notify(`not replayed: ${(error as Error).message}`, 'error'),
    );
  }

  openPartitions(): void {
    this.store.setState({ view: 'partitions', scroll: 0 });
    void this.refreshPartitions();
  }

  /** Reads the partitions again while their view is open (the dashboard calls it every second). */
  async refreshPartitions(): Promise<void> {
    if (this.partitionsReading || this.store.getState().view !== 'partitions') return;
    const source = this.inspect();
    const set = (patch: Partial<ReturnType<DashboardStore['getState']>['partitions']>): void =>
      this.store.setState((s) => ({ partitions: { ...s.partitions, ...patch } }));
    if (!source) return set({ state: 'error', message: 'not connected yet (Kafka connecting)' });
    this.partitionsReading = true;
    if (this.store.getState().partitions.state !== 'ready') set({ state: 'loading', message: 'reading offsets…' });
    try {
      const { group, rows } = await source.partitions();
      set({ state: 'ready', message: '', at: Date.now(), group, rows });
    } catch (error) {
      set({ state: 'error', message: (error as Error).message });
    } finally {
      this.partitionsReading = false;
    }
  }

  exportRows(): void {
    const source = this.inspect();
    if (!source) return this.notify('nothing to export yet (the pipeline is starting)', 'error');
    const filter = this.store.getState().filter;
    source.exportRows(filter).then(
      ({ file, stream, deliveries }) =>
        // The file first: it is what the footer must show whole at 80 columns.
        this.notify(
          `exported to ${file}: ${stream} event(s), ${deliveries} deliver${deliveries === 1 ? 'y' : 'ies'}${filter ? ` matching "${filter}"` : ''}`,
        ),
      (error: unknown) => this.notify(`export failed: ${(error as Error).message}`, 'error'),
    );
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
    this.store.setState((s) => ({ help: !s.help, scroll: 0 }));
  }

  closeOverlay(): void {
    const s = this.store.getState();
    if (s.filterDraft !== null) {
      if (s.filterTarget === 'users') {
        this.store.setState({ filterDraft: null });
        if (s.userSearch) this.clearUserSearch();
        return;
      }
      if (s.filter !== '') this.releaseRows();
      return this.store.setState({ filterDraft: null, filter: '' });
    }
    if (s.confirm) return this.answer(false);
    if (s.help) return this.store.setState({ help: false, scroll: 0 });
    if (s.view !== 'main') {
      return this.store.setState(viewOf(s.view).close?.(s) ?? { view: 'main', detail: null, scroll: 0 });
    }
    if (s.focus === 'users' && s.userSearch) return this.clearUserSearch();
    if (s.filter !== '') {
      this.releaseRows();
      return this.store.setState({ filter: '' });
    }
    if (s.focus !== 'users' && s.cursor[s.focus] > 0) this.releaseRows();
  }

  quit(): void {
    const waiting = this.injections.length + this.toggles.length;
    this.notify(
      `quitting: settling the batch in flight…${waiting > 0 ? ` (${waiting} queued keys not carried out)` : ''}`,
    );
    this.onQuit();
  }
}
