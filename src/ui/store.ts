/**
 * The dashboard's state: a zustand vanilla store. The pipeline never touches
 * it; one UI tick copies a telemetry snapshot in, and the panels select what
 * they show.
 */
import { createStore, type StoreApi } from 'zustand/vanilla';
import type { DeliveryRow, Snapshot, StreamRow } from '../telemetry/collector.js';
import type { EventDetail } from '../telemetry/event-details.js';
import { emptyTotals } from '../telemetry/telemetry.js';
import type { ViewId } from './views/registry.js';

export interface UserRow {
  id: string;
  name: string;
  prefs: Record<string, 'on' | 'off'>;
  /** Per channel: whether the user has the address that channel needs. */
  reachable: Record<string, boolean>;
  /** The id is longer than the dashboard keeps (text/bound.ts): `id` is its beginning, not a key to act on. */
  idCut?: boolean;
  /** The user's keys cannot be read (a key of another type): what Redis said, naming the key. */
  broken?: string;
  /** In the set, but `user:<id>` does not exist. */
  missing?: boolean;
  /** In quiet hours now (its rules at the pipeline's clock): until when, `07:00 Europe/Paris`. */
  quietUntil?: string;
}

/** A search of the user ids (`/` with the Users panel focused): SSCAN MATCH, bounded. */
export interface UserSearch {
  query: string;
  state: 'searching' | 'done';
  matches: number;
  /** Stopped at the most matches it keeps. */
  capped: boolean;
}

export interface ChannelInfo {
  name: string;
  label: string;
  toggleKey: string;
}

export interface EventTypeInfo {
  type: string;
  key: string;
  color: string;
}

export interface DashboardInfo {
  brokers: string;
  topic: string;
  group: string;
  redisUrl: string;
  logFile: string;
  /** What runs the pipeline: the real services, or a note such as EMBEDDED. */
  mode: string;
}

/** The panels Tab moves between; the Users panel has focus at start. */
export const FOCUS_ORDER = ['users', 'stream', 'deliveries'] as const;
export type FocusPanel = (typeof FOCUS_ORDER)[number];
export type RowPanel = 'stream' | 'deliveries';

/** What fills the body: the panels, or one of the views over them (src/ui/views/registry.ts). */
export type View = 'main' | ViewId;

/** A row the detail was opened from: shown as it is when the event's outcomes are no longer kept. */
export interface DetailRequest {
  key: string;
  from: { eventId: string; type: string; userId: string; where: string };
  data: EventDetail | null;
}

/** A dead letter as the view shows it: every string bounded and the value escaped. */
export interface LetterRow {
  partition: number;
  offset: string;
  writtenAt: number;
  reason: string;
  detail: string;
  channel: string | null;
  key: string | null;
  sourceTopic: string | null;
  /** `partition@offset` in the source topic, or '' when the letter does not say. */
  source: string;
  eventId: string | null;
  failedAt: string | null;
  /** The value's first bytes, escaped (JSON string rules), and its whole size. */
  value: string;
  valueBytes: number;
  headers: [string, string][];
}

export interface Loadable {
  state: 'idle' | 'loading' | 'ready' | 'error';
  message: string;
  /** When it was last read. */
  at: number;
}

export interface DeadLettersView extends Loadable {
  topic: string;
  letters: LetterRow[];
  inTopic: number;
  cursor: number;
}

export interface PartitionRow {
  partition: number;
  committed: string | null;
  end: string;
  lag: number;
  owner: string;
  /** Events appended per second since the previous read; null on the first read. */
  rate: number | null;
}

export interface PartitionsView extends Loadable {
  rows: PartitionRow[];
  group: string;
}

/** A Kafka node as the dashboard knows it: listed by the cluster now, or known (a replica, seen before) and not listed. */
export interface ClusterNode {
  id: number;
  /** `host:port` as the cluster named it (bounded, not yet sanitized); '' when never seen. */
  address: string;
  up: boolean;
}

/** One partition's leader and copies, as the cluster said. */
export interface ReplicaRow {
  partition: number;
  /** -1: no leader (offline). */
  leader: number;
  replicas: number[];
  isr: number[];
}

/**
 * The cluster's nodes and the topic's leaders and in-sync replicas (src/cli/dashboard/cluster.ts reads
 * them on a timer). On a failed read (`state` error, `message` why) the last layout read stays, as of `readAt`.
 */
export interface ClusterView extends Loadable {
  nodes: ClusterNode[];
  controller: number | null;
  partitions: ReplicaRow[];
  /** When the layout shown was read; 0: never. */
  readAt: number;
}

