import { Text } from 'ink';
import { useStore } from 'zustand';
import { useShallow } from 'zustand/react/shallow';
import { cell, compactNumber, sparkline } from '../format.js';
import { innerRows, innerWidth, Panel, type PanelProps } from './Panel.js';

/** Per-second rates now and over 60 s, totals, produce-to-deliver latency percentiles. */
export function Throughput({ store, theme, width, height }: PanelProps) {
  const s = useStore(
    store,
    useShallow((st) => ({
      history: st.snapshot.history,
      perSecond: st.snapshot.perSecond,
      totals: st.snapshot.totals,
      latency: st.snapshot.latency,
    })),
  );
  const w = innerWidth(width);
  const sparkW = Math.max(0, w - 18);
  const line = (label: string, now: number, values: number[], color: string) => (
    <Text wrap="truncate-end">
      {cell(label, 9)}
      {cell(`${compactNumber(now)}/s`, 8, 'right')} <Text color={theme.color(color)}>{sparkline(values, sparkW)}</Text>
    </Text>
  );
  const t = s.totals;
  const lines = [
    line('produced', s.perSecond.produced, s.history.produced, 'cyan'),
    line('consumed', s.perSecond.consumed, s.history.consumed, 'blue'),
    line('delivered', s.perSecond.delivered, s.history.delivered, 'green'),
    <Text key="totals" wrap="truncate-end">
      {`sent ${compactNumber(t.sent)} · skipped ${compactNumber(t.skipped)} · dup ${compactNumber(t.duplicate)}`}
    </Text>,
    <Text key="problems" wrap="truncate-end">
      <Text color={theme.color(t.failed > 0 ? 'red' : undefined)}>{`failed ${compactNumber(t.failed)}`}</Text>
      {' · '}
      <Text
        color={theme.color(t.deadletter > 0 ? 'magenta' : undefined)}
      >{`dead letters ${compactNumber(t.deadletter)}`}</Text>
      {` · events ${compactNumber(t.consumed)}`}
    </Text>,
    <Text key="latency" wrap="truncate-end">
      {s.latency.samples === 0
        ? 'latency  p50 -  p95 -  p99 -'
        : `latency  p50 ${s.latency.p50}ms  p95 ${s.latency.p95}ms  p99 ${s.latency.p99}ms`}
    </Text>,
  ];
  return (
    <Panel title="Throughput (60 s)" width={width} height={height}>
      {lines.slice(0, innerRows(height)).map((l, i) => (
        <Text key={i} wrap="truncate-end">
          {l}
        </Text>
      ))}
    </Panel>
  );
}
