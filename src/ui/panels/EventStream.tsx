import { Text } from 'ink';
import { useStore } from 'zustand';
import { cell, clock } from '../format.js';
import { innerRows, innerWidth, Panel, type PanelProps } from './Panel.js';

/** Consumed events, newest on top, under a header: time, type, user, partition@offset (p@offset), payload summary. */
export function EventStream({ store, theme, width, height }: PanelProps) {
  const rows = innerRows(height);
  const stream = useStore(store, (s) => s.snapshot.stream);
  const types = useStore(store, (s) => s.eventTypes);
  const colorOf = (type: string): string | undefined => theme.color(types.find((t) => t.type === type)?.color);
  const w = innerWidth(width);
  const showTime = w >= 45;
  const typeW = 14;
  const userW = Math.min(14, Math.max(8, Math.floor(w / 7)));
  const posW = w >= 45 ? 9 : 7;
  const restW = Math.max(0, w - (showTime ? 9 : 0) - typeW - userW - posW - 3);
  return (
    <Panel
      title={`Event stream (${stream.length > 0 ? 'newest first' : 'waiting for events'})`}
      width={width}
      height={height}
    >
      <Text dimColor wrap="truncate-end">
        {showTime ? cell('time', 9) : ''}
        {cell('type', typeW)} {cell('user', userW)} {cell(posW >= 8 ? 'p@offset' : 'p@off', posW)}{' '}
        {cell('summary', restW)}
      </Text>
      {stream.slice(0, Math.max(0, rows - 1)).map((e, i) => (
        <Text key={i} wrap="truncate-end">
          {showTime ? `${clock(e.at)} ` : ''}
          <Text color={colorOf(e.type)}>{cell(e.type, typeW)}</Text> {cell(e.userId, userW)}{' '}
          {cell(`${e.partition}@${e.offset}`, posW)} <Text dimColor>{cell(e.summary, restW)}</Text>
        </Text>
      ))}
    </Panel>
  );
}