/** One cell of the preferences editor's grid: what the user gets of a type on a channel. */
export interface PrefsCell {
  channel: string;
  /** As the user set it: on, off, default (unset), or required by the type (not editable). */
  choice: 'on' | 'off' | 'default' | 'required';
  /** What `default` gives: the type's default on this channel. */
  def: 'on' | 'off';
}

/** The preferences editor (Enter on a Users row): one user's `prefs:<id>`, read from Redis. */
export interface PrefsEditor extends Loadable {
  userId: string;
  name: string;
  /** The channel switches, in channel order. */
  channels: { name: string; value: 'on' | 'off' }[];
  /** Rows: the event types, in catalog order; cells: the channels. */
  grid: { type: string; cells: PrefsCell[] }[];
  /** The zone the rules use, and the `tz` field as written when it is not one. */
  tz: string;
  /** The windows as written (normalised), or '' for none. */
  quiet: string;
  /** Fields that cannot be parsed (ignored by the pipeline). */
  invalid: string[];
  /** `cap.<channel>` per channel, in channel order: `3/1h`, or '' for none. */
  caps: { channel: string; value: string }[];
  /** `digest.<type>` per digestible type, in catalog order: the window (`10m`), or '' for none. */
  digests: { type: string; value: string }[];
  /** Whether the user is in quiet hours now, in words, and whether they are. */
  quietNow: string;
  inQuiet: boolean;
  /**
   * The cursor: row 0 the channel switches, 1… the event types, then the caps (a channel each), then
   * one row per digestible type (one cell); col a channel.
   */
  row: number;
  col: number;
}

/** A pending deferred send as the Scheduled view shows it (every string bounded). */
export interface ScheduledRow {
  eventId: string;
  userId: string;
  type: string;
  channel: string;
  dueAt: number;
  /** The due time in the user's zone: `07:00 Europe/Paris`. */
  dueLabel: string;
  reason: string;
  /** A digest's send: how many members it holds so far. */
  members?: number;
}

export interface ScheduledView extends Loadable {
  rows: ScheduledRow[];
  /** How many wait in all (the schedule's size). */
  pending: number;
  cursor: number;
  /** The pipeline's clock minus the wall clock when read (0 but under a test's clock offset). */
  skew: number;
}

export interface DashboardState {
  snapshot: Snapshot;
  /** The rows read around the selection: `users[i]` is user number `usersFrom + i` of the list. */
  users: UserRow[];
  usersFrom: number;
  /** How many users the panel pages through: the set (in a large one, as far as the dashboard scrolls), or a search's matches. */
  userCount: number;
  /** SCARD users; null until read, or when `users` is not a set. */
  userTotal: number | null;
  userSearch: UserSearch | null;
  /** Why no user can be listed (the key `users` is not a set), or null. */
  usersProblem: string | null;
  /** The selected user's number in the list (0 the first). */
  selected: number;
  /** The selection before a user search began: Esc on the search goes back to it. */
  selectedBeforeSearch: number;
  producer: { rate: number; paused: boolean };
  partitionCount: number | null;
  lag: number | null;
  info: DashboardInfo;
  channels: ChannelInfo[];
  eventTypes: EventTypeInfo[];
  help: boolean;
  notice: { text: string; at: number; tone: 'info' | 'error' } | null;
  /** Progress lines shown while the stack starts (empty once running). */
  startup: string[];
  now: number;
  focus: FocusPanel;
  /** Row cursor per panel: 0 is the newest row; above 0 the panel holds its rows (stops scrolling). */
  cursor: Record<RowPanel, number>;
  held: { stream: StreamRow[] | null; deliveries: DeliveryRow[] | null };
  /** Rows that came since the panel was held (its title counts them). */
  newRows: Record<RowPanel, number>;
  /** The filter applied; '' none. */
  filter: string;
  /** The filter being typed (after `/`), or null. */
  filterDraft: string | null;
  /** What the filter being typed is for: the rows of the panels, or (Users focused) a search of the user ids. */
  filterTarget: 'rows' | 'users';
  view: View;
  /** First line shown of a scrolling view (detail, letter). */
  scroll: number;
  detail: DetailRequest | null;
  deadLetters: DeadLettersView;
  partitions: PartitionsView;
  cluster: ClusterView;
  prefsEditor: PrefsEditor;
  scheduled: ScheduledView;
  /** The body's size on screen (set by the App): how far a view can scroll. */
  viewport: { columns: number; rows: number };
  /** A question waiting for y/n (the replay of a dead letter). */
  confirm: { question: string; letter: { partition: number; offset: string } } | null;
}

export type DashboardStore = StoreApi<DashboardState>;

