import { Box, Text } from 'ink';
import { Fragment, type ReactNode } from 'react';
import { useStore } from 'zustand';
import { useShallow } from 'zustand/react/shallow';
import { cell } from '../format.js';
import { Command } from '../keys/commands.js';
import { CAP_STEPS, capsRowOf, DIGEST_STEPS, type PrefsCell } from '../store.js';
import type { Theme } from '../theme.js';
import type { ViewProps } from './ScrollView.js';
import type { ViewDescriptor } from './view.js';

/** What a cell says: `on`, `off`, `def·on` (unset: the type's default gives on), `required`. */
export function cellText(c: PrefsCell): string {
  if (c.choice === 'default') return `def·${c.def}`;
  return c.choice;
}

function cellColor(c: PrefsCell | { choice: 'on' | 'off' }, theme: Theme): string | undefined {
  if (c.choice === 'required') return theme.color('magenta');
  if (c.choice === 'on') return theme.color('green');
  return undefined;
}

/**
 * Enter on a Users row: the user's `prefs:<id>` as a grid, the channel switches on top, then each event
 * type × channel (on / off / def·on or def·off / required), the caps (a channel each) and the digest
 * windows (a digestible type each), then the zone, the windows and whether the user is in quiet hours
 * now. ↑↓←→ move the cell cursor, space changes the cell in Redis at once.
 */
