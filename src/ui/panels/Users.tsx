import { Text } from 'ink';
import { useStore } from 'zustand';
import { useShallow } from 'zustand/react/shallow';
import { cell, fit, idCell } from '../format.js';
import type { DashboardState } from '../store.js';
import { innerRows, innerWidth, Panel, type PanelProps } from './Panel.js';

const count = (n: number): string => n.toLocaleString('en-US');

/** The title: how many users, or what a search found. */
export function usersTitle(s: Pick<DashboardState, 'userTotal' | 'userSearch' | 'usersProblem'>): string {
  if (s.usersProblem) return 'Users: the key "users" is not a set';
  const total = s.userTotal === null ? '…' : count(s.userTotal);
  const search = s.userSearch;
  if (!search) return `Users (${total})`;
  const query = `"${search.query}"`;
  if (search.state === 'searching') return `Users ${query}: searching… ${count(search.matches)} found of ${total}`;
  if (search.capped) return `Users ${query}: the first ${count(search.matches)} matches of ${total}`;
  return `Users ${query}: ${count(search.matches)} match${search.matches === 1 ? '' : 'es'} of ${total}  (Esc clears)`;
}

/** The id then the name in `width` columns: the name gives way first, then the id's beginning. */
function userCell(id: string, name: string, width: number): string {
  const shown = fit(id, width + 1);
  if (shown.width + 2 > width) return idCell(id, width);
  return `${shown.text} ${cell(name, width - shown.width - 1)}`;
}

/**
 * The users and their channel states (☾: in quiet hours now, see UsersFeed): a page of the list around the selection (the rows are read as
 * it moves, see UsersFeed), the selected one highlighted and kept in view.
 */
export function Users({ store, theme, width, height }: PanelProps) {
  const { users, usersFrom, userCount, userTotal, userSearch, usersProblem, selected, channels, focused } = useStore(
    store,
    useShallow((s) => ({
      users: s.users,
      usersFrom: s.usersFrom,
      userCount: s.userCount,
      userTotal: s.userTotal,
      userSearch: s.userSearch,
      usersProblem: s.usersProblem,
      selected: s.selected,
      channels: s.channels,
      focused: s.focus === 'users',
    })),
  );
  const rows = Math.max(1, innerRows(height) - 1);
  const first = Math.max(0, Math.min(selected - Math.floor(rows / 2), userCount - rows));
  const w = innerWidth(width);
  const chW = channels.length * 4;
  const nameW = Math.max(4, w - chW - 2);
  const shown = Array.from({ length: Math.max(0, Math.min(rows, userCount - first)) }, (_, i) => first + i);
  return (
    <Panel
      title={cell(usersTitle({ userTotal, userSearch, usersProblem }), w).trimEnd()}
      width={width}
      height={height}
      focused={focused}
      accent={focused ? theme.color('cyan') : undefined}
    >
      <Text dimColor wrap="truncate-end">
        {cell(nameW >= 18 ? 'user   ☾ quiet now' : 'user', nameW)}{' '}
        {channels.map((c) => cell(c.label.slice(0, 3), 4)).join('')}
      </Text>
      {shown.map((n) => {
        const isSelected = n === selected;
        const u = users[n - usersFrom];
        const mark = isSelected ? '▸' : ' ';
        if (!u) {
          return (
            <Text key={`row-${n}`} dimColor wrap="truncate-end" inverse={isSelected}>
              {mark}
              {cell('…', nameW)}
            </Text>
          );
        }
        if (u.broken || u.missing) {
          const why = u.broken ?? `no hash user:${u.id}`;
          return (
            <Text key={`row-${n}`} wrap="truncate-end" inverse={isSelected} bold={isSelected}>
              {mark}
              {cell(u.id, Math.min(nameW, 16))}{' '}
              <Text color={theme.color(u.broken ? 'red' : 'gray')}>
                {cell(why, Math.max(1, w - Math.min(nameW, 16) - 2))}
              </Text>
            </Text>
          );
        }
        return (
          <Text key={`row-${n}`} wrap="truncate-end" inverse={isSelected} bold={isSelected}>
            {mark}
            {u.quietUntil ? (
              <>
                {userCell(u.id, u.name, nameW - 2)}
                <Text color={theme.color('cyan')}> ☾</Text>
              </>
            ) : (
              userCell(u.id, u.name, nameW)
            )}{' '}
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
