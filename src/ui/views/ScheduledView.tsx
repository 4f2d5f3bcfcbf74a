import { useStore } from 'zustand';
import { useShallow } from 'zustand/react/shallow';
import { cell, clock, idCell } from '../format.js';
import { Command } from '../keys/commands.js';
import type { ScheduledRow } from '../store.js';
import { movedCursor, ScrollView, statusLines, type ViewLine, type ViewProps } from './ScrollView.js';
import type { ViewDescriptor } from './view.js';

/** How long until `ms`: `in 45s`, `in 12m`, `in 7h05m`, `in 2d3h`; `due now` once passed. */
export function until(ms: number): string {
  if (ms <= 0) return 'due now';
  const s = Math.ceil(ms / 1000);
  if (s < 60) return `in ${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `in ${m}m`;
  const h = Math.floor(m / 60);
  if (h < 24) return `in ${h}h${String(m % 60).padStart(2, '0')}m`;
  return `in ${Math.floor(h / 24)}d${h % 24}h`;
}

const columns = (width: number) => {
  const due = 24;
  const inW = 10;
  const channel = 8;
  const type = 15;
  const user = Math.max(8, Math.min(24, Math.floor(width / 6)));
  const event = Math.max(0, width - due - inW - channel - type - user - 5);
  return { due, inW, channel, type, user, event };
};

function row(r: ScheduledRow, width: number, now: number): string {
  const c = columns(width);
  return [
    cell(r.dueLabel, c.due),
    cell(until(r.dueAt - now), c.inW),
    idCell(r.userId, c.user),
    cell(r.type, c.type),
    cell(r.channel, c.channel),
    // An open digest: its id and how many events it holds so far.
    cell(r.members !== undefined ? `digest of ${r.members} · ${r.eventId}` : r.eventId, c.event),
  ].join(' ');
}

/** `S`: the pending deferred sends (quiet hours), soonest due first, read from Redis every second while open. */
export function ScheduledView({ store, theme, width, height }: ViewProps) {
  const { sc, now } = useStore(
    store,
    useShallow((s) => ({ sc: s.scheduled, now: s.now })),
  );
  const w = Math.max(0, width - 4);
  const c = columns(w);
  const header = {
    text: [
      cell('due (user’s zone)', c.due),
      cell('', c.inW),
      cell('user', c.user),
      cell('type', c.type),
      cell('channel', c.channel),
      cell('event id (or digest)', c.event),
    ].join(' '),
  };
  const status = statusLines(sc, sc.rows.length, 'no deferred send waits');
  // The pipeline's clock (a test may shift it): the skew read with the rows.
  const at = now + sc.skew;
  const lines: ViewLine[] = [...status, ...sc.rows.map((r, i) => ({ text: row(r, w, at), inverse: i === sc.cursor }))];
  if (sc.state === 'ready' && sc.pending > sc.rows.length) {
    lines.push({ text: `… the soonest ${sc.rows.length} of ${sc.pending} shown`, dim: true });
  }
  const rows = Math.max(1, height - 4);
  const count = sc.state === 'ready' ? ` (${sc.pending})` : '';
  const read = sc.state === 'ready' ? `, read ${clock(sc.at)}` : '';
  return (
    <ScrollView
      title={`Scheduled${count}: deferred sends, soonest first${read} · S reload`}
      header={header}
      lines={lines}
      scroll={Math.max(0, sc.cursor + status.length - rows + 1)}
      theme={theme}
      width={width}
      height={height}
    />
  );
}

export const scheduledView: ViewDescriptor<'scheduled'> = {
  id: 'scheduled',
  title: 'pending deferred sends, soonest due first',
  opens: Command.OpenScheduled,
  component: ScheduledView,
  move: (s, delta) => ({
    scheduled: { ...s.scheduled, cursor: movedCursor(s.scheduled.cursor, delta, s.scheduled.rows.length) },
  }),
};