export function emptySnapshot(now = Date.now()): Snapshot {
  return {
    totals: emptyTotals(),
    history: { produced: [], consumed: [], delivered: [] },
    perSecond: { produced: 0, consumed: 0, delivered: 0 },
    latency: { p50: 0, p95: 0, p99: 0, samples: 0 },
    stream: [],
    lookups: [],
    deliveries: [],
    kafka: { state: 'connecting', detail: '', since: now },
    redis: { state: 'connecting', detail: '', since: now },
    partitions: [],
    consumerStopped: false,
    lastError: null,
    backlog: { unacknowledged: 0, full: false },
    transports: [],
  };
}

/** The editor's row of the caps: after the channel switches (row 0) and the event types. */
export const capsRowOf = (e: Pick<PrefsEditor, 'grid'>): number => e.grid.length + 1;

/** What space steps a cap through: none → each of these → none; a value written otherwise → none. */
export const CAP_STEPS = ['1/1h', '3/1h', '10/1d'] as const;
/** What space steps a digest window through, alike. */
export const DIGEST_STEPS = ['1m', '10m', '1h', '1d'] as const;

export function emptyPrefsEditor(userId = '', name = ''): PrefsEditor {
  return {
    state: 'idle',
    message: '',
    at: 0,
    userId,
    name,
    channels: [],
    grid: [],
    tz: '',
    quiet: '',
    invalid: [],
    caps: [],
    digests: [],
    quietNow: '',
    inQuiet: false,
    row: 0,
    col: 0,
  };
}

export function createDashboardStore(
  initial: Partial<DashboardState> & Pick<DashboardState, 'info' | 'channels' | 'eventTypes'>,
): DashboardStore {
  return createStore<DashboardState>()(() => ({
    snapshot: emptySnapshot(),
    users: [],
    usersFrom: 0,
    userCount: 0,
    userTotal: null,
    userSearch: null,
    usersProblem: null,
    selected: 0,
    selectedBeforeSearch: 0,
    producer: { rate: 1, paused: false },
    partitionCount: null,
    lag: null,
    help: false,
    notice: null,
    startup: [],
    now: Date.now(),
    focus: 'users',
    cursor: { stream: 0, deliveries: 0 },
    held: { stream: null, deliveries: null },
    newRows: { stream: 0, deliveries: 0 },
    filter: '',
    filterDraft: null,
    filterTarget: 'rows',
    view: 'main',
    scroll: 0,
    detail: null,
    deadLetters: { state: 'idle', message: '', at: 0, topic: '', letters: [], inTopic: 0, cursor: 0 },
    partitions: { state: 'idle', message: '', at: 0, rows: [], group: '' },
    cluster: { state: 'idle', message: '', at: 0, nodes: [], controller: null, partitions: [], readAt: 0 },
    prefsEditor: emptyPrefsEditor(),
    scheduled: { state: 'idle', message: '', at: 0, rows: [], pending: 0, cursor: 0, skew: 0 },
    confirm: null,
    viewport: { columns: 80, rows: 20 },
    ...initial,
  }));
}

/** A whole list of users as the store holds it (every row read): for tests and small fixtures. */
export function allUsers(users: UserRow[]): Pick<DashboardState, 'users' | 'usersFrom' | 'userCount' | 'userTotal'> {
  return { users, usersFrom: 0, userCount: users.length, userTotal: users.length };
}

/** The selected user's row, when it was read (the rows around the selection are read as it moves). */
export function selectedUser(
  state: Pick<DashboardState, 'users' | 'usersFrom' | 'selected' | 'userCount'>,
): UserRow | undefined {
  const index = Math.min(state.selected, state.userCount - 1) - state.usersFrom;
  return index >= 0 ? state.users[index] : undefined;
}

/** The rows a panel shows: the ones it holds while its cursor is below the top, else the newest. */
export function panelRows(state: DashboardState, panel: 'stream'): StreamRow[];
export function panelRows(state: DashboardState, panel: 'deliveries'): DeliveryRow[];
export function panelRows(state: DashboardState, panel: RowPanel): StreamRow[] | DeliveryRow[] {
  return panel === 'stream'
    ? (state.held.stream ?? state.snapshot.stream)
    : (state.held.deliveries ?? state.snapshot.deliveries);
}

/** A new snapshot into the state: held panels keep their rows and count the ones that came since. */
export function withSnapshot(state: DashboardState, snapshot: Snapshot): Pick<DashboardState, 'snapshot' | 'newRows'> {
  const count = (held: { seq: number }[] | null, rows: { seq: number }[]): number => {
    if (!held) return 0;
    const top = held[0]?.seq ?? 0;
    let n = 0;
    for (const r of rows) if (r.seq > top) n++;
    return n;
  };
  return {
    snapshot,
    newRows: {
      stream: count(state.held.stream, snapshot.stream),
      deliveries: count(state.held.deliveries, snapshot.deliveries),
    },
  };
}
