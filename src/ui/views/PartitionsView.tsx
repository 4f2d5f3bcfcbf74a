import { useStore } from 'zustand';
import { useShallow } from 'zustand/react/shallow';
import { cell, clock, compactNumber } from '../format.js';
import { Command } from '../keys/commands.js';
import { ScrollView, type ViewLine, type ViewProps } from './ScrollView.js';
import type { ViewDescriptor } from './view.js';

/** `l`: one row per partition of the topic: committed and end offsets, lag, owner, events/s. */
export function PartitionsView({ store, theme, width, height }: ViewProps) {
  const { p, topic, scroll } = useStore(
    store,
    useShallow((s) => ({ p: s.partitions, topic: s.info.topic, scroll: s.scroll })),
  );
  const w = Math.max(0, width - 4);
  const num = 11;
  const ownerW = Math.max(8, w - 9 - num * 3 - 9 - 5);
  const header = {
    text: `${cell('partition', 9)} ${cell('committed', num, 'right')} ${cell('end', num, 'right')} ${cell('lag', num, 'right')} ${cell('owner', ownerW)} ${cell('events/s', 9, 'right')}`,
  };
  const lines: ViewLine[] =
    p.state === 'error'
      ? [{ text: p.message, color: 'red' }]
      : p.state !== 'ready'
        ? [{ text: p.message || 'reading…', dim: true }]
        : p.rows.map((r) => ({
            text: `${cell(String(r.partition), 9)} ${cell(r.committed ?? '-', num, 'right')} ${cell(r.end, num, 'right')} ${cell(compactNumber(r.lag), num, 'right')} ${cell(r.owner || '(no member)', ownerW)} ${cell(r.rate === null ? '…' : compactNumber(r.rate), 9, 'right')}`,
            color: r.lag > 0 ? 'yellow' : undefined,
          }));
  if (p.state === 'ready') {
    const lag = p.rows.reduce((n, r) => n + r.lag, 0);
    lines.push({
      text: `total lag ${compactNumber(lag)} · group ${p.group} · read ${clock(p.at)}, every second`,
      dim: true,
    });
  }
  return (
    <ScrollView
      title={`Partitions of ${topic}`}
      header={header}
      lines={lines}
      scroll={scroll}
      theme={theme}
      width={width}
      height={height}
    />
  );
}

export const partitionsView: ViewDescriptor<'partitions'> = {
  id: 'partitions',
  title: 'partitions of the topic: offsets, lag, owner, events/s',
  opens: Command.OpenPartitions,
  component: PartitionsView,
  scrollLimit: (s) => s.partitions.rows.length + 1 - (s.viewport.rows - 4),
};
