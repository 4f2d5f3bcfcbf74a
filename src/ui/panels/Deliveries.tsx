import { Text } from 'ink';
import { useStore } from 'zustand';
import { useShallow } from 'zustand/react/shallow';
import { cell } from '../format.js';
import { panelRows } from '../store.js';
import { STATUS_COLOR } from '../theme.js';
import { innerRows, innerWidth, Panel, type PanelProps } from './Panel.js';

/** Channel, recipient, message text, status with reason. */
export function Deliveries({ store, theme, width, height }: PanelProps) {
  const rows = innerRows(height);
  const { deliveries, cursor, focused, newRows, filter } = useStore(
    store,
    useShallow((s) => ({
      deliveries: panelRows(s, 'deliveries'),
      cursor: s.cursor.deliveries,
      focused: s.focus === 'deliveries',
      newRows: s.newRows.deliveries,
      filter: s.filter,
    })),
  );
  const first = Math.max(0, cursor - rows + 1);
  const title =
    cursor > 0
      ? `Deliveries (held, ${newRows} new)`
      : deliveries.length === 0 && filter
        ? 'Deliveries (none matches the filter)'
        : 'Deliveries';
  const w = innerWidth(width);
  const narrow = w < 60;
  const statusW = narrow ? 12 : 22;
  const channelW = 7;
  const toW = narrow ? 10 : Math.min(24, Math.max(8, Math.floor(w / 4)));
  const textW = Math.max(0, w - statusW - channelW - toW - 3);
  return (
    <Panel
      title={title}
      width={width}
      height={height}
      focused={focused}
      accent={focused ? theme.color('cyan') : undefined}
    >
      {deliveries.slice(first, first + rows).map((d, i) => {
        // Narrow: a skip shows only its reason (opted-out, no-address, unknown-user); the colour says skipped.
        const status =
          d.status === 'sent'
            ? d.deferred
              ? 'sent (deferred)'
              : 'sent'
            : d.status === 'deferred'
              ? 'deferred'
              : narrow && d.status === 'skipped' && d.reason
                ? d.reason
                : d.status === 'deadletter'
                  ? 'dead letter' // its reason leads the text: the status cell is too narrow for `schema …`
                  : `${d.status}${d.reason && !narrow ? ` ${d.reason}` : ''}`;
        return (
          <Text key={i} wrap="truncate-end" inverse={focused && first + i === cursor}>
            {cell(d.channel, channelW)} {cell(d.address || d.userId, toW)}{' '}
            <Text color={theme.color(STATUS_COLOR[d.status])}>{cell(status, statusW)}</Text>{' '}
            <Text dimColor>
              {cell(
                d.status === 'deadletter' && d.reason
                  ? `${d.reason} ${d.text}`
                  : d.dueLabel !== undefined
                    ? `until ${d.dueLabel} · ${d.text}` // reads on: `deferred until 07:00 Europe/Paris`
                    : d.status === 'digested' && d.digestId !== undefined
                      ? `→ ${d.digestId} · ${d.text}` // reads on: `digested → digest:…`
                      : d.detail !== undefined
                        ? `${d.detail} · ${d.text}` // `skipped throttled`: `3 of 3 in the last hour`
                        : d.text,
                textW,
              )}
            </Text>
          </Text>
        );
      })}
    </Panel>
  );
}
