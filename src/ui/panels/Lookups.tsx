import { Text } from 'ink';
import { useStore } from 'zustand';
import { cell, idCell } from '../format.js';
import { innerRows, innerWidth, Panel, type PanelProps } from './Panel.js';

/** Redis look-ups: user, channels on, found or unknown, latency. */
export function Lookups({ store, theme, width, height }: PanelProps) {
  const rows = innerRows(height);
  const lookups = useStore(store, (s) => s.snapshot.lookups);
  const channels = useStore(store, (s) => s.channels);
  const w = innerWidth(width);
  const showFound = w >= 30;
  const userW = Math.max(6, w - channels.length - (showFound ? 9 : 1) - 6);
  return (
    <Panel title="Redis look-ups" width={width} height={height}>
      {lookups.slice(0, rows).map((l, i) => (
        <Text key={i} wrap="truncate-end">
          {idCell(l.userId, userW)}{' '}
          {l.found ? (
            channels.map((c) => {
              const on = l.channelsOn.includes(c.name);
              return (
                <Text key={c.name} color={theme.color(on ? 'green' : 'gray')} dimColor={!on}>
                  {on ? c.toggleKey.toUpperCase() : '·'}
                </Text>
              );
            })
          ) : (
            <Text color={theme.color('yellow')}>{'?'.repeat(channels.length)}</Text>
          )}
          {showFound ? (
            <Text color={theme.color(l.found ? 'green' : 'yellow')}>{l.found ? ' found  ' : ' unknown'}</Text>
          ) : null}
          {cell(`${l.latencyMs}ms`, 6, 'right')}
        </Text>
      ))}
    </Panel>
  );
}
