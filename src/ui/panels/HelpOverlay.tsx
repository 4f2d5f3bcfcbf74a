import { Box, Text } from 'ink';
import { cell } from '../format.js';
import type { KeyBinding } from '../keymap.js';
import type { Theme } from '../theme.js';

/** Every key from the keymap, and where the logs go. */
export function HelpOverlay(props: {
  bindings: readonly KeyBinding[];
  logFile: string;
  theme: Theme;
  width: number;
  height: number;
}) {
  const keyW = 10;
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
      <Text bold>Keys</Text>
      {props.bindings.map((b) => (
        <Text key={b.keys + b.description} wrap="truncate-end">
          <Text color={props.theme.color('cyan')}>{cell(b.keys, keyW)}</Text>
          {b.description}
        </Text>
      ))}
      <Text> </Text>
      <Text wrap="truncate-end">{`Logs (kafkajs and the app): ${props.logFile}`}</Text>
      <Text dimColor wrap="truncate-end">
        Press Esc or ? to close.
      </Text>
    </Box>
  );
}
