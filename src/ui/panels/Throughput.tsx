import { Text } from 'ink';
import { useStore } from 'zustand';
import { useShallow } from 'zustand/react/shallow';
import { cell, compactNumber, sparkline } from '../format.js';
import { innerRows, innerWidth, Panel, type PanelProps } from './Panel.js';

const duration = (ms: number): string =>
  ms < 1000 ? `${ms}ms` : ms < 100_000 ? `${(ms / 1000).toFixed(1)}s` : `${Math.round(ms / 1000)}s`;

/** p50, p95 and p99 whole in the room there is: the longest form that fits, down to `p50/95/99 a/b/c`. */
export function latencyLine(latency: { p50: number; p95: number; p99: number; samples: number }, width: number) {
  const [a, b, c] =
    latency.samples === 0 ? ['-', '-', '-'] : [duration(latency.p50), duration(latency.p95), duration(latency.p99)];
  const forms = [
    `latency  p50 ${a}  p95 ${b}  p99 ${c}`,
    `latency p50 ${a} p95 ${b} p99 ${c}`,
    `p50 ${a}  p95 ${b}  p99 ${c}`,
    `p50 ${a} p95 ${b} p99 ${c}`,
  ];
  if (latency.samples === 0) return forms.find((f) => f.length <= width) ?? 'p50/95/99 -';
  // the narrowest: one unit for the three (80×24 leaves this panel 24 columns)
  const { p50, p95, p99 } = latency;
  const [unit, scale, digits] = p99 < 1000 ? ['ms', 1, 0] : p99 < 100_000 ? ['s', 1000, 1] : ['s', 1000, 0];
  const v = (ms: number): string => (ms / scale).toFixed(digits);
  return forms.find((f) => f.length <= width) ?? `p50/95/99 ${v(p50)}/${v(p95)}/${v(p99)}${unit}`;
}

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
      {latencyLine(s.latency, w)}
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
