/**
 * What the keys change on the screen only: the selection, the panels' cursors and focus, the filter
 * and the user search, the help and the views over the panels. Store updates, no I/O: what reads or
 * writes Kafka and Redis is in user-keys.ts, producer-keys.ts and inspect-actions.ts.
 */
import { sanitize } from '../../text/sanitize.js';
import { letterKey, type EventDetail } from '../../telemetry/event-details.js';
import { FILTER_LENGTH } from '../../telemetry/row-filter.js';
import { buildKeymap } from '../../ui/keymap.js';
import { helpNotes } from '../../ui/panels/HelpOverlay.js';
import { viewOf, type ViewId } from '../../ui/views/registry.js';
import { FOCUS_ORDER, panelRows, type DashboardState, type DashboardStore, type RowPanel } from '../../ui/store.js';

/** Says something on the footer for a few seconds. */
export type Notify = (text: string, tone?: 'info' | 'error') => void;

export function notifier(store: DashboardStore): Notify {
  return (text, tone = 'info') => store.setState({ notice: { text, tone, at: Date.now() } });
}

/** The last line the help or a view can start at: its lines minus the rows it has (title, headings and border off). */
export function scrollLimit(s: DashboardState): number {
  if (s.help) return buildKeymap(s.eventTypes, s.channels).length + helpNotes('').length - (s.viewport.rows - 4);
  if (s.view === 'main') return 0;
  return viewOf(s.view).scrollLimit?.(s) ?? 0;
}

/** Enter on a panel the filter left empty: the rows are hidden, not missing. */
const hiddenBy = (what: string, filter: string): string => `no ${what} matches the filter "${filter}" (Esc clears it)`;

export class ViewState {
  /** Selection moves pressed before the users were read: carried out once they are. */
  private pendingMove = 0;

  constructor(
    private readonly store: DashboardStore,
    private readonly notify: Notify,
    /** The collector's detail of an event, when the pipeline is open (an in-memory read). */
    private readonly detailOf: (key: string) => EventDetail | undefined,
    /** Enter with the Users panel focused: the selected user's preferences editor (it reads Redis). */
    private readonly editUser: () => void = () =>
      this.notify('Enter opens an event: Tab to the Event stream or Deliveries, pick a row with ↑↓'),
  ) {}

  /** Moves that waited for the users, once they are read (called on every UI tick, before queued keys). */
  flushMove(): void {
    if (this.pendingMove !== 0 && this.store.getState().userCount > 0) {
      const delta = this.pendingMove;
      this.pendingMove = 0;
      this.moveSelection(delta);
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

  /** ←→: a view's column cursor (the preferences editor's channel); elsewhere nothing. */
  moveAcross(delta: number): void {
    const state = this.store.getState();
    const across = state.help || state.view === 'main' ? undefined : viewOf(state.view).moveAcross;
    if (across) this.store.setState(across(state, delta));
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

  /** A view over the panels, from its first line; `patch`: what else opening it sets. */
  openView(view: ViewId, patch: (s: DashboardState) => Partial<DashboardState> = () => ({})): void {
    this.store.setState((s) => ({ view, scroll: 0, ...patch(s) }));
  }

  openDetail(): void {
    const state = this.store.getState();
    if (state.view === 'deadletters') {
      if (state.deadLetters.letters.length === 0) return this.notify('no dead letter to open');
      return this.openView('letter');
    }
    if (state.view !== 'main') return;
    if (state.focus === 'users') return this.editUser();
    if (state.focus === 'stream') {
      const row = panelRows(state, 'stream')[state.cursor.stream];
      if (!row) return this.notify(state.filter ? hiddenBy('event', state.filter) : 'no event in the stream yet');
      const where = `${state.info.topic} p${row.partition}@${row.offset}`;
      const from = { eventId: row.eventId, type: row.type, userId: row.userId, where };
      const data = this.detailOf(row.eventId) ?? null;
      return this.openView('detail', () => ({ detail: { key: row.eventId, from, data } }));
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
    const data = this.detailOf(row.eventId) ?? null;
    this.openView('detail', () => ({ detail: { key: row.eventId, from, data } }));
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
      // The selection before the first search of a row of searches is where Esc goes back to.
      const selectedBeforeSearch = state.userSearch ? state.selectedBeforeSearch : state.selected;
      if (!userSearch) return this.clearUserSearch();
      return this.store.setState({
        filterDraft: null,
        userSearch,
        selected: 0,
        users: [],
        usersFrom: 0,
        selectedBeforeSearch,
      });
    }
    this.releaseRows();
    this.store.setState({ filter: text, filterDraft: null });
  }

  private clearUserSearch(): void {
    this.store.setState((s) => ({
      filterDraft: null,
      userSearch: null,
      selected: s.userSearch ? s.selectedBeforeSearch : s.selected,
      users: [],
      usersFrom: 0,
    }));
  }

  toggleHelp(): void {
    this.store.setState((s) => ({ help: !s.help, scroll: 0 }));
  }

  /** n or Esc to a question: nothing done. */
  cancelQuestion(): void {
    const asked = this.store.getState().confirm;
    this.store.setState({ confirm: null });
    if (asked) this.notify('replay cancelled');
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
    if (s.confirm) return this.cancelQuestion();
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
}
