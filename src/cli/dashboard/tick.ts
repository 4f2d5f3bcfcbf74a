/** What one UI tick copies into the store: the collector's rows as filtered now, and an open detail. */
import type { Collector } from '../../telemetry/collector.js';
import { withSnapshot, type DashboardState } from '../../ui/store.js';

/** Rows of each kind copied per tick: more than any terminal shows. */
export const TICK_ROWS = 80;

export function tickUpdate(state: DashboardState, collector: Collector, now = Date.now()): Partial<DashboardState> {
  const update: Partial<DashboardState> = {
    ...withSnapshot(state, collector.snapshot(TICK_ROWS, state.filter)),
    now,
  };
  // An open detail follows its event's outcomes as they settle (kept as last seen once evicted).
  if (state.view === 'detail' && state.detail) {
    update.detail = { ...state.detail, data: collector.detail(state.detail.key) ?? state.detail.data };
  }
  return update;
}
