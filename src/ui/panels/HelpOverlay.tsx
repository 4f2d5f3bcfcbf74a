import { Box, Text } from 'ink';
import { cell } from '../format.js';
import type { KeyBinding } from '../keymap.js';
import type { Theme } from '../theme.js';
import { clampScroll } from '../views/ScrollView.js';

/** Every key from the keymap, and where the logs go; ↑↓ scroll it where the terminal is short. */
export function HelpOverlay(props: {
  bindings: readonly KeyBinding[];
  logFile: string;
  theme: Theme;
  width: number;
  height: number;
  scroll?: number;
}) {
  const keyW = 10;
  const w = Math.max(0, props.width - 4);
  const lines: { keys: string; text: string }[] = [
    ...props.bindings.map((b) => ({ keys: b.keys, text: b.description })),
    { keys: '', text: '' },
    { keys: '', text: `Logs (kafkajs and the app): ${props.logFile}` },
  ];
  const rows = Math.max(1, props.height - 4);
  const first = clampScroll(props.scroll ?? 0, lines.length, rows);
  const more =
    lines.length > rows ? ` · lines ${first + 1}-${Math.min(lines.length, first + rows)} of ${lines.length} (↑↓)` : '';
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
        {cell(`Keys${more}`, w).trimEnd()}
      </Text>
      {lines.slice(first, first + rows).map((l, i) => (
        <Text key={i} wrap="truncate-end">
          <Text color={props.theme.color('cyan')}>{cell(l.keys, keyW)}</Text>
          {cell(l.text, Math.max(0, w - keyW)).trimEnd()}
        </Text>
      ))}
      <Text dimColor wrap="truncate-end">
        Press Esc or ? to close.
      </Text>
    </Box>
  );
}
