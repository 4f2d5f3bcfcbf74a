import { Box, Text } from 'ink';
import { cell } from '../format.js';
import type { Theme } from '../theme.js';

/** One line of a view: its text (sanitized and cut to the width when drawn) and how it looks. */
export interface ViewLine {
  text: string;
  color?: string | undefined;
  bold?: boolean;
  dim?: boolean;
  inverse?: boolean;
}

/** Where a view starts, given the line asked for: never past the last screenful. */
export const clampScroll = (scroll: number, lines: number, rows: number): number =>
  Math.max(0, Math.min(scroll, lines - rows));

/** A bordered view over the panels: a title, then the lines that fit from `scroll`, and where it is. */
export function ScrollView(props: {
  title: string;
  lines: readonly ViewLine[];
  /** A line kept on top while the lines scroll (column headings). */
  header?: ViewLine | undefined;
  scroll: number;
  theme: Theme;
  width: number;
  height: number;
}) {
  const w = Math.max(0, props.width - 4);
  const rows = Math.max(0, props.height - 3 - (props.header ? 1 : 0));
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
        <Text
          key={i}
          wrap="truncate-end"
          color={props.theme.color(l.color)}
          bold={l.bold}
          dimColor={l.dim}
          inverse={l.inverse}
        >
          {cell(l.text, w).trimEnd()}
        </Text>
      ))}
    </Box>
  );
}
