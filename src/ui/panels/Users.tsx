import { Text } from 'ink';
import { useStore } from 'zustand';
import { useShallow } from 'zustand/react/shallow';
import { cell } from '../format.js';
import { innerRows, innerWidth, Panel, type PanelProps } from './Panel.js';

/** The users and their channel states; the selected one highlighted and kept in view. */
export function Users({ store, theme, width, height }: PanelProps) {
  const { users, selected, channels, focused } = useStore(
    store,
    useShallow((s) => ({ users: s.users, selected: s.selected, channels: s.channels, focused: s.focus === 'users' })),
  );
  const rows = Math.max(1, innerRows(height) - 1);
  const first = Math.max(0, Math.min(selected - Math.floor(rows / 2), users.length - rows));
  const w = innerWidth(width);
  const chW = channels.length * 4;
  const nameW = Math.max(4, w - chW - 2);
  return (
    <Panel
      title={`Users (${users.length})`}
      width={width}
      height={height}
      focused={focused}
      accent={focused ? theme.color('cyan') : undefined}
    >
      <Text dimColor wrap="truncate-end">
        {cell('user', nameW)} {channels.map((c) => cell(c.label.slice(0, 3), 4)).join('')}
      </Text>
      {users.slice(first, first + rows).map((u, i) => {
        const isSelected = first + i === selected;
        return (
          <Text key={u.id} wrap="truncate-end" inverse={isSelected} bold={isSelected}>
            {isSelected ? '▸' : ' '}
            {cell(`${u.id} ${u.name}`, nameW)}{' '}
            {channels.map((c) => {
              const on = u.prefs[c.name] === 'on';
              const noAddress = !u.reachable[c.name];
              return (
                <Text key={c.name} color={theme.color(on ? (noAddress ? 'yellow' : 'green') : 'gray')}>
                  {cell(on ? (noAddress ? 'on*' : 'on') : 'off', 4)}
                </Text>
              );
            })}
          </Text>
        );
      })}
    </Panel>
  );
}
