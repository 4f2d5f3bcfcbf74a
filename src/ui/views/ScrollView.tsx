import { Box, Text } from 'ink';
import { cell } from '../format.js';
import type { DashboardStore, Loadable } from '../store.js';
import type { Theme } from '../theme.js';

/**
 * One line of a view: its text (sanitized and cut to the width when drawn) and how it looks; `lead`, a
 * cell of its own width and colour before the text (a key in the help).
 */
/** What each full-screen view is given: the store it reads and the space it has. */
export interface ViewProps {
  store: DashboardStore;
  theme: Theme;
  width: number;
  height: number;
}

export interface ViewLine {
  text: string;
  lead?: { text: string; width: number; color?: string | undefined } | undefined;
  color?: string | undefined;
  bold?: boolean;
  dim?: boolean;
  inverse?: boolean;
}

/** Where a view starts, given the line asked for: never past the last screenful. */
/**
 * The line a list view shows instead of its rows: reading, its error, or `empty` when there are none;
 * none once there are rows.
 */
export function statusLines(list: Loadable, rows: number, empty: string): ViewLine[] {
  if (list.state === 'error') return [{ text: list.message, color: 'red' }];
  if (list.state !== 'ready') return [{ text: list.message || 'reading…', dim: true }];
  return rows === 0 ? [{ text: empty, dim: true }] : [];
}

/** A list view's cursor moved by `delta`, kept on its rows. */
export const movedCursor = (cursor: number, delta: number, rows: number): number =>
  Math.max(0, Math.min(Math.max(0, rows - 1), cursor + delta));

export const clampScroll = (scroll: number, lines: number, rows: number): number =>
  Math.max(0, Math.min(scroll, lines - rows));

/**
 * A bordered view over the panels: a title, then the lines that fit from `scroll`, and where it is; a
 * footer line, if given, stays under them.
 */
export function ScrollView(props: {
  title: string;
  lines: readonly ViewLine[];
  /** A line kept on top while the lines scroll (column headings). */
  header?: ViewLine | undefined;
  /** A line kept at the bottom (how to close the view). */
  footer?: ViewLine | undefined;
  scroll: number;
  theme: Theme;
  width: number;
  height: number;
}) {
  const w = Math.max(0, props.width - 4);
  const rows = Math.max(0, props.height - 3 - (props.header ? 1 : 0) - (props.footer ? 1 : 0));
  const first = clampScroll(props.scroll, props.lines.length, rows);
  const shown = props.lines.slice(first, first + rows);
  const where =
    props.lines.length > rows ? ` · lines ${first + 1}-${first + shown.length} of ${props.lines.length} (↑↓)` : '';
  return (
    <Box
      flexDirection="column"
      width={props.width}
      height={props.height}
      borderStyle="double"
      borderColor={props.theme.color('cyan')}
      paddingX={1}
      overflow="hidden"
    >
      <Text bold wrap="truncate-end">
        {cell(`${props.title}${where}`, w).trimEnd()}
      </Text>
      {props.header ? (
        <Text wrap="truncate-end" dimColor>
          {cell(props.header.text, w).trimEnd()}
        </Text>
      ) : null}
      {shown.map((l, i) => (
        <Line key={i} line={l} width={w} theme={props.theme} />
      ))}
      {props.footer ? <Line line={props.footer} width={w} theme={props.theme} /> : null}
    </Box>
  );
}

function Line({ line, width, theme }: { line: ViewLine; width: number; theme: Theme }) {
  const { lead } = line;
  return (
    <Text
      wrap="truncate-end"
      color={theme.color(line.color)}
      bold={line.bold}
      dimColor={line.dim}
      inverse={line.inverse}
    >
      {lead ? (
        <>
          <Text color={theme.color(lead.color)}>{cell(lead.text, lead.width)}</Text>
          {cell(line.text, Math.max(0, width - lead.width)).trimEnd()}
        </>
      ) : (
        cell(line.text, width).trimEnd()
      )}
    </Text>
  );
}
