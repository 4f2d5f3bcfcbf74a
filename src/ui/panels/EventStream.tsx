import { Text } from 'ink';
import { useStore } from 'zustand';
import { useShallow } from 'zustand/react/shallow';
import { cell, idCell, clock } from '../format.js';
import { panelRows } from '../store.js';
import { innerRows, innerWidth, Panel, type PanelProps } from './Panel.js';

/** Consumed events, newest on top, under a header: time, type, user, partition@offset (p@offset), payload summary. */
export function EventStream({ store, theme, width, height }: PanelProps) {
  const rows = innerRows(height);
  const { stream, cursor, focused, newRows, filter } = useStore(
    store,
    useShallow((s) => ({
      stream: panelRows(s, 'stream'),
      cursor: s.cursor.stream,
      focused: s.focus === 'stream',
      newRows: s.newRows.stream,
      filter: s.filter,
    })),
  );
  const types = useStore(store, (s) => s.eventTypes);
  const colorOf = (type: string): string | undefined => theme.color(types.find((t) => t.type === type)?.color);
  const w = innerWidth(width);
  const showTime = w >= 45;
  const typeW = 14;
  const userW = Math.min(14, Math.max(8, Math.floor(w / 7)));
  const posW = w >= 45 ? 9 : 7;
  const restW = Math.max(0, w - (showTime ? 9 : 0) - typeW - userW - posW - 3);
  const shown = Math.max(0, rows - 1);
  // The window follows the cursor: the row under it is always on screen.
  const first = Math.max(0, cursor - shown + 1);
  const state =
    cursor > 0
      ? `held, ${newRows} new`
      : stream.length > 0
        ? 'newest first'
        : filter
          ? 'no event matches the filter'
          : 'waiting for events';
  return (
    <Panel
      title={`Event stream (${state})`}
      width={width}
      height={height}
      focused={focused}
      accent={focused ? theme.color('cyan') : undefined}
    >
      <Text dimColor wrap="truncate-end">
        {showTime ? cell('time', 9) : ''}
        {cell('type', typeW)} {cell('user', userW)} {cell(posW >= 8 ? 'p@offset' : 'p@off', posW)}{' '}
        {cell('summary', restW)}
      </Text>
      {stream.slice(first, first + shown).map((e, i) => (
        <Text key={i} wrap="truncate-end" inverse={focused && first + i === cursor}>
          {showTime ? `${clock(e.at)} ` : ''}
          <Text color={colorOf(e.type)}>{cell(e.type, typeW)}</Text> {idCell(e.userId, userW)}{' '}
          {cell(`${e.partition}@${e.offset}`, posW)} <Text dimColor>{cell(e.summary, restW)}</Text>
        </Text>
      ))}
    </Panel>
  );
}