export function PrefsEditorView({ store, theme, width, height }: ViewProps) {
  const { e, channels } = useStore(
    store,
    useShallow((s) => ({ e: s.prefsEditor, channels: s.channels })),
  );
  const w = Math.max(0, width - 4);
  const rows = Math.max(0, height - 3);
  const who = `${e.userId}${e.name ? ` (${e.name})` : ''}`;
  const title = `Preferences of ${who} · ↑↓←→ move · space toggle · Esc close`;
  const labels = [...e.grid.map((r) => r.type), ...e.digests.map((d) => `digest ${d.type}`)];
  const labelW = Math.max(10, Math.min(24, Math.max(...labels.map((l) => l.length), 7) + 2));
  const cellW = Math.max(4, Math.min(12, Math.floor((w - labelW) / Math.max(1, channels.length))));
  const lines: ReactNode[] = [];
  if (e.state === 'loading' && e.grid.length === 0) {
    lines.push(
      <Text key="loading" dimColor>
        {cell(e.message || `reading prefs:${e.userId}…`, w).trimEnd()}
      </Text>,
    );
  } else if (e.state === 'error') {
    lines.push(
      <Text key="error" color={theme.color('red')} wrap="truncate-end">
        {cell(e.message, w).trimEnd()}
      </Text>,
    );
  }
  if (e.grid.length > 0 || e.channels.length > 0) {
    lines.push(
      <Text key="head" dimColor wrap="truncate-end">
        {cell('', labelW)}
        {channels.map((c) => cell(c.name, cellW)).join('')}
      </Text>,
    );
    const cursorAt = (row: number, col: number): boolean => e.row === row && e.col === col;
    lines.push(
      <Text key="channels" wrap="truncate-end">
        {cell('channel', labelW)}
        {e.channels.map((c, i) => (
          <Fragment key={c.name}>
            <Text color={cellColor({ choice: c.value }, theme)} dimColor={c.value === 'off'} inverse={cursorAt(0, i)}>
              {cell(c.value, cellW - 1)}
            </Text>{' '}
          </Fragment>
        ))}
      </Text>,
    );
    e.grid.forEach((r, ri) => {
      lines.push(
        <Text key={`type-${r.type}`} wrap="truncate-end">
          {cell(r.type, labelW)}
          {r.cells.map((c, ci) => (
            <Fragment key={c.channel}>
              <Text
                color={cellColor(c, theme)}
                bold={c.choice === 'required'}
                dimColor={c.choice === 'default' || c.choice === 'off'}
                inverse={cursorAt(ri + 1, ci)}
              >
                {cell(cellText(c), cellW - 1)}
              </Text>{' '}
            </Fragment>
          ))}
        </Text>,
      );
    });
    // The caps, a channel each, then a digest window per digestible type: space steps through a few values.
    const capsRow = capsRowOf(e);
    lines.push(
      <Text key="caps" wrap="truncate-end">
        {cell('cap', labelW)}
        {e.caps.map((c, ci) => (
          <Fragment key={c.channel}>
            <Text
              color={c.value ? theme.color('yellow') : undefined}
              dimColor={!c.value}
              inverse={cursorAt(capsRow, ci)}
            >
              {cell(c.value || 'none', cellW - 1)}
            </Text>{' '}
          </Fragment>
        ))}
      </Text>,
    );
    e.digests.forEach((d, di) => {
      const label = `digest ${d.type}`;
      lines.push(
        <Text key={`digest-${d.type}`} wrap="truncate-end">
          {cell(label, labelW)}
          <Text
            color={d.value ? theme.color('yellow') : undefined}
            dimColor={!d.value}
            inverse={e.row === capsRow + 1 + di}
          >
            {cell(d.value || 'none', cellW - 1)}
          </Text>
        </Text>,
      );
    });
    lines.push(<Text key="gap"> </Text>);
    const info = (key: string, label: string, text: string, color?: string) =>
      lines.push(
        <Text key={key} wrap="truncate-end" color={theme.color(color)}>
          {cell(label, labelW)}
          {cell(text, Math.max(0, w - labelW)).trimEnd()}
        </Text>,
      );
    info('tz', 'zone', e.tz);
    info('quiet', 'quiet', e.quiet || 'none');
    info('now', 'now', e.quietNow, e.inQuiet ? 'cyan' : undefined);
    if (e.invalid.length > 0)
      info('invalid', 'invalid', `prefs-invalid: ${e.invalid.join(', ')} (ignored by the pipeline)`, 'yellow');
    for (const [key, text] of [
      [
        'legend',
        'space: channel on ↔ off · type default → off → on → default · def·on/def·off: unset, the type’s default · required: always sent',
      ],
      [
        'legend-rules',
        `space: cap ${['none', ...CAP_STEPS, 'none'].join(' → ')} · digest ${['none', ...DIGEST_STEPS, 'none'].join(' → ')} · other values: eventstream-tui prefs set <user> cap.<channel> 5/2h`,
      ],
    ] as const) {
      lines.push(
        <Text key={key} dimColor wrap="wrap">
          {text}
        </Text>,
      );
    }
  }
  return (
    <Box
      flexDirection="column"
      width={width}
      height={height}
      borderStyle="double"
      borderColor={theme.color('cyan')}
      paddingX={1}
      overflow="hidden"
    >
      <Text bold wrap="truncate-end">
        {cell(title, w).trimEnd()}
      </Text>
      {lines.slice(0, rows)}
    </Box>
  );
}

export const prefsEditorView: ViewDescriptor<'prefs'> = {
  id: 'prefs',
  title: "the selected user's preferences editor: channels, type × channel, caps, digest windows, zone, quiet hours",
  opens: Command.OpenDetail,
  component: PrefsEditorView,
  // ↑↓: the row (the channel switches, each event type, the caps, each digest window); ←→: the channel.
  move: (s, delta) => {
    const e = s.prefsEditor;
    const last = e.caps.length > 0 ? capsRowOf(e) + e.digests.length : e.grid.length;
    const row = Math.max(0, Math.min(last, e.row + delta));
    return { prefsEditor: { ...e, row } };
  },
  moveAcross: (s, delta) => {
    const e = s.prefsEditor;
    const col = Math.max(0, Math.min(Math.max(0, e.channels.length - 1), e.col + delta));
    return { prefsEditor: { ...e, col } };
  },
  close: () => ({ view: 'main', scroll: 0 }),
};
