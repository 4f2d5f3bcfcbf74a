/**
 * The dashboard's state: a zustand vanilla store. The pipeline never touches
 * it; one UI tick copies a telemetry snapshot in, and the panels select what
 * they show.
 */
import { createStore, type StoreApi } from 'zustand/vanilla';
import type { Snapshot } from '../telemetry/collector.js';

export interface UserRow {
  id: string;
  name: string;
  prefs: Record<string, 'on' | 'off'>;
  /** Per channel: whether the user has the address that channel needs. */
  reachable: Record<string, boolean>;
  /** The id is longer than the dashboard keeps (text/bound.ts): `id` is its beginning, not a key to act on. */
  idCut?: boolean;
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

export interface DashboardState {
  snapshot: Snapshot;
  users: UserRow[];
  selected: number;
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
}

export type DashboardStore = StoreApi<DashboardState>;

export function emptySnapshot(now = Date.now()): Snapshot {
  return {
    totals: { produced: 0, consumed: 0, sent: 0, skipped: 0, duplicate: 0, failed: 0, deadletter: 0, errors: 0 },
    history: { produced: [], consumed: [], delivered: [] },
    perSecond: { produced: 0, consumed: 0, delivered: 0 },
    latency: { p50: 0, p95: 0, p99: 0, samples: 0 },
    stream: [],
    lookups: [],
    deliveries: [],
    kafka: { state: 'connecting', detail: '', since: now },
    redis: { state: 'connecting', detail: '', since: now },
    partitions: [],
    lastError: null,
    backlog: { unacknowledged: 0, full: false },
  };
}

export function createDashboardStore(
  initial: Partial<DashboardState> & Pick<DashboardState, 'info' | 'channels' | 'eventTypes'>,
): DashboardStore {
  return createStore<DashboardState>()(() => ({
    snapshot: emptySnapshot(),
    users: [],
    selected: 0,
    producer: { rate: 1, paused: false },
    partitionCount: null,
    lag: null,
    help: false,
    notice: null,
    startup: [],
    now: Date.now(),
    ...initial,
  }));
}

export function selectedUser(state: DashboardState): UserRow | undefined {
  return state.users[Math.min(state.selected, state.users.length - 1)];
}
