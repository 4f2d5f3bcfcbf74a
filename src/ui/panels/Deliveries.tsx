import { Text } from 'ink';
import { useStore } from 'zustand';
import { cell } from '../format.js';
import { STATUS_COLOR } from '../theme.js';
import { innerRows, innerWidth, Panel, type PanelProps } from './Panel.js';

const STATUS_TEXT: Record<string, string> = { deadletter: 'dead letter' };

/** Channel, recipient, message text, status with reason. */
export function Deliveries({ store, theme, width, height }: PanelProps) {
  const rows = innerRows(height);
  const deliveries = useStore(store, (s) => s.snapshot.deliveries);
  const w = innerWidth(width);
  const narrow = w < 60;
  const statusW = narrow ? 12 : 22;
  const channelW = 7;
  const toW = narrow ? 10 : Math.min(24, Math.max(8, Math.floor(w / 4)));
  const textW = Math.max(0, w - statusW - channelW - toW - 3);
  return (
    <Panel title="Deliveries" width={width} height={height}>
      {deliveries.slice(0, rows).map((d, i) => {
        // Narrow: a skip shows only its reason (opted-out, no-address, unknown-user); the colour says skipped.
        const status =
          d.status === 'sent'
            ? 'sent'
            : narrow && d.status === 'skipped' && d.reason
              ? d.reason
              : `${STATUS_TEXT[d.status] ?? d.status}${d.reason && !narrow ? ` ${d.reason}` : ''}`;
        return (
          <Text key={i} wrap="truncate-end">
            {cell(d.channel, channelW)} {cell(d.address || d.userId, toW)}{' '}
            <Text color={theme.color(STATUS_COLOR[d.status])}>{cell(status, statusW)}</Text>{' '}
            <Text dimColor>{cell(d.text, textW)}</Text>
          </Text>
        );
      })}
    </Panel>
  );
}
